// TensorFlow.js weights without TensorFlow.js: a weights manifest (JSON, a list of groups
// {"paths": [shard files], "weights": [{"name", "shape", "dtype", "quantization"?}]}, or a model.json
// holding that list as "weightsManifest") and its binary shards. A group's shards, concatenated in
// order, hold its weights back to back in manifest order; quantised weights are dequantised exactly
// as tfjs-core's io.decodeWeights does it (4.x). Every size is checked before anything is read, so a
// hostile manifest or a truncated shard is an error naming the weight, never a crash.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "weights_import/state_dict.h"

namespace gler::wi {

// True when the bytes start (after white space) with '[' or '{': JSON, which no other format
// gler_import reads begins with.
bool looks_like_tfjs_manifest(const std::uint8_t* data, std::size_t size);

// The bytes of one shard, by its path as the manifest writes it (already checked to be relative
// and to stay below the manifest's folder).
using ShardReader = std::function<std::vector<std::uint8_t>(const std::string& path)>;

// The weights as stored: TF.js names ("dense0/conv0/filters") and TF layouts, as F32, I32 or BOOL
// (float32, int32, bool; uint8/uint16 quantisation dequantised to float32 as float32(q * scale + min),
// to int32 as Math.round of it; float16 quantisation widened exactly). format = tfjs.
StateDict parse_tfjs_manifest(std::string_view manifest, const ShardReader& read_shard);
// The same for a manifest file; shards are read from its folder.
StateDict read_tfjs_manifest(const std::string& path);

// TF.js conventions to PyTorch's, which gler's layers use: '/' becomes '.'; a conv `P/filters`
// (H, W, in, out) becomes `P.weight` (out, in, H, W); a separable conv's `P/depthwise_filter`
// (H, W, C, multiplier) becomes `P.depthwise.weight` (C·multiplier, 1, H, W) (groups = C, output
// channel c·multiplier + m, as TF orders them), its `P/pointwise_filter` `P.pointwise.weight` and its
// `P/bias` (added after the pointwise conv) `P.pointwise.bias`; a fully connected `P/weights`
// (in, out) becomes `P.weight` (out, in). Other names only get the '/' -> '.' change.
StateDict tfjs_to_torch(StateDict sd);

}  // namespace gler::wi
