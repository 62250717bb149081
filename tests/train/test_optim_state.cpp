// Optimiser state and bookkeeping without PyTorch: save / resume is exact (N steps, state_dict,
// a fresh optimiser, load_state_dict, M steps == N + M steps, bit for bit, for SGD with momentum
// and Adam with amsgrad), state is allocated once, zero_grad keeps or drops gradients as asked,
// and bad configurations and bad state are refused with messages naming the problem.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>

#include "core/backend.h"
#include "core/init.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"  // max_abs_diff
#include "tests/train/set_grad.h"
#include "train/optim/adam.h"
#include "train/optim/param_group.h"
#include "train/optim/sgd.h"

using namespace gler;
using train::ParamGroup;

namespace {

using Make = std::function<std::unique_ptr<train::Optimizer>(std::vector<ParamGroup>)>;

struct Params {
  Tensor w, b;
  explicit Params(std::uint64_t seed) {
    Generator gen(seed);
    w = test::uniform_tensor({4, 3}, gen).requires_grad_();
    b = test::uniform_tensor({3}, gen).requires_grad_();
  }
  std::vector<ParamGroup> groups() const {
    return {ParamGroup{{{"w", w}}, 0.1, 0.01}, ParamGroup{{{"b", b}}, 0.3, 0.0}};
  }
};

// The gradient of step k: the same for every run.
void feed(const Params& p, int k) {
  Generator gen(100 + static_cast<std::uint64_t>(k));
  test::set_grad(p.w, test::uniform_tensor(p.w.shape(), gen));
  test::set_grad(p.b, test::uniform_tensor(p.b.shape(), gen));
}

void run(train::Optimizer& opt, const Params& p, int from, int to) {
  for (int k = from; k < to; ++k) {
    feed(p, k);
    opt.step();
  }
}

void check_resume(const Make& make, const std::vector<std::string>& expected_keys) {
  Params straight(1), resumed(1);
  auto a = make(straight.groups());
  run(*a, straight, 0, 5);

  auto first = make(resumed.groups());
  run(*first, resumed, 0, 3);
  const NamedTensors saved = first->state_dict();
  CHECK(test::names(saved) == expected_keys);
  // A checkpoint holds copies (as a file would), and the new optimiser starts from nothing.
  NamedTensors copies;
  for (const auto& [name, t] : saved) copies.emplace_back(name, t.clone());
  first.reset();
  auto second = make(resumed.groups());
  second->load_state_dict(copies);
  run(*second, resumed, 3, 5);
  CHECK(test::max_abs_diff(straight.w, resumed.w) == 0);
  CHECK(test::max_abs_diff(straight.b, resumed.b) == 0);
  const NamedTensors sa = a->state_dict(), sb = second->state_dict();
  REQUIRE(sa.size() == sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    CAPTURE(sa[i].first);
    CHECK(test::max_abs_diff(sa[i].second, sb[i].second) == 0);
  }
}

}  // namespace

TEST_CASE("SGD and Adam state round-trips through state_dict: N steps + M steps after a reload == N + M steps") {
  check_resume(
      [](std::vector<ParamGroup> g) {
        return std::make_unique<train::Sgd>(std::move(g), train::SgdOptions{.momentum = 0.9});
      },
      {"w.momentum_buffer", "w.step", "b.momentum_buffer", "b.step"});
  check_resume(
      [](std::vector<ParamGroup> g) {
        return std::make_unique<train::Sgd>(std::move(g), train::SgdOptions{.momentum = 0.9, .nesterov = true});
      },
      {"w.momentum_buffer", "w.step", "b.momentum_buffer", "b.step"});
  check_resume(
      [](std::vector<ParamGroup> g) {
        return std::make_unique<train::Adam>(std::move(g), train::AdamOptions{.amsgrad = true});
      },
      {"w.exp_avg", "w.exp_avg_sq", "w.max_exp_avg_sq", "w.step", "b.exp_avg", "b.exp_avg_sq", "b.max_exp_avg_sq",
       "b.step"});
  check_resume([](std::vector<ParamGroup> g) { return std::make_unique<train::Adam>(std::move(g)); },
               {"w.exp_avg", "w.exp_avg_sq", "w.step", "b.exp_avg", "b.exp_avg_sq", "b.step"});
}

TEST_CASE("step counts are saved, state is allocated once and updated in place") {
  Params p(2);
  train::Adam opt(p.groups());
  CHECK(opt.state_dict().empty());
  run(opt, p, 0, 1);
  const NamedTensors s1 = opt.state_dict();
  run(opt, p, 1, 4);
  const NamedTensors s4 = opt.state_dict();
  REQUIRE(s1.size() == s4.size());
  for (std::size_t i = 0; i < s1.size(); ++i) {
    CAPTURE(s1[i].first);
    if (s1[i].first.ends_with(".step")) {
      CHECK(s1[i].second.item() == 1);
      CHECK(s4[i].second.item() == 4);
      CHECK(s4[i].second.dtype() == DType::i64);
    } else {
      CHECK(s1[i].second.raw() == s4[i].second.raw());
    }
  }
}

TEST_CASE("steps after the first allocate no tensor memory") {
  Params p(8);
  train::Adam adam(p.groups(), {.amsgrad = true});
  train::Sgd sgd(p.groups(), {.momentum = 0.9, .nesterov = true});
  feed(p, 0);
  adam.step();  // allocates the state and the scratch buffers
  sgd.step();
  Backend& cpu = backend_for(Device::CPU);
  cpu.reset_peak_bytes();
  const std::size_t before = cpu.peak_bytes();
  for (int k = 0; k < 3; ++k) {
    adam.step();
    sgd.step();
  }
  CHECK(cpu.peak_bytes() == before);
}

TEST_CASE("zero_grad fills existing gradients with zeros (torch's default) or drops them") {
  Params p(3);
  train::Sgd opt(p.groups(), {.momentum = 0.9});
  feed(p, 0);
  const void* storage = p.w.grad().raw();
  opt.zero_grad();
  REQUIRE(p.w.grad().defined());
  CHECK(p.w.grad().raw() == storage);
  CHECK(test::max_abs_diff(p.w.grad(), Tensor::zeros(p.w.shape())) == 0);
  opt.zero_grad(true);
  CHECK_FALSE(p.w.grad().defined());
  CHECK_FALSE(p.b.grad().defined());
}

TEST_CASE("a parameter with a zero gradient keeps moving with its momentum; one without a gradient does not") {
  Params p(4);
  train::Sgd opt(p.groups(), {.momentum = 0.9});
  run(opt, p, 0, 1);
  opt.zero_grad();  // zeros: the next step still applies 0.9 * buf
  test::set_grad(p.b, Tensor());
  const Tensor w = p.w.clone(), b = p.b.clone();
  opt.step();
  CHECK(test::max_abs_diff(p.w, w) > 0);
  CHECK(test::max_abs_diff(p.b, b) == 0);
}

TEST_CASE("frozen parameters and groups") {
  Generator gen(5);
  Tensor frozen = test::uniform_tensor({3}, gen);  // requires_grad false
  Tensor live = test::uniform_tensor({3}, gen).requires_grad_();
  Tensor idle = test::uniform_tensor({3}, gen).requires_grad_();
  train::Sgd opt({ParamGroup{{{"frozen", frozen}, {"live", live}}, 0.1}, ParamGroup{{{"idle", idle}}, 0.0}},
                 {.momentum = 0.9});
  CHECK(opt.parameter_names() == std::vector<std::string>{"live", "idle"});
  test::set_grad(live, Tensor::full({3}, 1.0));
  test::set_grad(idle, Tensor::full({3}, 1.0));
  const Tensor before = idle.clone();
  opt.step();
  CHECK(test::max_abs_diff(idle, before) == 0);
  CHECK(test::names(opt.state_dict()) == std::vector<std::string>{"live.momentum_buffer", "live.step"});
}

TEST_CASE("parameters_under / parameters_outside split a model's parameters into groups") {
  Generator gen(6);
  const NamedTensors named{{"align_model.conv1_1.weight", test::uniform_tensor({2}, gen)},
                           {"global_fc3_debug.weight", test::uniform_tensor({2}, gen)},
                           {"align_model.fc6.bias", test::uniform_tensor({2}, gen)}};
  CHECK(test::names(train::parameters_under(named, "align_model.")) ==
        std::vector<std::string>{"align_model.conv1_1.weight", "align_model.fc6.bias"});
  CHECK(test::names(train::parameters_outside(named, {"align_model."})) ==
        std::vector<std::string>{"global_fc3_debug.weight"});
}

TEST_CASE("bad options, groups and state are refused, naming the problem") {
  Params p(7);
  test::expect_error_naming("nesterov without momentum", {"Nesterov", "momentum"},
                            [&] { train::Sgd(p.groups(), {.nesterov = true}); });
  test::expect_error_naming("nesterov with dampening", {"Nesterov", "dampening"},
                            [&] { train::Sgd(p.groups(), {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); });
  test::expect_error_naming("beta", {"beta2", "[0, 1)"}, [&] { train::Adam(p.groups(), {.beta2 = 1.0}); });
  test::expect_error_naming("negative lr", {"group 0", "lr"}, [&] { train::Sgd({ParamGroup{{{"w", p.w}}, -1.0}}); });
  test::expect_error_naming("listed twice", {"w", "twice"}, [&] {
    train::Sgd({ParamGroup{{{"w", p.w}}, 0.1}, ParamGroup{{{"w", p.b}}, 0.1}});
  });
  test::expect_error_naming("same tensor", {"v", "same tensor"}, [&] {
    train::Sgd({ParamGroup{{{"w", p.w}, {"v", p.w}}, 0.1}});
  });

  train::Sgd opt(p.groups(), {.momentum = 0.9});
  run(opt, p, 0, 1);
  NamedTensors state = opt.state_dict();
  NamedTensors unknown = state;
  unknown.emplace_back("x.momentum_buffer", Tensor::zeros({2}));
  test::expect_error_naming("unknown key", {"unexpected x.momentum_buffer"}, [&] { opt.load_state_dict(unknown); });
  NamedTensors misshaped = state;
  misshaped[0].second = Tensor::zeros({2, 2});
  test::expect_error_naming("misshaped", {"w.momentum_buffer", "f32[2, 2]"}, [&] { opt.load_state_dict(misshaped); });
  NamedTensors partial(state.begin() + 1, state.end());
  test::expect_error_naming("partial", {"missing w.momentum_buffer"}, [&] { opt.load_state_dict(partial); });

  // A gradient of another dtype than its parameter.
  test::set_grad(p.w, Tensor::zeros(p.w.shape(), DType::f64));
  test::expect_error_naming("gradient dtype", {"w gradient", "f64"}, [&] { opt.step(); });
}
