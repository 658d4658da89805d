// The checker of gca-sim runs: agreement is reported as such, and a wrong output is caught.
#include <gtest/gtest.h>

#include <random>

#include "gca/spec/head_model.hpp"
#include "gca/tb/spec_checker.hpp"

using namespace gca;

TEST(SpecChecker, CountsAgreementAndCatchesAWrongOutput) {
  const spec::HardwareSpec s =
      spec::load_spec(spec::default_spec_path(),
                      {"window=8", "array.cols=4", "model.d_head=4", "quant.out_levels=0"});
  const int d = 4, H = 2;
  // The outputs a correct model would give, from heads of our own.
  std::vector<spec::HeadModel> model;
  for (int h = 0; h < H; ++h) model.emplace_back(s, h);
  tb::SpecChecker checker(s, 1, H, /*queue_tokens=*/1);  // a tiny queue: submit() must wait
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 0.9);
  double q[4], k[4], v[4], out[4];
  for (int t = 0; t < 20; ++t) {
    for (int h = 0; h < H; ++h) {
      for (int i = 0; i < d; ++i) q[i] = u(rng), k[i] = u(rng), v[i] = u(rng);
      model[h].step(q, k, v, out, 780.0 * t);
      if (t == 13 && h == 1) out[2] += 0.01;  // one wrong value
      checker.submit(0, h, q, k, v, out, 780.0 * t);
    }
  }
  checker.finish();
  EXPECT_EQ(checker.checked(), 20 * H * d);
  EXPECT_EQ(checker.mismatches(), 1);
  EXPECT_GT(checker.max_rel_error(), 1e-3);
}
