#include "weights_import/byte_reader.h"

#include <fstream>

namespace gler::wi {

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  GLER_CHECK(f, "cannot open '" << path << "'");
  std::streamoff size = f.tellg();
  GLER_CHECK(size >= 0, "cannot read the size of '" << path << "' (is it a regular file?)");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  f.seekg(0);
  GLER_CHECK(f.read(reinterpret_cast<char*>(bytes.data()), size), "cannot read '" << path << "'");
  return bytes;
}

}  // namespace gler::wi
