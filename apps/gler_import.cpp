// gler_import: converts published checkpoints (PyTorch legacy/zip files holding a state dict or
// a whole pickled module, MTCNN .npy weights, TF.js weights manifests) to gler's native
// safetensors, or lists their tensors.
#include <iostream>
#include <string>
#include <vector>

#include "apps/cli/cli.h"
#include "core/error.h"
#include "models/checkpoint.h"
#include "models/gler/gler_model.h"
#include "weights_import/import_source.h"
#include "weights_import/safetensors.h"

namespace {

const char* kUsage = R"(gler_import SRC [--arch ARCH] -o DST.safetensors
gler_import --list SRC
gler_import --init ARCH [--seed S] [--seed-compat] [--emotic] [--local-head linear|lsoftmax|asoftmax]
            [--max-faces N] -o DST.safetensors

Converts a published checkpoint to gler's native safetensors format, or lists its tensors
(one line per tensor: name dtype shape, names as stored in SRC).

SRC   a PyTorch checkpoint, legacy (torch <= 1.5) or zip (torch >= 1.6) format, holding a
      state_dict or a whole pickled module (a DataParallel's `module.` prefix is stripped);
      an .npy/.npz file; a safetensors file; a directory with MTCNN pnet/rnet/onet.npy; or a
      TF.js weights manifest (*-weights_manifest.json, its shards beside it), converted to
      PyTorch's names and layouts (face-api's face_expression_model: scripts/fetch_face_expression.sh).
--arch ARCH   densenet121 densenet161 densenet169 densenet201 sphere20a mtcnn global local
              average attention_a attention_b attention_c face_expression (inferred from the
              names if omitted)
-o, --output DST   the safetensors file to write
--list        print the tensors of SRC and exit
--device D    cpu, cuda or cuda:N: validated (importing runs on the CPU)
--init ARCH   write a new model instead, initialised as the seed initialises it (its backbones
              random too): global local average attention_a attention_b attention_c, drawn from
              --seed S (default 0); --seed-compat marks it as following the seed's method,
              --emotic gives attention_b/c the full EmotiC DenseNet, --local-head picks local's fc6.
              For trying gler_infer before a trained model exists: its predictions mean nothing.
Nothing in SRC is ever executed: pickled code references other than tensors, NumPy arrays and
torch.nn/torchvision module classes are refused.
)";

std::string shape_list(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int run(int argc, char** argv) {
  std::vector<std::string> storage(argv, argv + argc);
  for (auto& a : storage)
    if (a == "-o") a = "--output";
  std::vector<char*> args;
  for (auto& a : storage) args.push_back(a.data());
  gler::cli::Args opts(static_cast<int>(args.size()), args.data(),
                       {"--arch", "--output", "--device", "--init", "--seed", "--local-head", "--max-faces"},
                       {"--list", "--seed-compat", "--emotic"});
  gler::cli::device_option(opts);  // validated for the common contract; importing needs no device
  if (const auto arch = opts.get("--init")) {
    GLER_CHECK(opts.positional().empty() && !opts.has("--list") && !opts.has("--arch"),
               "--init writes a new model: give no SRC, --list or --arch");
    gler::models::ModelInfo info = gler::models::ModelInfo::from_metadata(
        {{"arch", *arch}, {"seed_compat", opts.has("--seed-compat") ? "1" : "0"}, {"emotic", opts.has("--emotic") ? "1" : "0"},
         {"fc6", opts.get("--local-head", "linear")}, {"max_faces", opts.get("--max-faces", "15")}});
    const long long seed = opts.get_int("--seed", 0);
    GLER_CHECK(seed >= 0, "--seed must be at least 0, got " << seed);
    gler::Generator gen(static_cast<std::uint64_t>(seed));
    const auto model = gler::models::make_model(info, gen);
    const std::string dst = opts.require("--output");
    gler::models::save_weights(*model, dst, info.to_metadata());
    std::cout << "wrote " << dst << ": " << model->state_dict().size() << " tensors, arch " << info.arch
              << " (initialised, seed " << seed << ")\n";
    return 0;
  }
  GLER_CHECK(opts.positional().size() == 1, "expected exactly one SRC (see --help)");
  const std::string src = opts.positional()[0];

  if (opts.has("--list")) {
    GLER_CHECK(!opts.has("--output"), "--list writes nothing; drop -o");
    auto sd = gler::wi::read_source(src);
    for (const auto& [name, t] : sd.entries) std::cout << name << ' ' << t.dtype << ' ' << shape_list(t.shape) << '\n';
    return 0;
  }
  std::string dst = opts.require("--output");
  auto sd = gler::wi::import_checkpoint(src, opts.get("--arch", ""));
  gler::wi::write_safetensors(dst, sd);
  std::cout << "wrote " << dst << ": " << sd.entries.size() << " tensors, arch " << sd.metadata["arch"] << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
