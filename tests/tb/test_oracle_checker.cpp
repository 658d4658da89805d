// The checker of gca-sim runs: agreement is reported as such, a wrong output is caught, and only
// the sampled tokens are compared.
#include <gtest/gtest.h>

#include <random>

#include "gca/spec/head_model.hpp"
#include "gca/tb/oracle_checker.hpp"

using namespace gca;

namespace {

// Feeds `tokens` random tokens of H heads, the outputs from the fast executable spec; corrupts
// one output value of token `bad_token`, head 1.
void feed(tb::OracleChecker& checker, const spec::HardwareSpec& s, int H, int tokens,
          int bad_token) {
  const int d = s.model.d_head;
  std::vector<spec::HeadModel> model;
  for (int h = 0; h < H; ++h) model.emplace_back(s, h);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 0.9);
  std::vector<double> q(d), k(d), v(d), out(d);
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < H; ++h) {
      for (int i = 0; i < d; ++i) q[i] = u(rng), k[i] = u(rng), v[i] = u(rng);
      model[h].step(q.data(), k.data(), v.data(), out.data(), 65.0 * t);
      if (t == bad_token && h == 1) out[2] += 0.01;
      checker.submit(0, h, t, q.data(), k.data(), v.data(), out.data(), 65.0 * t);
    }
  }
  checker.finish();
}

}  // namespace

TEST(OracleChecker, CountsAgreementAndCatchesAWrongOutput) {
  const spec::HardwareSpec s =
      spec::load_spec(spec::default_spec_path(),
                      {"window=8", "array.cols=4", "model.d_head=4", "quant.out_levels=0"});
  tb::OracleChecker checker(s, 1, 2, /*every=*/1, /*queue_tokens=*/1);  // submit() must wait
  feed(checker, s, 2, 20, 13);
  EXPECT_EQ(checker.compared(), 20 * 2 * 4);
  EXPECT_EQ(checker.mismatches(), 1);
  EXPECT_GT(checker.max_abs_error(), 9e-3);
}

TEST(OracleChecker, SamplesEveryNthTokenOfEachHead) {
  const spec::HardwareSpec s =
      spec::load_spec(spec::default_spec_path(), {"window=8", "array.cols=4", "model.d_head=4"});
  // every 4: head h compares tokens t with (t + h) % 4 == 0; 20 tokens -> 5 per head.
  tb::OracleChecker checker(s, 1, 2, 4);
  feed(checker, s, 2, 20, 14);  // head 1 compares tokens 3, 7, 11, 15, 19: 14 is not among them
  EXPECT_EQ(checker.compared(), 2 * 5 * 4);
  EXPECT_EQ(checker.mismatches(), 0);
  tb::OracleChecker again(s, 1, 2, 4);
  feed(again, s, 2, 20, 15);  // ... 15 is
  EXPECT_EQ(again.mismatches(), 1);
}
