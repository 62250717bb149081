// StepLR over 10 epochs against torch.optim.lr_scheduler.StepLR (torch 1.13), for the seed's
// schedules (SEED_SPEC §4.12: steps 4, 5, 6, 7, 9, gamma 0.1, base 1e-3 / 1e-2) and two groups:
// the rate during epoch e equals torch's closed form base * gamma ** (e // step) (torch 0.4's
// formula, the seed's) bit for bit, and torch 1.13's recursive rate with step() at the end of
// each epoch within 1e-15 relative.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"
#include "tests/support/python_modules.h"
#include "train/optim/sgd.h"
#include "train/optim/step_lr.h"

using namespace gler;

TEST_CASE("StepLR gives the seed's rate of each epoch, as torch's StepLR computes it") {
  test::require_torch();
  struct Case {
    int step;
    double gamma;
  };
  const std::vector<Case> cases{{4, 0.1}, {5, 0.1}, {6, 0.1}, {7, 0.1}, {9, 0.1}, {3, 0.5}};
  constexpr int kEpochs = 10;
  test::TorchRef ref;
  std::string script =
      "def schedule(step, gamma):\n"
      "    p = torch.zeros(1, requires_grad=True)\n"
      "    opt = torch.optim.SGD([{'params': [p], 'lr': 1e-3}, {'params': [torch.zeros(1, requires_grad=True)], 'lr': "
      "1e-2}],"
      " lr=1.0, momentum=0.9)\n"
      "    s = torch.optim.lr_scheduler.StepLR(opt, step_size=step, gamma=gamma)\n"
      "    rec, closed = [], []\n"
      "    for e in range(" +
      std::to_string(kEpochs) +
      "):\n"
      "        rec.append([g['lr'] for g in opt.param_groups])\n"
      "        closed.append(s._get_closed_form_lr())\n"
      "        opt.step()\n"
      "        s.step()\n"
      "    return torch.tensor(rec, dtype=torch.float64), torch.tensor(closed, dtype=torch.float64)\n";
  for (const Case& c : cases) {
    const std::string tag = std::to_string(c.step) + "_" + std::to_string(static_cast<int>(c.gamma * 10));
    script += "r, c = schedule(" + std::to_string(c.step) + ", " + std::to_string(c.gamma) + ")\n";
    script += "save('recursive." + tag + "', r)\nsave('closed." + tag + "', c)\n";
  }
  ref.run(script);

  for (const Case& c : cases) {
    const std::string tag = std::to_string(c.step) + "_" + std::to_string(static_cast<int>(c.gamma * 10));
    CAPTURE(tag);
    Tensor p0 = Tensor::zeros({1}).requires_grad_(), p1 = Tensor::zeros({1}).requires_grad_();
    train::Sgd opt({train::ParamGroup{{{"p0", p0}}, 1e-3}, train::ParamGroup{{{"p1", p1}}, 1e-2}}, {.momentum = 0.9});
    train::StepLR schedule(opt, c.step, c.gamma);
    const auto recursive = ref.get("recursive." + tag).to_vector<double>();
    const auto closed = ref.get("closed." + tag).to_vector<double>();
    double worst = 0;
    for (int e = 0; e < kEpochs; ++e) {
      schedule.begin_epoch(e);
      for (std::size_t g = 0; g < 2; ++g) {
        const double ours = opt.group(g).lr;
        const std::size_t i = static_cast<std::size_t>(e) * 2 + g;
        CHECK(ours == closed[i]);
        worst = std::max(worst, std::abs(ours - recursive[i]) / recursive[i]);
        CHECK(ours == schedule.lr(g, e));
      }
    }
    CHECK(worst < 1e-15);
    std::printf("StepLR(%d, %g): closed form bit-exact, recursive max rel diff %.1e\n", c.step, c.gamma, worst);
  }
}

TEST_CASE("StepLR refuses bad arguments") {
  Tensor p = Tensor::zeros({1}).requires_grad_();
  train::Sgd opt({train::ParamGroup{{{"p", p}}, 1e-3}});
  test::expect_error_naming("step 0", {"step size 0"}, [&] { train::StepLR(opt, 0); });
  test::expect_error_naming("negative epoch", {"epoch -1"}, [&] { train::step_lr(1e-3, -1, 7, 0.1); });
  CHECK(train::step_lr(1e-3, 6, 7, 0.1) == 1e-3);
  CHECK(train::step_lr(1e-3, 7, 7, 0.1) == 1e-3 * 0.1);
}
