// A minimal test harness for the core's unit tests: TEST(name) { CHECK(...); CHECK_EQ(a, b); }
// and a main() that runs every registered test and exits non-zero on any failure.
#pragma once
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace check {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
inline int& failures() {
  static int n = 0;
  return n;
}
struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

template <typename T>
std::string show(const T& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}

}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)
#define TEST(name)                                                          \
  static void name();                                                       \
  static check::Register CHECK_CAT(register_, name)(#name, name);           \
  static void name()

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) check::fail(__FILE__, __LINE__, #cond);                    \
  } while (0)

#define CHECK_EQ(a, b)                                                      \
  do {                                                                      \
    const auto& check_a_ = (a);                                             \
    const auto& check_b_ = (b);                                             \
    if (!(check_a_ == check_b_))                                            \
      check::fail(__FILE__, __LINE__,                                       \
                  std::string(#a " == " #b ": ") + check::show(check_a_) +  \
                      " != " + check::show(check_b_));                      \
  } while (0)

#define CHECK_MAIN()                                                        \
  int main() {                                                              \
    int before = 0;                                                         \
    for (auto& c : check::registry()) {                                     \
      before = check::failures();                                           \
      c.fn();                                                               \
      std::printf("%s %s\n", check::failures() == before ? "ok  " : "FAIL", \
                  c.name);                                                  \
    }                                                                       \
    std::printf("%zu tests, %d failed checks\n", check::registry().size(),  \
                check::failures());                                         \
    return check::failures() == 0 ? 0 : 1;                                  \
  }
