// Errors are exceptions with a message that says what was expected and what was found;
// the CLI boundary (apps/) turns them into one `error:` line and exit status 2.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace gler {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gler

// GLER_CHECK(cond, "a" << b): the message is only built when the check fails.
#define GLER_CHECK(cond, msg)                               \
  do {                                                      \
    if (!(cond)) {                                          \
      std::ostringstream gler_check_os_;                    \
      gler_check_os_ << msg;                                \
      throw ::gler::Error(gler_check_os_.str());            \
    }                                                       \
  } while (0)

#define GLER_FAIL(msg) GLER_CHECK(false, msg)
