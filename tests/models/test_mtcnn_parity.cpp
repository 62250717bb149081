// P-Net, R-Net and O-Net with the real bundled weights against the PyTorch definitions written from
// SEED_SPEC §3.1 (tests/models/mtcnn_torch.py, which reproduce the seed's own dumps bit for bit) on
// random inputs, in f32, within 1e-4 relative. P-Net's 37×53 input leaves partial ceil-mode pooling
// windows along both axes; R-Net and O-Net pool partially at every stage on their fixed sizes.
#include <doctest/doctest.h>

#include <string>

#include "core/autograd.h"
#include "models/mtcnn_nets.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("MTCNN nets with the bundled weights match PyTorch on random inputs") {
  const std::string weights = std::string(GLER_SOURCE_DIR) + "/data/mtcnn/mtcnn.safetensors";
  const models::MtcnnNets nets(weights);
  Generator data(21);
  const Tensor xp = test::uniform_tensor({1, 3, 37, 53}, data), xp2 = test::uniform_tensor({2, 3, 12, 13}, data);
  const Tensor xr = test::uniform_tensor({5, 3, 24, 24}, data), xo = test::uniform_tensor({5, 3, 48, 48}, data);
  test::TorchRef ref;
  ref.put("xp", xp);
  ref.put("xp2", xp2);
  ref.put("xr", xr);
  ref.put("xo", xo);
  ref.run(std::string("import sys\nsys.path.insert(0, '") + GLER_SOURCE_DIR + "/tests/models')\n" +
          "from mtcnn_torch import load_nets\nnets = load_nets('" + weights + "')\n" + R"PY(
with torch.no_grad():
    for name in ('xp', 'xp2'):
        prob, offsets = nets['pnet'](load(name))
        save(name + '.probs', prob)
        save(name + '.offsets', offsets)
    prob, offsets = nets['rnet'](load('xr'))
    save('xr.probs', prob)
    save('xr.offsets', offsets)
    prob, offsets, landmarks, features = nets['onet'](load('xo'))
    for key, value in (('probs', prob), ('offsets', offsets), ('landmarks', landmarks), ('features', features)):
        save('xo.' + key, value)
)PY");
  NoGradGuard no_grad;
  auto check = [&](const Tensor& ours, const std::string& key) {
    CAPTURE(key);
    const Tensor theirs = ref.get(key);
    REQUIRE(ours.shape() == theirs.shape());
    const double err = test::max_rel_diff(ours, theirs);
    CAPTURE(err);
    CHECK(err < 1e-4);
  };
  for (const auto& [name, x] : {std::pair{"xp", xp}, std::pair{"xp2", xp2}}) {
    const models::PNetOutput p = nets.pnet.forward(x);
    check(p.probs, std::string(name) + ".probs");
    check(p.offsets, std::string(name) + ".offsets");
  }
  const models::RNetOutput r = nets.rnet.forward(xr);
  check(r.probs, "xr.probs");
  check(r.offsets, "xr.offsets");
  const models::ONetOutput o = nets.onet.forward(xo);
  check(o.probs, "xo.probs");
  check(o.offsets, "xo.offsets");
  check(o.landmarks, "xo.landmarks");
  check(o.features, "xo.features");
}
