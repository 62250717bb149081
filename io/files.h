// Files on disk for the batch tools: finding images under a folder in a fixed order, and writing
// outputs atomically so that a file that exists is always complete (what --resume relies on).
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace gler::io {

// True for the names the batch tools treat as images: .jpg .jpeg .png .bmp .gif .tga, any case.
bool has_image_extension(const std::filesystem::path& path);

// Every image file under `dir`, recursively, as paths relative to `dir`, sorted by their generic
// (forward-slash) string byte by byte, so every run and machine sees the same order. Symbolic
// links to files are listed; links to folders are not followed (no cycles). Throws gler::Error
// when `dir` is not a readable folder.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& dir);

// The whole file; throws gler::Error naming `path` when it cannot be read.
std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path);

// create_directories and remove, throwing gler::Error naming the path and the reason.
void make_folders(const std::filesystem::path& dir);
void remove_if_exists(const std::filesystem::path& file);

// Writes to a temporary file beside `path`, then renames it over `path`: readers see either the
// old file or the complete new one, never a part. The folder must exist.
void write_bytes_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace gler::io
