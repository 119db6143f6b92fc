// The runner behind tg_test.h: runs every registered test, or those of the suite named by the
// first argument, and reports each failed check.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tg_test.h"

namespace tgtest {
namespace {

struct Case {
  const char* suite;
  const char* name;
  TestFn fn;
};

std::vector<Case>& registry() {
  static std::vector<Case> r;
  return r;
}

int g_failures = 0;  // failed checks of the running test

}  // namespace

Register::Register(const char* suite, const char* name, TestFn fn) { registry().push_back({suite, name, fn}); }

void fail(const char* file, int line, const std::string& what) {
  ++g_failures;
  std::fprintf(stderr, "  %s:%d: failed: %s\n", file, line, what.c_str());
}

}  // namespace tgtest

int main(int argc, char** argv) {
  using namespace tgtest;
  const std::string only = argc > 1 ? argv[1] : "";
  int run = 0, failed = 0;
  for (const Case& c : registry()) {
    if (!only.empty() && only != c.suite) continue;
    ++run;
    g_failures = 0;
    try {
      c.fn();
    } catch (const Abort&) {
      // the failure is recorded already
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
    } catch (...) { fail(__FILE__, __LINE__, "unexpected exception of unknown type"); }
    std::printf("[%s] %s.%s\n", g_failures ? "FAIL" : " ok ", c.suite, c.name);
    if (g_failures) ++failed;
  }
  if (run == 0) {
    std::fprintf(stderr, "no test in suite '%s'\n", only.c_str());
    return 2;
  }
  std::printf("%d test(s), %d failed\n", run, failed);
  return failed ? 1 : 0;
}
