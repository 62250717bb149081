// One entry point for every kind of source gler_import reads: PyTorch checkpoints (legacy or
// zip, state dict or whole module), .npy (numeric or pickled dict), .npz, safetensors, a
// directory holding the MTCNN pnet/rnet/onet.npy files, and a TF.js weights manifest with its shards.
#pragma once
#include <cstdint>
#include <string>

#include "weights_import/state_dict.h"

namespace gler::wi {

// The tensors with the names and layouts as stored (MTCNN files get a pnet./rnet./onet. prefix).
StateDict read_source(const std::string& path);
// The same for one file held in memory; `name` is its file name (for .npy naming). A TF.js
// manifest is refused here: its shards are files beside it.
StateDict read_source_bytes(const std::uint8_t* data, std::size_t size, const std::string& name);

// read_source, then tfjs_to_torch for a TF.js source, normalize_name on every name and the checks
// of `arch` (when empty: taken from a safetensors source's metadata, else inferred from the names).
// The result carries `arch` and the hyper-parameters in its metadata, and seed_compat = "1" for a
// group-emotion arch (global, local, average, attention_*) read from a PyTorch file: such files are
// the seed's. A safetensors source keeps the metadata it has.
StateDict import_checkpoint(const std::string& path, const std::string& arch);

}  // namespace gler::wi
