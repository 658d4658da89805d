#include "gca/lm/model.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/spec/error.hpp"
#include "gca/tb/npy.hpp"

namespace gca::lm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A manifest entry: present, of the right type, in range; else one line naming the key.
class ManifestReader {
 public:
  ManifestReader(std::string file, const json& root) : file_(std::move(file)), root_(root) {}

  const json& at(const json& obj, const std::string& key, const std::string& where) const {
    if (!obj.is_object() || !obj.contains(key))
      throw Error(file_, where + key, "missing (see docs/lm_format.md)");
    return obj.at(key);
  }
  int integer(const json& obj, const std::string& key, const std::string& where, long lo,
              long hi) const {
    const json& v = at(obj, key, where);
    if (!v.is_number_integer() || v.get<long>() < lo || v.get<long>() > hi)
      throw Error(file_, where + key,
                  "is " + v.dump() + " (allowed: an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "])");
    return v.get<int>();
  }
  double number(const json& obj, const std::string& key, const std::string& where, double lo,
                double hi) const {
    const json& v = at(obj, key, where);
    if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi)) {
      std::ostringstream os;
      os << "is " << v.dump() << " (allowed: a number in [" << lo << ", " << hi << "])";
      throw Error(file_, where + key, os.str());
    }
    return v.get<double>();
  }
  std::string text(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = at(obj, key, where);
    if (!v.is_string() || v.get<std::string>().empty())
      throw Error(file_, where + key, "is " + v.dump() + " (allowed: a non-empty string)");
    return v.get<std::string>();
  }
  const std::string& file() const { return file_; }
  const json& root() const { return root_; }

 private:
  std::string file_;
  const json& root_;
};

bool next_code_point(const std::string& s, std::size_t& i, char32_t& c);

// One code point from a string holding exactly one UTF-8 character.
bool single_code_point(const std::string& s, char32_t& out) {
  std::size_t i = 0;
  return !s.empty() && next_code_point(s, i, out) && i == s.size();
}

Architecture read_architecture(const ManifestReader& r) {
  const json& a = r.at(r.root(), "architecture", "");
  const std::string w = "architecture.";
  Architecture arch;
  arch.n_layers = r.integer(a, "n_layers", w, 1, 64);
  arch.n_heads = r.integer(a, "n_heads", w, 1, 64);
  arch.d_head = r.integer(a, "d_head", w, 1, 4096);
  arch.d_model = r.integer(a, "d_model", w, 1, 65536);
  arch.d_mlp = r.integer(a, "d_mlp", w, 1, 262144);
  arch.context = r.integer(a, "context", w, 1, 1 << 20);
  arch.layer_norm_eps = r.number(a, "layer_norm_eps", w, 0.0, 1.0);
  const std::string act = r.text(a, "activation", w);
  if (act != "gelu_tanh")
    throw Error(r.file(), w + "activation", "is \"" + act + "\" (allowed: \"gelu_tanh\")");
  return arch;
}

Vocab read_vocab(const ManifestReader& r) {
  const json& v = r.at(r.root(), "vocab", "");
  const json& chars = r.at(v, "chars", "vocab.");
  if (!chars.is_array() || chars.empty())
    throw Error(r.file(), "vocab.chars", "allowed: a non-empty list of one-character strings");
  Vocab vocab;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    char32_t c = 0;
    if (!chars[i].is_string() || !single_code_point(chars[i].get<std::string>(), c))
      throw Error(r.file(), "vocab.chars[" + std::to_string(i) + "]",
                  "is " + chars[i].dump() + " (allowed: a string of one character)");
    if (!vocab.index.emplace(c, static_cast<int>(i)).second)
      throw Error(r.file(), "vocab.chars[" + std::to_string(i) + "]",
                  "repeats an earlier character");
    vocab.chars.push_back(c);
  }
  vocab.unk_id = r.integer(v, "unk_id", "vocab.", 0, static_cast<long>(chars.size()) - 1);
  return vocab;
}

// Entry "gain_cell.cIJ": paper Eq. 4 coefficient of w^I v_in^J.
HardwareAttentionParams read_hardware(const ManifestReader& r) {
  const json& h = r.at(r.root(), "hardware", "");
  const std::string w = "hardware.";
  HardwareAttentionParams p;
  p.window = r.integer(h, "window", w, 1, 1 << 20);
  p.cols = r.integer(h, "array.cols", w, 1, 4096);
  p.q_levels = r.integer(h, "quant.q_levels", w, 0, 1 << 16);
  p.kv_levels = r.integer(h, "quant.kv_levels", w, 0, 1 << 16);
  p.out_levels = r.integer(h, "quant.out_levels", w, 0, 1 << 16);
  for (const char* k : {"quant.q_levels", "quant.kv_levels", "quant.out_levels"}) {
    if (h.at(k).get<int>() == 1) throw Error(r.file(), w + k, "is 1 (allowed: 0 = ideal, or >= 2)");
  }
  p.s_sat_qk = r.number(h, "charge_to_pulse.s_sat_qk", w, 1e-12, 1e12);
  p.s_sat_av = r.number(h, "charge_to_pulse.s_sat_av", w, 1e-12, 1e12);
  const json& g = r.at(h, "gain_cell", w);
  const std::string wg = w + "gain_cell.";
  p.w_center = r.number(g, "w_center_v", wg, -10.0, 10.0);
  const double v_in = r.number(g, "v_in_v", wg, -10.0, 10.0);
  if (g.contains("v_min_v")) p.kv_lo = r.number(g, "v_min_v", wg, -10.0, 10.0);
  if (g.contains("v_max_v")) p.kv_hi = r.number(g, "v_max_v", wg, p.kv_lo, 10.0);
  for (int i = 0; i <= 3; ++i) {
    double vin_pow = 1.0;
    for (int j = 0; i + j <= 3; ++j) {
      const std::string key = "c" + std::to_string(i) + std::to_string(j);
      p.poly[static_cast<std::size_t>(i)] += r.number(g, key, wg, -1e6, 1e6) * vin_pow;
      vin_pow *= v_in;
    }
  }
  return p;
}

class TensorLoader {
 public:
  TensorLoader(std::string dir) : dir_(std::move(dir)) {}
  Weights load(const std::string& name, std::vector<long> shape) const {
    const std::string path = (fs::path(dir_) / (name + ".npy")).string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw Error(path, "",
                  "missing: tensor " + name + " " + shape_text(shape) +
                      " of the network (see docs/lm_format.md)");
    tb::NpyReadOptions opt;
    opt.expected_ndim = static_cast<int>(shape.size());
    opt.expected_shape = shape;
    try {
      const std::vector<double> data = tb::read_npy(path, opt).data;
      return Weights(data.begin(), data.end());
    } catch (const tb::NpyError& e) {
      throw Error(path, "",
                  e.problem() + " (tensor " + name + ", expected shape " + shape_text(shape) + ")");
    }
  }

 private:
  static std::string shape_text(const std::vector<long>& s) {
    std::string t = "[";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "]";
  }
  std::string dir_;
};

NetworkWeights load_network(const ManifestReader& r, const std::string& model_dir,
                            const std::string& name, const Architecture& a, int vocab) {
  const json& nets = r.at(r.root(), "networks", "");
  const json& n = r.at(nets, name, "networks.");
  const std::string where = "networks." + name + ".";
  const std::string attention = r.text(n, "attention", where);
  const std::string want = name == "softmax" ? "softmax" : "hardware";
  if (attention != want)
    throw Error(r.file(), where + "attention",
                "is \"" + attention + "\" (allowed: \"" + want + "\")");
  NetworkWeights w;
  w.name = name;
  w.hardware = want == "hardware";
  const TensorLoader t((fs::path(model_dir) / r.text(n, "dir", where)).string());
  const long D = a.d_model, HD = a.qkv_width(), F = a.d_mlp, V = vocab, T = a.context;
  w.tok_emb = t.load("tok_emb", {V, D});
  w.pos_emb = t.load("pos_emb", {T, D});
  for (int l = 0; l < a.n_layers; ++l) {
    const std::string p = "layer" + std::to_string(l) + ".";
    LayerWeights L;
    L.ln1_w = t.load(p + "ln1.weight", {D});
    L.ln1_b = t.load(p + "ln1.bias", {D});
    L.wq = t.load(p + "attn.wq", {D, HD});
    L.bq = t.load(p + "attn.bq", {HD});
    L.wk = t.load(p + "attn.wk", {D, HD});
    L.bk = t.load(p + "attn.bk", {HD});
    L.wv = t.load(p + "attn.wv", {D, HD});
    L.bv = t.load(p + "attn.bv", {HD});
    L.wo = t.load(p + "attn.wo", {HD, D});
    L.bo = t.load(p + "attn.bo", {D});
    L.ln2_w = t.load(p + "ln2.weight", {D});
    L.ln2_b = t.load(p + "ln2.bias", {D});
    L.w1 = t.load(p + "mlp.w1", {D, F});
    L.b1 = t.load(p + "mlp.b1", {F});
    L.w2 = t.load(p + "mlp.w2", {F, D});
    L.b2 = t.load(p + "mlp.b2", {D});
    if (w.hardware) L.scalers = t.load(p + "attn.scalers", {a.n_heads, 8});
    w.layers.push_back(std::move(L));
  }
  w.lnf_w = t.load("ln_f.weight", {D});
  w.lnf_b = t.load("ln_f.bias", {D});
  w.head = t.load("head", {D, V});
  return w;
}

}  // namespace

Model load_model(const std::string& manifest_path) {
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) throw Error(manifest_path, "", "cannot open the manifest");
  std::stringstream buf;
  buf << in.rdbuf();
  json root;
  try {
    root = json::parse(buf.str());
  } catch (const json::exception& e) {
    throw Error(manifest_path, "", std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) throw Error(manifest_path, "", "allowed: a JSON object");
  const ManifestReader r(manifest_path, root);
  const std::string format = r.text(root, "format", "");
  if (format != "gca-charlm-1")
    throw Error(manifest_path, "format", "is \"" + format + "\" (allowed: \"gca-charlm-1\")");
  Model m;
  m.manifest_path = manifest_path;
  m.dir = fs::path(manifest_path).parent_path().string();
  if (m.dir.empty()) m.dir = ".";
  m.arch = read_architecture(r);
  m.vocab = read_vocab(r);
  m.hardware = read_hardware(r);
  if (m.arch.d_head != 64 && m.arch.d_head > 4096)
    throw Error(manifest_path, "architecture.d_head", "too large");
  m.softmax = load_network(r, m.dir, "softmax", m.arch, m.vocab.size());
  m.adapted = load_network(r, m.dir, "hardware", m.arch, m.vocab.size());
  if (root.contains("reference") && root["reference"].is_object()) {
    const json& ref = root["reference"];
    auto rel = [&](const std::string& p) { return (fs::path(m.dir) / p).string(); };
    if (ref.contains("text") && ref["text"].is_string())
      m.reference_text_path = rel(ref["text"].get<std::string>());
    if (ref.contains("logits") && ref["logits"].is_object()) {
      const json& lg = ref["logits"];
      if (lg.contains("softmax") && lg["softmax"].is_string())
        m.reference_softmax_path = rel(lg["softmax"].get<std::string>());
      if (lg.contains("hardware") && lg["hardware"].is_string())
        m.reference_hardware_path = rel(lg["hardware"].get<std::string>());
    }
  }
  return m;
}

namespace {

// Next code point of UTF-8 text at i; false (one byte consumed) on an invalid sequence.
bool next_code_point(const std::string& s, std::size_t& i, char32_t& c) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  unsigned n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return false;
  }
  char32_t v = n == 1 ? b0 : n == 2 ? (b0 & 0x1f) : n == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (unsigned k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) {
      ++i;
      return false;
    }
    v = (v << 6) | (b & 0x3f);
  }
  // Overlong forms and surrogates are invalid.
  static const char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
    ++i;
    return false;
  }
  i += n;
  c = v;
  return true;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

}  // namespace

Encoded encode(const Vocab& vocab, const std::string& s) {
  Encoded e;
  e.ids.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      ++i;  // CR LF -> LF
      continue;
    }
    char32_t c = 0;
    const int id = next_code_point(s, i, c) ? vocab.find(c) : -1;
    e.ids.push_back(id < 0 ? vocab.unk_id : id);
    e.unknown.push_back(id < 0);
    if (id < 0) ++e.unknown_count;
  }
  return e;
}

std::string decode(const Vocab& vocab, const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) append_utf8(out, vocab.chars.at(static_cast<std::size_t>(id)));
  return out;
}

}  // namespace gca::lm
