// gler's native weight format: safetensors (https://github.com/huggingface/safetensors).
// 8-byte little-endian header length, a JSON header {"name": {"dtype", "shape", "data_offsets"},
// "__metadata__": {string: string}}, then the raw little-endian tensor data. Files written here
// load unchanged in Python's `safetensors` (offsets contiguous from 0, header padded with spaces).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "weights_import/state_dict.h"

namespace gler::wi {

bool is_safetensors(const std::uint8_t* data, std::size_t size);

StateDict parse_safetensors(const std::uint8_t* data, std::size_t size);
StateDict read_safetensors(const std::string& path);
// The __metadata__ alone, from the length and the header (what a loader needs before it knows which
// model the tensors go into); the data section is neither read nor checked.
std::map<std::string, std::string> parse_safetensors_metadata(const std::uint8_t* data, std::size_t size);
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

void write_safetensors(const std::string& path, const StateDict& sd);

}  // namespace gler::wi
