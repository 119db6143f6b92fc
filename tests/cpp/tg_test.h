// A small unit-test runner for tapegrad's C++ core (the pieces Python cannot reach directly).
// Tests register themselves with TEST(suite, name); tg_cpp_tests [suite] runs them (ctest runs
// one suite per entry, CMakeLists.txt: TAPEGRAD_BUILD_TESTS). A failed CHECK* records the
// failure and the test goes on; a failed REQUIRE ends the test. The exit status is non-zero
// when a check failed or when no test matched the suite named.
#pragma once
#include <cstring>
#include <sstream>
#include <string>

namespace tgtest {

using TestFn = void (*)();
// Adds a test to the registry (called by the static objects TEST defines).
struct Register {
  Register(const char* suite, const char* name, TestFn fn);
};
// Records a failed check of the running test, with where it happened.
void fail(const char* file, int line, const std::string& what);
// Thrown by REQUIRE to end the running test.
struct Abort {};

template <class A, class B>
std::string show_pair(const char* ea, const char* eb, const A& a, const B& b) {
  std::ostringstream os;
  os << ea << " == " << eb << " (" << a << " vs " << b << ")";
  return os.str();
}

}  // namespace tgtest

#define TEST(suite, name)                                                                                 \
  static void tg_test_##suite##_##name();                                                                 \
  static const ::tgtest::Register tg_register_##suite##_##name(#suite, #name, &tg_test_##suite##_##name); \
  static void tg_test_##suite##_##name()

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) ::tgtest::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define REQUIRE(cond)                                           \
  do {                                                          \
    if (!(cond)) {                                              \
      ::tgtest::fail(__FILE__, __LINE__, "REQUIRE(" #cond ")"); \
      throw ::tgtest::Abort{};                                  \
    }                                                           \
  } while (0)

#define CHECK_EQ(a, b)                                                                                    \
  do {                                                                                                    \
    const auto& tg_a_ = (a);                                                                              \
    const auto& tg_b_ = (b);                                                                              \
    if (!(tg_a_ == tg_b_)) ::tgtest::fail(__FILE__, __LINE__, ::tgtest::show_pair(#a, #b, tg_a_, tg_b_)); \
  } while (0)

// `expr` throws ExcT whose what() contains `substr`.
#define CHECK_THROWS(ExcT, expr, substr)                                                            \
  do {                                                                                              \
    bool tg_thrown_ = false;                                                                        \
    try {                                                                                           \
      (void)(expr);                                                                                 \
    } catch (const ExcT& e) {                                                                       \
      tg_thrown_ = true;                                                                            \
      if (!std::strstr(e.what(), substr))                                                           \
        ::tgtest::fail(__FILE__, __LINE__,                                                          \
                       std::string(#expr ": message '") + e.what() + "' lacks '" + (substr) + "'"); \
    }                                                                                               \
    if (!tg_thrown_) ::tgtest::fail(__FILE__, __LINE__, #expr " did not throw " #ExcT);             \
  } while (0)
