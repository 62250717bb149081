// libFuzzer target: the zip reader (directory parsing, stored and deflated entries).
#include <cstdint>

#include "core/error.h"
#include "weights_import/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    gler::wi::ZipReader zip(data, size);
    for (const auto& e : zip.entries()) {
      try {
        zip.read(e);
      } catch (const gler::Error&) {
      }
    }
  } catch (const gler::Error&) {
  }
  return 0;
}
