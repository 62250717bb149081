// Device identity: a kind and an index. Which backend serves a device is core/backend.h's business.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gler {

enum class DeviceKind : std::uint8_t { CPU, CUDA };

constexpr std::string_view device_kind_name(DeviceKind k) { return k == DeviceKind::CPU ? "cpu" : "cuda"; }

// Where a tensor lives: a kind and, for accelerators, which one (cuda:0, cuda:1, ...). The CPU is
// always index 0. `Device::CUDA` is cuda:0, the default GPU.
struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;

  static const Device CPU;
  static const Device CUDA;
  static constexpr Device cuda(int index) { return Device{DeviceKind::CUDA, index}; }

  constexpr bool is_cpu() const { return kind == DeviceKind::CPU; }
  constexpr bool is_cuda() const { return kind == DeviceKind::CUDA; }
  friend constexpr bool operator==(const Device&, const Device&) = default;
};
inline constexpr Device Device::CPU{DeviceKind::CPU, 0};
inline constexpr Device Device::CUDA{DeviceKind::CUDA, 0};

// "cpu", "cuda:1".
std::string device_name(Device d);
// Parses "cpu", "cuda" (cuda:0) or "cuda:N"; throws on anything else. Does not check that the
// device exists (see backend_for / device_count in core/backend.h).
Device parse_device(std::string_view text);

}  // namespace gler
