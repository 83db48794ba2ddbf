// Runs every registered native test (optionally only those whose name contains
// argv[1]), one line per test, then a final "N passed, M failed" line.
#include <chrono>
#include <cstdio>
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const netlite_test::TestCase& t : netlite_test::registry()) {
    if (filter != nullptr && std::strstr(t.name, filter) == nullptr) continue;
    netlite_test::current_failures() = 0;
    const auto start = std::chrono::steady_clock::now();
    t.fn();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const int f = netlite_test::current_failures();
    if (f == 0) {
      ++passed;
      std::printf("PASS %s (%.1f ms)\n", t.name, ms);
    } else {
      ++failed;
      std::printf("FAIL %s (%d failed checks)\n", t.name, f);
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
