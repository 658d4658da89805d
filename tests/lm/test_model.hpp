// A small random model in the shipped format (docs/lm_format.md), for tests that must not
// depend on the trained weights: 2 layers, 2 heads of 16 features, d_model 32, context 16,
// window 16 over sub-tiles of 8 keys; saturations scaled to the small head so that the
// HardSigmoid and the counters work inside their ranges.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/tb/npy.hpp"

namespace gca::lm::test {

struct TestShape {
  int layers = 2, heads = 2, d_head = 16, d_model = 32, d_mlp = 64, context = 16, cols = 8;
};

inline const std::string& test_chars() {
  static const std::string c = "~\n !',.?abcdefghijklmnopqrstuvwxyz";  // '~' is the unknown
  return c;
}

// Writes manifest.json and both networks' tensors into dir; returns the manifest path.
inline std::string write_test_model(const std::string& dir, std::uint64_t seed = 7,
                                    const TestShape& s = {}) {
  namespace fs = std::filesystem;
  std::uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 1;
  auto uniform = [&]() {  // in [-1, 1)
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return double(state >> 11) * 0x1.0p-52 - 1.0;
  };
  const std::size_t V = test_chars().size(), D = s.d_model, HD = std::size_t(s.heads) * s.d_head,
                    F = s.d_mlp, T = s.context;
  auto tensor = [&](const fs::path& net, const std::string& name, std::vector<std::size_t> shape,
                    double scale, double offset = 0.0) {
    std::size_t n = 1;
    for (auto e : shape) n *= e;
    std::vector<double> x(n);
    for (auto& v : x) v = offset + scale * uniform();
    tb::write_npy((net / (name + ".npy")).string(), shape, x);
  };
  for (const char* name : {"softmax", "hardware"}) {
    const fs::path net = fs::path(dir) / name;
    fs::create_directories(net);
    tensor(net, "tok_emb", {V, D}, 1.0);
    tensor(net, "pos_emb", {T, D}, 0.3);
    for (int l = 0; l < s.layers; ++l) {
      const std::string p = "layer" + std::to_string(l) + ".";
      tensor(net, p + "ln1.weight", {D}, 0.1, 1.0);
      tensor(net, p + "ln1.bias", {D}, 0.1);
      for (const char* w : {"q", "k", "v"}) {
        tensor(net, p + "attn.w" + w, {D, HD}, 0.4);
        tensor(net, p + "attn.b" + w, {HD}, 0.1);
      }
      tensor(net, p + "attn.wo", {HD, D}, 0.3);
      tensor(net, p + "attn.bo", {D}, 0.1);
      tensor(net, p + "ln2.weight", {D}, 0.1, 1.0);
      tensor(net, p + "ln2.bias", {D}, 0.1);
      tensor(net, p + "mlp.w1", {D, F}, 0.3);
      tensor(net, p + "mlp.b1", {F}, 0.1);
      tensor(net, p + "mlp.w2", {F, D}, 0.2);
      tensor(net, p + "mlp.b2", {D}, 0.1);
      if (std::string(name) == "hardware") {
        std::vector<double> sc;
        for (int h = 0; h < s.heads; ++h) {
          // q' = 0.25 q + 0.5, k' = 0.15 k + 0.45, v' = 0.15 v + 0.45, out * 1.5
          const double row[8] = {0.25, 0.5, 0.15, 0.45, 0.15, 0.45, 1.5, 0.0};
          for (double v : row) sc.push_back(v * (1.0 + 0.1 * uniform()));
        }
        tb::write_npy((net / (p + "attn.scalers.npy")).string(), {std::size_t(s.heads), 8}, sc);
      }
    }
    tensor(net, "ln_f.weight", {D}, 0.1, 1.0);
    tensor(net, "ln_f.bias", {D}, 0.1);
    tensor(net, "head", {D, V}, 0.5);
  }
  nlohmann::json m;
  m["format"] = "gca-charlm-1";
  m["architecture"] = {{"n_layers", s.layers},
                       {"n_heads", s.heads},
                       {"d_head", s.d_head},
                       {"d_model", s.d_model},
                       {"d_mlp", s.d_mlp},
                       {"context", s.context},
                       {"layer_norm_eps", 1e-5},
                       {"activation", "gelu_tanh"},
                       {"positions", "learned, chunked scoring"}};
  nlohmann::json chars = nlohmann::json::array();
  for (char c : test_chars()) chars.push_back(std::string(1, c));
  m["vocab"] = {{"chars", chars}, {"unk_id", 0}};
  // The paper's gain-cell fit (rtl_spec/params/gpt2.json); saturations for 16 features.
  m["hardware"] = {{"window", s.context},
                   {"array.cols", s.cols},
                   {"quant.q_levels", 16},
                   {"quant.kv_levels", 8},
                   {"quant.out_levels", 32},
                   {"charge_to_pulse.s_sat_qk", 6.0},
                   {"charge_to_pulse.s_sat_av", 1.5},
                   {"gain_cell",
                    {{"w_center_v", 0.45},
                     {"v_in_v", 0.9},
                     {"c00", 0.17393044},
                     {"c01", 0.15653739},
                     {"c02", 0.14088365},
                     {"c03", 0.12679529},
                     {"c10", 5.51975209},
                     {"c11", 4.96777688},
                     {"c12", 4.4709992},
                     {"c20", -1.44776001},
                     {"c21", -1.30298401},
                     {"c30", 46.05483778}}}};
  m["networks"] = {{"softmax", {{"dir", "softmax"}, {"attention", "softmax"}}},
                   {"hardware", {{"dir", "hardware"}, {"attention", "hardware"}}}};
  m["training"] = {{"corpus", "none: random weights for tests"}};
  const std::string path = (fs::path(dir) / "manifest.json").string();
  std::ofstream(path) << m.dump(1);
  return path;
}

}  // namespace gca::lm::test
