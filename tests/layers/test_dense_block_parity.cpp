// DenseLayer, DenseBlock (the fused channel-major implementation) and Transition against
// torchvision 0.14's _DenseLayer, _DenseBlock and _Transition, with the same weights loaded by
// name (strict: the names must agree): two training steps and one eval step, comparing outputs,
// input gradients, every parameter gradient and every buffer (running statistics).
//
// Both sides run in f64 (agreement to 1e-10: the same function, term for term) and in f32. In f32
// these chains of convolutions and batch norms cannot agree to 1e-5: PyTorch's own f32 results
// differ from its f64 ones by up to 1.2e-5 (outputs) and 2.2e-5 (parameter gradients) under the
// same max_rel_diff measure for these very shapes, and our f32 convolutions may run on oneDNN or
// im2col+GEMM, each with its own rounding order (largest difference seen against PyTorch f32:
// 1.13e-4 with oneDNN, 8.4e-5 with im2col). So the f32 bound is 2e-4; f64 is the exactness check.
#include <doctest/doctest.h>

#include <functional>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/dense_block.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

struct Step {
  std::string tag;
  bool training;
};
const std::vector<Step> kSteps = {{"t0", true}, {"t1", true}, {"e", false}};

const char* kScript = R"PY(
from torchvision.models.densenet import _DenseLayer, _DenseBlock, _Transition
def run(prefix, m, keys, dtype):
    m.to(dtype)
    m.load_state_dict({k: load(prefix + '.sd.' + k) for k in keys})
    for tag, training in [('t0', True), ('t1', True), ('e', False)]:
        m.train(training)
        m.zero_grad()
        x = load(prefix + '.x' + tag).requires_grad_()
        y = m(x)
        y.backward(load(prefix + '.r' + tag))
        save(prefix + '.y' + tag, y)
        save(prefix + '.gx' + tag, x.grad)
        for n, p in m.named_parameters():
            save(prefix + '.g' + tag + '.' + n, p.grad)
        for n, b in m.named_buffers():
            save(prefix + '.b' + tag + '.' + n, b)
)PY";

// Non-trivial BN parameters (convolutions keep their default initialisation).
void randomize_norms(const Module& m, Generator& gen) {
  for (const auto& [name, p] : m.named_parameters())
    if (name.find("norm") != std::string::npos) uniform_(p, 0.5, 1.5, gen);
}

class Comparison {
 public:
  Comparison(std::string prefix, const Module& m, Shape x_shape, DType dtype,
             std::function<Tensor(const Tensor&)> forward)
      : prefix_(std::move(prefix)), m_(m), x_shape_(x_shape), dtype_(dtype), forward_(std::move(forward)) {}

  // Runs the steps here and returns the Python line that runs them in PyTorch.
  std::string run(test::TorchRef& ref, Generator& gen, const std::string& torch_ctor) {
    std::string keys;
    for (const auto& [name, t] : m_.state_dict()) {
      ref.put(prefix_ + ".sd." + name, t);
      keys += "'" + name + "',";
    }
    for (const Step& s : kSteps) {
      const_cast<Module&>(m_).train(s.training);
      m_.zero_grad();
      Tensor x = Tensor::empty(x_shape_, dtype_);
      uniform_(x, -1, 2, gen);
      x.requires_grad_();
      Tensor y = forward_(x);
      Tensor r = Tensor::empty(y.shape(), dtype_);
      uniform_(r, -1, 1, gen);
      ref.put(prefix_ + ".x" + s.tag, x);
      ref.put(prefix_ + ".r" + s.tag, r);
      backward(y, r);
      mine_.emplace_back(".y" + s.tag, y);
      mine_.emplace_back(".gx" + s.tag, x.grad());
      for (const auto& [name, p] : m_.named_parameters()) mine_.emplace_back(".g" + s.tag + "." + name, p.grad());
      for (const auto& [name, b] : m_.named_buffers()) mine_.emplace_back(".b" + s.tag + "." + name, b.clone());
    }
    return "run('" + prefix_ + "', " + torch_ctor + ", [" + keys + "], " +
           (dtype_ == DType::f64 ? "torch.float64" : "torch.float32") + ")\n";
  }

  void check(const test::TorchRef& ref) const {
    for (const auto& [what, mine] : mine_) {
      const std::string key = prefix_ + what;
      CAPTURE(key);
      const Tensor theirs = ref.get(key);
      if (mine.dtype() == DType::i64) {
        CHECK(mine.item() == theirs.item());
      } else {
        CHECK(mine.shape() == theirs.shape());
        CHECK(test::max_rel_diff(mine, theirs) < (dtype_ == DType::f64 ? 1e-10 : 2e-4));
      }
    }
  }

 private:
  std::string prefix_;
  const Module& m_;
  Shape x_shape_;
  DType dtype_;
  std::function<Tensor(const Tensor&)> forward_;
  std::vector<std::pair<std::string, Tensor>> mine_;
};

}  // namespace

TEST_CASE("DenseLayer, DenseBlock and Transition match torchvision in train and eval mode") {
  struct Modules {
    explicit Modules(Generator& gen)
        : layer(6, 8, 2, 0.0, gen), block(3, 5, 2, 8, 0.0, gen), transition(29, 14, gen) {}
    layers::DenseLayer layer;
    layers::DenseBlock block;
    layers::Transition transition;
  };
  test::TorchRef ref;  // one Python run for both dtypes
  std::string script = kScript;
  std::vector<std::unique_ptr<Modules>> modules;
  std::vector<Comparison> comparisons;
  for (DType dtype : {DType::f64, DType::f32}) {
    Generator gen(2017);
    auto& m = *modules.emplace_back(std::make_unique<Modules>(gen));
    for (const Module* part : std::initializer_list<const Module*>{&m.layer, &m.block, &m.transition}) {
      randomize_norms(*part, gen);
      part->to(dtype);
    }
    const std::string tag(dtype_name(dtype));
    comparisons.emplace_back(tag + ".layer", m.layer, Shape{2, 6, 9, 9}, dtype,
                             [&m](const Tensor& x) { return m.layer.forward(x); });
    script += comparisons.back().run(ref, gen, "_DenseLayer(6, 8, 2, 0.0)");
    comparisons.emplace_back(tag + ".block", m.block, Shape{2, 5, 9, 9}, dtype,
                             [&m](const Tensor& x) { return m.block.forward(x); });
    script += comparisons.back().run(ref, gen, "_DenseBlock(3, 5, 2, 8, 0.0)");
    comparisons.emplace_back(tag + ".transition", m.transition, Shape{2, 29, 9, 9}, dtype,
                             [&m](const Tensor& x) { return m.transition.forward(x); });
    script += comparisons.back().run(ref, gen, "_Transition(29, 14)");
  }
  ref.run(script);
  for (const Comparison& c : comparisons) c.check(ref);
}
