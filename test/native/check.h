// A tiny dependency-free test framework for netlite's native tests.
//
//   NETLITE_TEST(name) { CHECK(x == 1); CHECK_NEAR(y, 2.0, 1e-6); }
//
// Tests register themselves; test/native/main.cc runs them all. A failed check
// prints file:line and the expression, counts against the current test and
// lets the test continue.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace netlite_test {

struct TestCase {
  const char* name;
  void (*fn)();
};

inline std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

// Failures recorded by the test currently running.
inline int& current_failures() {
  static int failures = 0;
  return failures;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back(TestCase{name, fn}); }
};

inline void report_failure(const char* file, int line, const std::string& what) {
  ++current_failures();
  std::printf("  %s:%d: FAILED: %s\n", file, line, what.c_str());
}

inline bool check_near(double a, double b, double tol, const char* ea, const char* eb, const char* file, int line) {
  const double diff = std::fabs(a - b);
  if (!(diff <= tol)) {  // also fails on NaN
    char buf[512];
    std::snprintf(buf, sizeof buf, "CHECK_NEAR(%s, %s): %.9g vs %.9g, |diff| %.3g > %.3g", ea, eb, a, b, diff, tol);
    report_failure(file, line, buf);
    return false;
  }
  return true;
}

}  // namespace netlite_test

#define NETLITE_TEST_CAT2(a, b) a##b
#define NETLITE_TEST_CAT(a, b) NETLITE_TEST_CAT2(a, b)

#define NETLITE_TEST(name)                                                                 \
  static void netlite_test_fn_##name();                                                    \
  static ::netlite_test::Registrar NETLITE_TEST_CAT(netlite_test_reg_, __LINE__)(#name,    \
                                                                                 &netlite_test_fn_##name); \
  static void netlite_test_fn_##name()

// Evaluates cond; on failure records it and evaluates to false.
#define CHECK(cond) \
  ((cond) ? true : (::netlite_test::report_failure(__FILE__, __LINE__, "CHECK(" #cond ")"), false))

#define CHECK_NEAR(a, b, tol) \
  ::netlite_test::check_near(double(a), double(b), double(tol), #a, #b, __FILE__, __LINE__)

// CHECK with a printf-style explanation printed on failure.
#define CHECK_MSG(cond, ...)                                             \
  ((cond) ? true : ([&] {                                                \
    char netlite_test_buf_[1024];                                        \
    std::snprintf(netlite_test_buf_, sizeof netlite_test_buf_, __VA_ARGS__); \
    ::netlite_test::report_failure(__FILE__, __LINE__, std::string("CHECK(" #cond "): ") + netlite_test_buf_); \
  }(), false))
