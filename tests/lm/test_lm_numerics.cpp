// The language model's numerics without SystemC: loading and its errors, the text encoding, the
// chunk and generation plans, softmax attention on cases worked by hand, the float surrogate of
// the hardware's attention against the rtl_spec oracle head, and the float networks against the
// logits PyTorch computed for the shipped model.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "gca/lm/network.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/oracle_head.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/npy.hpp"
#include "test_model.hpp"

namespace fs = std::filesystem;
using namespace gca::lm;

namespace {

class LmModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gca_lm_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    manifest_ = test::write_test_model(dir_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string error_of(const std::string& manifest) {
    try {
      load_model(manifest);
    } catch (const gca::Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
  std::string manifest_;
};

TEST_F(LmModel, LoadsTheShapesOfTheManifest) {
  const Model m = load_model(manifest_);
  EXPECT_EQ(m.arch.n_layers, 2);
  EXPECT_EQ(m.vocab.size(), static_cast<int>(test::test_chars().size()));
  EXPECT_EQ(m.adapted.layers[1].scalers.size(), 2u * 8u);
  EXPECT_TRUE(m.softmax.layers[0].scalers.empty());
  // p0 = c00 + c01 v + c02 v^2 + c03 v^3 at v_in = 0.9 (by hand: 0.17393 + 0.14088 + 0.11412 +
  // 0.09243 = 0.52137).
  EXPECT_NEAR(m.hardware.poly[0], 0.52137, 1e-5);
  EXPECT_NEAR(m.hardware.poly[3], 46.05483778, 1e-9);
}

TEST_F(LmModel, MissingTensorNamesTheFile) {
  fs::remove(dir_ / "hardware" / "layer1.mlp.w2.npy");
  const std::string e = error_of(manifest_);
  EXPECT_NE(e.find("hardware/layer1.mlp.w2.npy"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST_F(LmModel, WrongShapeNamesTheFileAndTheExpectedShape) {
  gca::tb::write_npy((dir_ / "softmax" / "layer0.attn.wq.npy").string(), {32, 31},
                     std::vector<double>(32 * 31, 0.0));
  const std::string e = error_of(manifest_);
  EXPECT_NE(e.find("softmax/layer0.attn.wq.npy"), std::string::npos) << e;
  EXPECT_NE(e.find("[32, 32]"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST_F(LmModel, BadManifestNamesTheKey) {
  std::ifstream in(manifest_);
  nlohmann::json m = nlohmann::json::parse(in);
  m["architecture"]["d_head"] = -3;
  std::ofstream(manifest_) << m.dump();
  EXPECT_NE(error_of(manifest_).find("architecture.d_head"), std::string::npos);
  m["architecture"]["d_head"] = 16;
  m["vocab"]["chars"][3] = "ab";
  std::ofstream(manifest_) << m.dump();
  EXPECT_NE(error_of(manifest_).find("vocab.chars[3]"), std::string::npos);
  m["vocab"]["chars"][3] = "!";
  m["hardware"].erase("quant.kv_levels");
  std::ofstream(manifest_) << m.dump();
  EXPECT_NE(error_of(manifest_).find("hardware.quant.kv_levels"), std::string::npos);
  std::ofstream(manifest_) << "{\"format\": ";
  EXPECT_NE(error_of(manifest_).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of((dir_ / "nothing.json").string()).find("cannot open"), std::string::npos);
}

TEST_F(LmModel, EncodesUtf8WithUnknownsCounted) {
  const Model m = load_model(manifest_);
  const Encoded e = encode(m.vocab, "ab\r\nc\xc3\xa9z\xff");  // é unknown, 0xff invalid
  ASSERT_EQ(e.ids.size(), 7u);
  EXPECT_EQ(decode(m.vocab, {e.ids[0], e.ids[1], e.ids[2], e.ids[3]}), "ab\nc");
  EXPECT_EQ(e.unknown_count, 2);
  EXPECT_TRUE(e.unknown[4]);
  EXPECT_EQ(e.ids[4], 0);
  EXPECT_FALSE(e.unknown[5]);
  EXPECT_TRUE(e.unknown[6]);
}

TEST(LmPlans, GenerationRefeedsHalfAContextAfterAReset) {
  // prompt 3, 5 generated, context 4 (worked by hand): history indices fed 0 1 2 3 | 2 3 4 5 |
  // 4 5 6; a sample precedes the first feed of index 3, 4, 5, 6; the 5th sample (index 7) is
  // drawn after the last token.
  const auto plan = generation_plan(3, 5, 4);
  const long want_index[] = {0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6};
  const bool want_sample[] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1};
  const bool want_reset[] = {0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
  ASSERT_EQ(plan.size(), 11u);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].history_index, want_index[i]) << i;
    EXPECT_EQ(plan[i].sample_before, want_sample[i]) << i;
    EXPECT_EQ(plan[i].reset_before, want_reset[i]) << i;
    EXPECT_EQ(plan[i].position, static_cast<int>(i < 4 ? i : (i - 4) % 4)) << i;
  }
}

TEST(LmPlans, SamplingIsSeededAndTemperatureZeroIsArgmax) {
  const std::vector<double> logits = {0.1, 2.0, 0.5, 1.9};
  Sampler a(5, 1.0), b(5, 1.0), greedy(5, 0.0);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(logits), b.sample(logits));
  EXPECT_EQ(greedy.sample(logits), 1);
}

TEST(LmSoftmax, OneKeyGivesItsValueAndEqualKeysAverage) {
  Architecture a;
  a.n_layers = 1;
  a.n_heads = 1;
  a.d_head = 2;
  SoftmaxAttention att(a, 4);
  double out[2];
  const double q[2] = {1.0, -2.0}, k[2] = {0.3, 0.7}, v1[2] = {1.0, 3.0}, v2[2] = {3.0, -1.0};
  att.attend(0, q, k, v1, out);
  EXPECT_DOUBLE_EQ(out[0], 1.0);
  EXPECT_DOUBLE_EQ(out[1], 3.0);
  att.attend(0, q, k, v2, out);  // same key: weights 1/2, 1/2
  EXPECT_DOUBLE_EQ(out[0], 2.0);
  EXPECT_DOUBLE_EQ(out[1], 1.0);
  att.reset();
  att.attend(0, q, k, v2, out);
  EXPECT_DOUBLE_EQ(out[0], 3.0);
}

// The surrogate's head function against the rtl_spec oracle head (written apart: its own
// quantizer, term-by-term polynomial, slot loop), over two chunks with a reset between them.
TEST(LmSurrogate, HeadMatchesTheOracleHeadAcrossAReset) {
  const int d = 16, M = 12, cols = 5;  // 3 sub-tiles, the last one partial
  const gca::spec::HardwareSpec s = gca::spec::load_spec(
      gca::spec::default_spec_path(),
      {"model.n_layers=1", "model.n_heads=1", "model.d_head=16", "window=12", "array.cols=5",
       "array.rows=16", "charge_to_pulse.s_sat_qk=6", "charge_to_pulse.s_sat_av=1.5"});
  HardwareAttentionParams hw;
  hw.window = M;
  hw.cols = cols;
  hw.s_sat_qk = 6.0;
  hw.s_sat_av = 1.5;
  // Eq. 4 folded at v_in = 0.9, as the loader does (coefficients of rtl_spec/params/gpt2.json).
  const double c[4][4] = {{0.17393044, 0.15653739, 0.14088365, 0.12679529},
                          {5.51975209, 4.96777688, 4.4709992, 0},
                          {-1.44776001, -1.30298401, 0, 0},
                          {46.05483778, 0, 0, 0}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; i + j <= 3; ++j) hw.poly[i] += c[i][j] * std::pow(0.9, j);
  Architecture a;
  a.n_layers = 1;
  a.n_heads = 1;
  a.d_head = d;
  NetworkWeights none;
  HardwareAttention att(a, hw, none);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-0.2, 1.2);
  gca::spec::OracleHead oracle(s, 0);
  std::vector<double> q(d), k(d), v(d), out(d);
  long compared = 0;
  for (int t = 0; t < 40; ++t) {
    if (t == 23) {
      att.reset();
      oracle = gca::spec::OracleHead(s, 0);
    }
    for (int i = 0; i < d; ++i) {
      q[i] = quantize(u(rng), 16, 0.0, 1.0);
      k[i] = quantize(0.9 * u(rng), 8, 0.0, 0.9);
      v[i] = quantize(0.9 * u(rng), 8, 0.0, 0.9);
    }
    att.head_step(0, 0, q.data(), k.data(), v.data(), out.data());
    const gca::spec::OracleToken want = oracle.step(q.data(), k.data(), v.data(), 0.0);
    for (int i = 0; i < d; ++i, ++compared)
      EXPECT_NEAR(out[i], want.out[i], want.allowance[i] + 1e-12) << "token " << t << " " << i;
  }
  EXPECT_EQ(compared, 40 * d);
}

// The float path against the logits PyTorch dumped for the shipped model's reference text.
TEST(LmReference, FloatNetworksReproducePyTorchLogits) {
  const std::string manifest = std::string(GCA_LM_MODEL_DIR) + "/manifest.json";
  if (!fs::exists(manifest)) GTEST_SKIP() << "no shipped model at " << manifest;
  const Model m = load_model(manifest);
  if (m.reference_text_path.empty() || !fs::exists(m.reference_softmax_path) ||
      !fs::exists(m.reference_hardware_path))
    GTEST_SKIP() << "the manifest names no reference logits";
  std::ifstream in(m.reference_text_path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const Encoded e = encode(m.vocab, text.str());
  const long n = static_cast<long>(e.ids.size());
  for (const NetworkWeights* w : {&m.softmax, &m.adapted}) {
    gca::tb::NpyReadOptions ro;
    ro.expected_shape = {n, m.vocab.size()};
    const gca::tb::NpyArray want =
        gca::tb::read_npy(w->hardware ? m.reference_hardware_path : m.reference_softmax_path, ro);
    FloatNetwork net(m, *w, m.hardware);
    double worst = 0.0;
    for (long t = 0; t < n; ++t) {
      if (t > 0 && t % m.arch.context == 0) net.reset();
      const std::vector<double>& got = net.step(e.ids[std::size_t(t)], int(t % m.arch.context));
      for (int c = 0; c < m.vocab.size(); ++c)
        worst = std::max(worst,
                         std::fabs(got[std::size_t(c)] - want.at(std::size_t(t), std::size_t(c))));
    }
    EXPECT_LE(worst, 1e-4) << w->name << ": max abs logit difference over " << n << " chars";
    std::printf("%s: max abs logit difference %.3g over %ld characters\n", w->name.c_str(), worst,
                n);
  }
}

}  // namespace
