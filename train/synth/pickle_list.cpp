#include "train/synth/pickle_list.h"

#include <algorithm>

#include "core/error.h"

namespace gler::synth {
namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// BINPUT for memo slots below 256, else LONG_BINPUT: every new object is memoised, as the pickler does.
void memoize(std::vector<std::uint8_t>& out, std::uint32_t& next) {
  if (next < 256) {
    out.push_back('q');
    out.push_back(static_cast<std::uint8_t>(next));
  } else {
    out.push_back('r');
    put_u32(out, next);
  }
  ++next;
}

}  // namespace

std::vector<std::uint8_t> pickle_str_list(const std::vector<std::string>& names) {
  constexpr std::size_t kBatch = 1000;  // the pickler's BATCHSIZE
  std::vector<std::uint8_t> out{0x80, 2, ']'};  // PROTO 2, EMPTY_LIST
  std::uint32_t memo = 0;
  memoize(out, memo);
  const auto put_str = [&](const std::string& name) {
    GLER_CHECK(name.size() <= 0xFFFFFFFFu, "pickle_str_list: a name of " << name.size() << " bytes is too long");
    out.push_back('X');  // BINUNICODE: u32 length, UTF-8 bytes
    put_u32(out, static_cast<std::uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
    memoize(out, memo);
  };
  // As CPython's C pickler (batch_list_exact): a one-item list is APPENDed; longer ones go in
  // batches of MARK ... APPENDS, a last batch of one included.
  if (names.size() == 1) {
    put_str(names[0]);
    out.push_back('a');
  } else {
    for (std::size_t first = 0; first < names.size(); first += kBatch) {
      out.push_back('(');
      for (std::size_t i = first; i < std::min(names.size(), first + kBatch); ++i) put_str(names[i]);
      out.push_back('e');
    }
  }
  out.push_back('.');
  return out;
}

}  // namespace gler::synth
