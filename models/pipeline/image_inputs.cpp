#include "models/pipeline/image_inputs.h"

#include <fstream>
#include <system_error>

#include "core/error.h"
#include "io/files.h"

namespace fs = std::filesystem;

namespace gler::models::pipeline {
namespace {

void add_path(const std::string& input, std::vector<ImageInput>& out) {
  std::error_code ec;
  GLER_CHECK(fs::exists(input, ec), input << ": no such file or folder");
  if (!fs::is_directory(input, ec)) {
    out.push_back({input, fs::path(input).filename()});
    return;
  }
  const std::vector<fs::path> found = io::list_images(input);
  GLER_CHECK(!found.empty(), "no images found under " << input << " (looked for .jpg .jpeg .png .bmp .gif .tga)");
  for (const fs::path& rel : found) out.push_back({(fs::path(input) / rel).string(), rel});
}

void add_list(const std::string& list, std::vector<ImageInput>& out) {
  std::ifstream in(list);
  GLER_CHECK(in, "@" << list << ": cannot read the list");
  const fs::path base = fs::path(list).parent_path();
  std::size_t listed = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const fs::path p(line);
    const std::string path = (p.is_absolute() ? p : base / p).string();
    std::error_code ec;
    GLER_CHECK(fs::is_regular_file(path, ec), "@" << list << ": " << line << ": no such file");
    out.push_back({path, p.is_absolute() ? p.filename() : p.lexically_normal()});
    ++listed;
  }
  GLER_CHECK(listed > 0, "@" << list << ": the list names no images");
}

}  // namespace

std::vector<ImageInput> collect_image_inputs(const std::vector<std::string>& inputs) {
  GLER_CHECK(!inputs.empty(), "no INPUT given: expected image files, folders or @LIST files (see --help)");
  std::vector<ImageInput> out;
  for (const std::string& input : inputs) {
    if (input.size() > 1 && input[0] == '@') add_list(input.substr(1), out);
    else add_path(input, out);
  }
  return out;
}

}  // namespace gler::models::pipeline
