#include "weights_import/arch_specs.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <sstream>

#include "core/error.h"

namespace gler::wi {
namespace {

// A free dimension is a negative symbol bound by the checkpoint (the same symbol must agree).
constexpr std::int64_t kClasses = -1;   // classifier outputs
constexpr std::int64_t kFaceDim = -2;   // sphere20a fc6 outputs in the fusion models

struct Expected {
  std::string name;
  std::vector<std::int64_t> shape;
  bool optional = false;
};

class Spec {
 public:
  std::vector<Expected> tensors;
  std::map<std::string, std::string> metadata;

  void add(const std::string& name, std::vector<std::int64_t> shape, bool optional = false) {
    tensors.push_back({name, std::move(shape), optional});
  }
  void bn(const std::string& p, std::int64_t c, bool affine = true) {
    if (affine) {
      add(p + ".weight", {c});
      add(p + ".bias", {c});
    }
    add(p + ".running_mean", {c});
    add(p + ".running_var", {c});
    add(p + ".num_batches_tracked", {}, true);  // PyTorch >= 0.4.1 only
  }
  void linear(const std::string& p, std::int64_t out, std::int64_t in) {
    add(p + ".weight", {out, in});
    add(p + ".bias", {out});
  }
};

struct DenseNetConfig {
  std::int64_t init, growth;
  std::vector<int> blocks;
};

const std::map<std::string, DenseNetConfig>& densenet_configs() {
  static const std::map<std::string, DenseNetConfig> c = {{"densenet121", {64, 32, {6, 12, 24, 16}}},
                                                          {"densenet161", {96, 48, {6, 12, 36, 24}}},
                                                          {"densenet169", {64, 32, {6, 12, 32, 32}}},
                                                          {"densenet201", {64, 32, {6, 12, 48, 32}}}};
  return c;
}

// torchvision DenseNet (bn_size 4). `features` is the prefix of the feature extractor; the
// classifier (when wanted) sits at `classifier`. Returns the feature width.
std::int64_t densenet(Spec& s, const DenseNetConfig& cfg, const std::string& features, const std::string& classifier,
                      std::int64_t classes) {
  const std::int64_t bottleneck = 4 * cfg.growth;
  s.add(features + "conv0.weight", {cfg.init, 3, 7, 7});
  s.bn(features + "norm0", cfg.init);
  std::int64_t c = cfg.init;
  for (std::size_t b = 0; b < cfg.blocks.size(); ++b) {
    std::string block = features + "denseblock" + std::to_string(b + 1) + ".";
    for (int l = 0; l < cfg.blocks[b]; ++l) {
      std::string layer = block + "denselayer" + std::to_string(l + 1) + ".";
      std::int64_t in = c + cfg.growth * l;
      s.bn(layer + "norm1", in);
      s.add(layer + "conv1.weight", {bottleneck, in, 1, 1});
      s.bn(layer + "norm2", bottleneck);
      s.add(layer + "conv2.weight", {cfg.growth, bottleneck, 3, 3});
    }
    c += cfg.growth * cfg.blocks[b];
    if (b + 1 < cfg.blocks.size()) {
      std::string t = features + "transition" + std::to_string(b + 1) + ".";
      s.bn(t + "norm", c);
      s.add(t + "conv.weight", {c / 2, c, 1, 1});
      c /= 2;
    }
  }
  s.bn(features + "norm5", c);
  if (!classifier.empty()) s.linear(classifier, classes, c);
  return c;
}

const DenseNetConfig& d161() { return densenet_configs().at("densenet161"); }

// sphere20a (clcarwin/sphereface_pytorch): 3x3 convs with bias, each followed by a PReLU.
void sphere20a(Spec& s, const std::string& p, const std::string& fc6, std::int64_t fc6_out) {
  struct Stage {
    int index, units;
    std::int64_t in, out;
  };
  for (Stage st : {Stage{1, 1, 3, 64}, Stage{2, 2, 64, 128}, Stage{3, 4, 128, 256}, Stage{4, 1, 256, 512}}) {
    for (int k = 1; k <= 1 + 2 * st.units; ++k) {
      std::string id = std::to_string(st.index) + "_" + std::to_string(k);
      s.add(p + "conv" + id + ".weight", {st.out, k == 1 ? st.in : st.out, 3, 3});
      s.add(p + "conv" + id + ".bias", {st.out});
      s.add(p + "relu" + id + ".weight", {st.out});
    }
  }
  s.linear(p + "fc5", 512, 21504);
  if (fc6 == "linear") s.linear(p + "fc6", fc6_out, 512);
  if (fc6 == "lsoftmax") s.add(p + "fc6.weight", {512, fc6_out});  // LSoftmaxLinear: (in, out), no bias
}

// facenet-pytorch's MTCNN: each net's `features` is a run of conv + PReLU pairs numbered 1, 2, ...
// (the last of rnet's and onet's is a Linear, still named conv), then the output heads.
void mtcnn(Spec& s) {
  auto conv = [&](const std::string& p, std::int64_t out, std::int64_t in, std::int64_t k) {
    s.add(p + ".weight", {out, in, k, k});
    s.add(p + ".bias", {out});
  };
  struct Block {
    std::int64_t out, in, k;  // k == 0: Linear(in, out)
  };
  auto features = [&](const std::string& net, std::initializer_list<Block> blocks) {
    int i = 0;
    for (Block b : blocks) {
      std::string id = std::to_string(++i);
      if (b.k == 0) s.linear(net + ".features.conv" + id, b.out, b.in);
      else conv(net + ".features.conv" + id, b.out, b.in, b.k);
      s.add(net + ".features.prelu" + id + ".weight", {b.out});
    }
  };
  features("pnet", {{10, 3, 3}, {16, 10, 3}, {32, 16, 3}});
  conv("pnet.conv4_1", 2, 32, 1);
  conv("pnet.conv4_2", 4, 32, 1);
  features("rnet", {{28, 3, 3}, {48, 28, 3}, {64, 48, 2}, {128, 576, 0}});
  s.linear("rnet.conv5_1", 2, 128);
  s.linear("rnet.conv5_2", 4, 128);
  features("onet", {{32, 3, 3}, {64, 32, 3}, {64, 64, 3}, {128, 64, 2}, {256, 1152, 0}});
  s.linear("onet.conv6_1", 2, 256);
  s.linear("onet.conv6_2", 4, 256);
  s.linear("onet.conv6_3", 10, 256);
}

// face-api's FaceExpressionNet after tfjs_to_torch: four dense blocks of widths 32, 64, 128, 256,
// each of four convs (dense0's conv0 a plain 3x3 conv, every other a depthwise-separable 3x3 one),
// then fc 256 -> 7.
void face_expression(Spec& s) {
  std::int64_t in = 3;
  for (int b = 0; b < 4; ++b) {
    const std::int64_t width = std::int64_t{32} << b;
    for (int k = 0; k < 4; ++k) {
      const std::string conv = "dense" + std::to_string(b) + ".conv" + std::to_string(k) + ".";
      const std::int64_t cin = k == 0 ? in : width;
      if (b == 0 && k == 0) {
        s.add(conv + "weight", {width, cin, 3, 3});
        s.add(conv + "bias", {width});
      } else {
        s.add(conv + "depthwise.weight", {cin, 1, 3, 3});
        s.add(conv + "pointwise.weight", {width, cin, 1, 1});
        s.add(conv + "pointwise.bias", {width});
      }
    }
    in = width;
  }
  s.linear("fc", static_cast<std::int64_t>(face_expression_classes().size()), in);
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

bool all_start_with(const StateDict& sd, const std::string& p) {
  return !sd.entries.empty() &&
         std::all_of(sd.entries.begin(), sd.entries.end(), [&](const auto& e) { return starts_with(e.first, p); });
}

// Which fc6 a sphere20a under `p` has: LSoftmax weights are (512, C) with no bias.
std::string fc6_kind(const StateDict& sd, const std::string& p) {
  if (sd.has(p + "fc6.bias")) return "linear";
  if (sd.has(p + "fc6.weight")) return "lsoftmax";
  return "none";
}

Spec spec_for(const StateDict& sd, const std::string& arch) {
  Spec s;
  s.metadata["arch"] = arch;
  auto dn_meta = [&](const DenseNetConfig& cfg) {
    std::string blocks;
    for (int b : cfg.blocks) blocks += (blocks.empty() ? "" : ",") + std::to_string(b);
    s.metadata["num_init_features"] = std::to_string(cfg.init);
    s.metadata["growth_rate"] = std::to_string(cfg.growth);
    s.metadata["block_config"] = blocks;
    s.metadata["bn_size"] = "4";
  };
  if (auto it = densenet_configs().find(arch); it != densenet_configs().end()) {
    densenet(s, it->second, "features.", "classifier", kClasses);
    dn_meta(it->second);
  } else if (arch == "global") {
    densenet(s, d161(), "features.", "classifier", 3);
    dn_meta(d161());
    s.metadata["num_classes"] = "3";
  } else if (arch == "sphere20a" || arch == "local") {
    std::string fc6 = fc6_kind(sd, "");
    GLER_CHECK(arch == "sphere20a" || fc6 != "none", "a local model needs fc6 (Linear(512, 3) or LSoftmaxLinear(512, 3))");
    sphere20a(s, "", fc6, arch == "local" ? 3 : kClasses);
    s.metadata["fc6"] = fc6;
    if (arch == "local") s.metadata["num_classes"] = "3";
    if (arch == "local") s.metadata["max_faces"] = "15";
  } else if (arch == "mtcnn") {
    mtcnn(s);
  } else if (arch == "face_expression") {
    face_expression(s);
    std::string classes;
    for (const auto& c : face_expression_classes()) classes += (classes.empty() ? "" : ",") + c;
    s.metadata["classes"] = classes;
    s.metadata["num_classes"] = std::to_string(face_expression_classes().size());
  } else if (arch == "average") {
    densenet(s, d161(), "global_model.", "", 0);
    s.linear("global_fc3_debug", 3, 2208 + 256);
    s.bn("bn_global", 2208, false);
    s.bn("bn_face_features", 256, false);
    s.metadata["num_classes"] = "3";
    s.metadata["global_features"] = "2208";
    s.metadata["face_features"] = "256";
    s.metadata["max_faces"] = "15";
  } else if (arch == "attention_a" || arch == "attention_b" || arch == "attention_c") {
    // EmotiC variants keep the whole DenseNet, whose 256-way classifier replaces global_fc_main.
    bool emotic = sd.has("global_model.features.conv0.weight");
    GLER_CHECK(!(emotic && arch == "attention_a"), "attention_a has no EmotiC variant (found global_model.features.*)");
    if (emotic) densenet(s, d161(), "global_model.features.", "global_model.classifier", 256);
    else densenet(s, d161(), "global_model.", "", 0);
    std::int64_t face = arch == "attention_b" ? 64 : 256;
    sphere20a(s, "align_model.", "linear", face);
    if (!emotic) s.linear("global_fc_main", 256, 2208);
    if (arch == "attention_a") {
      s.linear("global_fc3_debug", 3, 512);
    } else if (arch == "attention_b") {
      s.linear("global_fc3_debug", 3, 64 + 256);
      s.linear("global_fc", 64, 256);
    } else {
      s.linear("global_fc3_debug", 3, 512);
      s.linear("attentionfc1", 64, 256);
      s.linear("attentionfc2", 1, 64);
    }
    s.bn("bn_debug_face", face, false);
    s.bn("bn_debug_global", 256, false);
    s.metadata["emotic"] = emotic ? "1" : "0";
    s.metadata["face_features"] = std::to_string(face);
    s.metadata["num_classes"] = "3";
    s.metadata["max_faces"] = "15";
  } else {
    std::string known;
    for (const auto& a : arch_names()) known += " " + a;
    GLER_FAIL("unknown architecture '" << arch << "' (expected one of:" << known << ")");
  }
  return s;
}

std::string shape_with_symbols(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == kClasses ? "C" : shape[i] == kFaceDim ? "F" : std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

const std::vector<std::string>& arch_names() {
  static const std::vector<std::string> names = {"densenet121", "densenet161", "densenet169", "densenet201",
                                                 "sphere20a",   "mtcnn",       "global",      "local",
                                                 "average",     "attention_a", "attention_b", "attention_c",
                                                 "face_expression"};
  return names;
}

const std::vector<std::string>& face_expression_classes() {
  static const std::vector<std::string> classes = {"neutral", "happy",     "sad",      "angry",
                                                   "fearful", "disgusted", "surprised"};
  return classes;
}

std::string infer_arch(const StateDict& sd) {
  auto has_prefix = [&](const std::string& p) {
    return std::any_of(sd.entries.begin(), sd.entries.end(), [&](const auto& e) { return starts_with(e.first, p); });
  };
  if (has_prefix("pnet.") || has_prefix("rnet.") || has_prefix("onet.")) return "mtcnn";
  if (sd.has("dense0.conv0.weight") && sd.has("dense0.conv1.depthwise.weight")) return "face_expression";
  if (sd.has("attentionfc1.weight")) return "attention_c";
  if (sd.has("global_fc.weight")) return "attention_b";
  if (sd.has("global_fc_main.weight") && has_prefix("align_model.")) return "attention_a";
  if (has_prefix("bn_face_features.")) return "average";
  std::string sphere = sd.has("fc5.weight") ? "" : all_start_with(sd, "align_model.") ? "align_model." : "-";
  if (sphere != "-") {
    const TensorData* fc6 = sd.find(sphere + "fc6.weight");
    bool three = fc6 && fc6->shape.size() == 2 &&
                 (sd.has(sphere + "fc6.bias") ? fc6->shape[0] == 3 : fc6->shape[1] == 3);
    return three ? "local" : "sphere20a";
  }
  if (const TensorData* conv0 = sd.find("features.conv0.weight")) {
    if (!conv0->shape.empty() && conv0->shape[0] == 96) {
      const TensorData* cls = sd.find("classifier.weight");
      return cls && cls->shape.size() == 2 && cls->shape[0] == 3 ? "global" : "densenet161";
    }
    int layers = 0;
    while (sd.has("features.denseblock3.denselayer" + std::to_string(layers + 1) + ".conv1.weight")) ++layers;
    if (layers == 24) return "densenet121";
    if (layers == 32) return "densenet169";
    if (layers == 48) return "densenet201";
  }
  std::string first;
  for (std::size_t i = 0; i < sd.entries.size() && i < 3; ++i) {
    if (i) first += ", ";
    first += sd.entries[i].first;
  }
  throw Error("cannot infer the architecture from the tensor names (first: " + first + "); pass --arch");
}

void conform_to_arch(StateDict& sd, const std::string& arch) {
  if ((arch == "local" || arch == "sphere20a") && all_start_with(sd, "align_model.")) {
    for (auto& e : sd.entries) e.first = e.first.substr(12);  // Local_FineTune wraps the sphere20a
  }
  Spec spec = spec_for(sd, arch);
  std::map<std::string, const Expected*> expected;
  for (const auto& e : spec.tensors) expected[e.name] = &e;
  std::map<std::int64_t, std::int64_t> bound;
  std::vector<std::string> missing, unexpected, misshaped;
  for (const auto& [name, t] : sd.entries) {
    auto it = expected.find(name);
    if (it == expected.end()) {
      unexpected.push_back(name);
      continue;
    }
    const auto& want = it->second->shape;
    bool ok = want.size() == t.shape.size();
    for (std::size_t d = 0; ok && d < want.size(); ++d) {
      if (want[d] >= 0) {
        ok = want[d] == t.shape[d];
      } else {
        auto [b, fresh] = bound.emplace(want[d], t.shape[d]);
        ok = fresh || b->second == t.shape[d];
      }
    }
    if (!ok) misshaped.push_back(name + " " + shape_str(t.shape) + " (expected " + shape_with_symbols(want) + ")");
  }
  for (const auto& e : spec.tensors)
    if (!e.optional && !sd.has(e.name)) missing.push_back(e.name);
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::ostringstream os;
    os << "checkpoint does not match arch " << arch << ":";
    auto list = [&](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      os << " " << names.size() << " " << what << " [";
      for (std::size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
      os << "]";
    };
    list("missing", missing);
    list("unexpected", unexpected);
    list("mis-shaped", misshaped);
    throw Error(os.str());
  }
  if (bound.count(kClasses)) spec.metadata["num_classes"] = std::to_string(bound[kClasses]);
  for (auto& [k, v] : spec.metadata) sd.metadata[k] = v;
}

}  // namespace gler::wi
