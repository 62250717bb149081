// PyTorch checkpoints without Python: the legacy format (torch <= 1.5: magic number, protocol,
// sys-info and object pickles, storage key list, raw storages) and the zip format (torch >= 1.6:
// <dir>/data.pkl, <dir>/data/<key>, <dir>/byteorder). Either may hold a state dict or a whole
// pickled module; tensors come back with PyTorch's own state-dict names, in file order.
#pragma once
#include <cstdint>
#include <vector>

#include "weights_import/state_dict.h"

namespace gler::wi {

bool is_legacy_torch_checkpoint(const std::uint8_t* data, std::size_t size);
bool is_zip_torch_checkpoint(const std::uint8_t* data, std::size_t size);

StateDict read_torch_checkpoint(const std::uint8_t* data, std::size_t size);

}  // namespace gler::wi
