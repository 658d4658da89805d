// The shipped character language model (docs/lm_format.md): manifest.json, the vocabulary, the
// hardware parameters the adapted network was trained for, and the weights of its two networks
// (softmax baseline, hardware-attention adapted), loaded from .npy files and checked against the
// architecture. Pure C++ (no SystemC).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace gca::lm {

struct Architecture {
  int n_layers = 0, n_heads = 0, d_head = 0, d_model = 0, d_mlp = 0, context = 0;
  double layer_norm_eps = 1e-5;
  int qkv_width() const { return n_heads * d_head; }
};

// The attention function the hardware computes (docs/lm_format.md, "hardware attention"): the
// input ranges and quantizers, the gain-cell polynomial, the saturations, the window tiling.
struct HardwareAttentionParams {
  int window = 0;                           // M, slots
  int cols = 64;                            // keys per sub-tile (array.cols)
  int q_levels = 16;                        // PWM levels over [0, 1]; 0 = ideal
  int kv_levels = 8;                        // DAC levels over [kv_lo, kv_hi]; 0 = ideal
  int out_levels = 32;                      // counter levels over [-1, 1]; 0 = ideal
  double s_sat_qk = 80.0, s_sat_av = 40.0;  // charge units at the T_max in force
  double kv_lo = 0.0, kv_hi = 0.9;          // V
  double w_center = 0.45;                   // V
  std::array<double, 4> poly{};             // g(w) = sum_i poly[i] w^i, w = stored - w_center
  double g(double stored_v) const {
    const double w = stored_v - w_center;
    return poly[0] + w * (poly[1] + w * (poly[2] + w * poly[3]));
  }
};

// Characters of the vocabulary, by token id. Text is UTF-8; a code point outside the list (or
// an invalid byte) is the unknown token.
struct Vocab {
  std::vector<char32_t> chars;
  int unk_id = 0;
  std::unordered_map<char32_t, int> index;
  int size() const { return static_cast<int>(chars.size()); }
  // Token id of a code point, or -1 when it is not in the vocabulary.
  int find(char32_t c) const {
    auto it = index.find(c);
    return it == index.end() ? -1 : it->second;
  }
};

// Row-major matrices stored [in, out] (y = x W + b) and vectors, kept in float32 as shipped
// (half the memory traffic of double; the forward pass computes in double).
using Weights = std::vector<float>;
struct LayerWeights {
  Weights ln1_w, ln1_b, wq, bq, wk, bk, wv, bv, wo, bo, ln2_w, ln2_b, w1, b1, w2, b2;
  Weights scalers;  // hardware network: [H, 8] (a_q b_q a_k b_k a_v b_v a_o b_o)
};

struct NetworkWeights {
  std::string name;       // "softmax" or "hardware"
  bool hardware = false;  // attention is the hardware's function (scalers present)
  Weights tok_emb, pos_emb, lnf_w, lnf_b, head;
  std::vector<LayerWeights> layers;
};

struct Model {
  std::string manifest_path, dir;  // dir: folder of the manifest (paths inside are relative)
  Architecture arch;
  Vocab vocab;
  HardwareAttentionParams hardware;  // as trained
  NetworkWeights softmax, adapted;
  // Reference for tests: text and logits [N, V] of each network, empty when not shipped.
  std::string reference_text_path, reference_softmax_path, reference_hardware_path;
};

// Loads and validates everything. Throws gca::Error with one line naming the file or key and
// what was expected (missing file, wrong shape, bad manifest entry).
Model load_model(const std::string& manifest_path);

// Text -> token ids (UTF-8, CR LF -> LF); unknown code points and invalid bytes -> unk_id.
struct Encoded {
  std::vector<int> ids;
  std::vector<bool> unknown;  // per id: the character was not in the vocabulary
  long unknown_count = 0;
};
Encoded encode(const Vocab& vocab, const std::string& utf8);
// Token ids -> UTF-8 text.
std::string decode(const Vocab& vocab, const std::vector<int>& ids);

}  // namespace gca::lm
