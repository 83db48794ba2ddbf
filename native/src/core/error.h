// Internal error type. Engine code throws netlite::Error; every C entry point in
// api/ catches it (and std::bad_alloc, and anything else) and turns it into a
// netlite_status plus a thread-local message. Nothing thrown here crosses netlite.h.
#pragma once

#include <cstdint>
#include <exception>
#include <sstream>
#include <string>
#include <utility>

namespace netlite {

// Mirrors netlite_status in netlite.h (same numeric values).
enum class StatusCode : int {
  Ok = 0,
  InvalidArgument = 1,
  InvalidModel = 2,
  Unsupported = 3,
  ShapeMismatch = 4,
  TypeMismatch = 5,
  OutOfMemory = 6,
  Io = 7,
  NotFound = 8,
  Runtime = 9,
  Internal = 10,
};

class Error : public std::exception {
 public:
  Error(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code() const noexcept { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& message() const noexcept { return message_; }

 private:
  StatusCode code_;
  std::string message_;
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <typename T, typename... Rest>
void append_all(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append_all(os, rest...);
}
}  // namespace detail

// Builds a message from streamable parts: fail(StatusCode::InvalidModel, "node '", name, "': ...").
template <typename... Parts>
[[noreturn]] void fail(StatusCode code, const Parts&... parts) {
  std::ostringstream os;
  detail::append_all(os, parts...);
  throw Error(code, os.str());
}

}  // namespace netlite

// Internal invariant check: a failure is a netlite bug, reported as Internal, never an abort.
#define NETLITE_CHECK(cond, ...)                                                    \
  do {                                                                              \
    if (!(cond)) ::netlite::fail(::netlite::StatusCode::Internal, "internal check failed: " #cond " ", ##__VA_ARGS__); \
  } while (0)
