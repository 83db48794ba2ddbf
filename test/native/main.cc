// Runs every registered native test (optionally only those whose name contains
// argv[1]), one line per test, then a final "N passed, M failed" line.
//
// NETLITE_TEST_QUEUE_DIR=dir: several processes of this binary share the tests. Each
// claims a test by creating dir/<index> exclusively and runs only what it claimed, so
// n processes started together run every test once, each taking the next free one
// (CI runs its slow sanitizer binary as two such processes). The directory must exist
// and be empty when they start.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "check.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  const char* queue = std::getenv("NETLITE_TEST_QUEUE_DIR");
  if (queue != nullptr && *queue == '\0') queue = nullptr;
  int passed = 0, failed = 0, index = -1;
  for (const netlite_test::TestCase& t : netlite_test::registry()) {
    if (filter != nullptr && std::strstr(t.name, filter) == nullptr) continue;
    ++index;
    if (queue != nullptr) {
      // "x": fail if the file exists (C11 exclusive create), so one process wins each test.
      const std::string claim = std::string(queue) + "/" + std::to_string(index);
      std::FILE* f = std::fopen(claim.c_str(), "wx");
      if (f == nullptr) continue;
      std::fclose(f);
    }
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
