#include "core/device.h"

#include <charconv>

#include "core/error.h"

namespace gler {

std::string device_name(Device d) {
  if (d.is_cpu()) return "cpu";
  return std::string(device_kind_name(d.kind)) + ":" + std::to_string(d.index);
}

Device parse_device(std::string_view text) {
  if (text == "cpu") return Device::CPU;
  if (text == "cuda") return Device::CUDA;
  constexpr std::string_view prefix = "cuda:";
  if (text.starts_with(prefix)) {
    const std::string_view digits = text.substr(prefix.size());
    int index = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() && index >= 0)
      return Device::cuda(index);
  }
  GLER_FAIL("unknown device '" << text << "' (expected cpu, cuda or cuda:N)");
}

}  // namespace gler
