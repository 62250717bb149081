#include "io/files.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <system_error>

#include "core/error.h"

namespace fs = std::filesystem;

namespace gler::io {

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".gif" || ext == ".tga";
}

std::vector<fs::path> list_images(const fs::path& dir) {
  std::error_code ec;
  GLER_CHECK(fs::is_directory(dir, ec), dir.string() << ": expected a folder");
  std::vector<fs::path> found;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  GLER_CHECK(!ec, dir.string() << ": cannot list the folder (" << ec.message() << ")");
  for (; it != end; it.increment(ec)) {
    GLER_CHECK(!ec, dir.string() << ": cannot list the folder (" << ec.message() << ")");
    if (it->is_regular_file(ec) && has_image_extension(it->path())) found.push_back(it->path().lexically_relative(dir));
  }
  GLER_CHECK(!ec, dir.string() << ": cannot list the folder (" << ec.message() << ")");
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  return found;
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  GLER_CHECK(in, path.string() << ": cannot open the file for reading");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  GLER_CHECK(!in.bad(), path.string() << ": read error");
  return bytes;
}

void write_bytes_atomic(const fs::path& path, std::span<const std::uint8_t> bytes) {
  // A name no other thread or process writes at the same time; a leftover from a crash is
  // harmless (never read) and starts with '.', out of sight of image listings.
  static std::atomic<unsigned long> counter{0};
  std::string name = ".";
  name += path.filename().string();
  name += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const fs::path tmp = path.parent_path() / name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    GLER_CHECK(out, path.string() << ": cannot create the temporary file " << tmp.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      GLER_FAIL(path.string() << ": cannot write " << bytes.size() << " bytes (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    GLER_FAIL(path.string() << ": cannot rename the temporary file into place (" << ec.message() << ")");
  }
}

void write_text_atomic(const fs::path& path, const std::string& text) {
  write_bytes_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void make_folders(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  GLER_CHECK(!ec, dir.string() << ": cannot create the folder (" << ec.message() << ")");
}

void remove_if_exists(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::remove(file, ec);
  GLER_CHECK(!ec, file.string() << ": cannot remove it (" << ec.message() << ")");
}

}  // namespace gler::io
