// Error reporting for the engine: every failure is a seg::Error whose message names the op and what was expected.
// Key decision: checks stay on in Release (they guard user input, not internal invariants), so they must be cheap.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace seg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void format_into(std::ostringstream&) {}
template <class A, class... R>
void format_into(std::ostringstream& os, const A& a, const R&... r) {
  os << a;
  format_into(os, r...);
}
}  // namespace detail

template <class... A>
[[noreturn]] void fail(const A&... parts) {
  std::ostringstream os;
  detail::format_into(os, parts...);
  throw Error(os.str());
}

}  // namespace seg

// SEG_CHECK(cond, "op", ": expected ... got ", x) throws seg::Error when cond is false.
#define SEG_CHECK(cond, ...)                 \
  do {                                       \
    if (!(cond)) ::seg::fail(__VA_ARGS__);   \
  } while (0)
