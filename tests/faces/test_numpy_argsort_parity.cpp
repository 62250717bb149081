// numpy_argsort against np.argsort (kind='quicksort', the default) on arrays full of ties, where
// an unstable sort's order of equal elements shows: small ranges (insertion sort only), long ones
// (partitions), sorted, reversed and constant inputs.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "models/faces/numpy_argsort.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("numpy_argsort orders ties exactly as np.argsort") {
  std::vector<std::vector<double>> cases;
  std::mt19937 gen(5);
  for (int n : {1, 2, 5, 16, 17, 18, 40, 100, 613, 2000}) {
    std::vector<double> few_values(n), many(n);
    for (int i = 0; i < n; ++i) {
      few_values[i] = std::uniform_int_distribution<int>(0, 3)(gen);  // heavy ties
      many[i] = std::uniform_int_distribution<int>(0, n)(gen);        // some ties
    }
    cases.push_back(few_values);
    cases.push_back(many);
  }
  std::vector<double> ramp(300), down(300), flat(300, 0.5);
  for (int i = 0; i < 300; ++i) ramp[i] = i / 7, down[i] = (300 - i) / 7;
  cases.push_back(ramp);
  cases.push_back(down);
  cases.push_back(flat);

  test::TorchRef ref;
  for (std::size_t c = 0; c < cases.size(); ++c)
    ref.put("v" + std::to_string(c), Tensor::from_vector(cases[c], {static_cast<std::int64_t>(cases[c].size())}));
  ref.run("for c in range(" + std::to_string(cases.size()) + R"PY():
    v = load(f'v{c}').numpy().astype(np.float64)
    save(f'o{c}', np.argsort(v).astype(np.float64))
)PY");
  for (std::size_t c = 0; c < cases.size(); ++c) {
    CAPTURE(c);
    CAPTURE(cases[c].size());
    const std::vector<double> theirs = ref.get("o" + std::to_string(c)).to_vector<double>();
    const std::vector<std::size_t> ours = models::faces::numpy_argsort(cases[c]);
    REQUIRE(ours.size() == theirs.size());
    bool same = true;
    for (std::size_t i = 0; i < ours.size(); ++i) same &= static_cast<double>(ours[i]) == theirs[i];
    CHECK(same);
  }
  CHECK(models::faces::numpy_argsort({}).empty());
}
