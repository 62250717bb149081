// Which images gler_infer reads: files, folders (searched recursively, each in io::list_images
// order) and @LIST files (one path per line), in the order given.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace gler::models::pipeline {

struct ImageInput {
  std::string path;                // the file to read, as found
  // Below its INPUT folder; a file INPUT: its name; a listed file: the path as listed, or its name
  // when absolute. Where its --aligned-faces crops are looked for and its --annotate picture goes.
  std::filesystem::path relative;
};

// A path in a @LIST file is relative to the list's folder unless absolute; blank lines and lines
// starting with '#' are skipped. Throws gler::Error (a bad argument) for a missing INPUT, a
// folder without images, a list that cannot be read or is empty, and for no INPUT at all.
std::vector<ImageInput> collect_image_inputs(const std::vector<std::string>& inputs);

}  // namespace gler::models::pipeline
