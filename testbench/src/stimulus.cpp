#include "gca/tb/stimulus.hpp"

#include <memory>
#include <vector>

#include "gca/spec/error.hpp"
#include "gca/tb/npy.hpp"

namespace gca::tb {
namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// [T, d] rows of one file (one case of a [cases, T, d] file); `case_key` names the scenario key
// that picks the case.
std::vector<double> load_rows(const std::string& path, int d, long tokens, int which_case,
                              const std::string& case_key) {
  NpyArray a = read_npy(path);
  if (a.ndim() == 3) {
    if (a.shape[0] == 0) throw Error(path, "", "3-D array [cases, T, d] holds no cases");
    if (which_case < 0) {
      throw Error(path, case_key,
                  "3-D array [cases, T, d]: the scenario must pick a case (allowed: 0.." +
                      std::to_string(a.shape[0] - 1) + ")");
    }
    if (std::size_t(which_case) >= a.shape[0]) {
      throw Error(path, case_key,
                  "case " + std::to_string(which_case) + " does not exist (allowed: 0.." +
                      std::to_string(a.shape[0] - 1) + ")");
    }
    const std::size_t n = a.shape[1] * a.shape[2];
    std::vector<double> rows(a.data.begin() + which_case * n,
                             a.data.begin() + (which_case + 1) * n);
    a.shape = {a.shape[1], a.shape[2]};
    a.data = std::move(rows);
  }
  if (a.ndim() != 2) {
    throw Error(path, "",
                "has " + std::to_string(a.ndim()) +
                    " dimensions (allowed: 2-D [T, d] or 3-D [cases, T, d])");
  }
  if (a.shape[1] != std::size_t(d)) {
    throw Error(path, "",
                "has " + std::to_string(a.shape[1]) +
                    " features per token, the head has d_head = " + std::to_string(d));
  }
  if (a.shape[0] < std::size_t(tokens)) {
    throw Error(
        path, "",
        "holds " + std::to_string(a.shape[0]) + " tokens, the run needs " + std::to_string(tokens));
  }
  return a.data;
}

// [L, H, T, d] streams, one per head of every layer.
std::shared_ptr<std::vector<double>> load_head_streams(const std::string& path,
                                                       const gca::spec::ModelParams& m, long tokens,
                                                       long* rows_per_head) {
  NpyArray a = read_npy(path);
  const std::string want = "[L, H, T, d] = [" + std::to_string(m.n_layers) + ", " +
                           std::to_string(m.n_heads) + ", T >= " + std::to_string(tokens) + ", " +
                           std::to_string(m.d_head) + "]";
  auto shape = [&a] {
    std::string s = "[";
    for (std::size_t i = 0; i < a.shape.size(); ++i)
      s += (i ? ", " : "") + std::to_string(a.shape[i]);
    return s + "]";
  };
  if (a.ndim() != 4 || a.shape[0] != std::size_t(m.n_layers) ||
      a.shape[1] != std::size_t(m.n_heads) || a.shape[3] != std::size_t(m.d_head) ||
      a.shape[2] < std::size_t(tokens)) {
    throw Error(path, "stimulus.kind",
                "heads stimulus has shape " + shape() + ", the run needs " + want +
                    " (model.n_layers, model.n_heads, tokens, model.d_head)");
  }
  *rows_per_head = long(a.shape[2]);
  return std::make_shared<std::vector<double>>(std::move(a.data));
}

}  // namespace

double UniformStimulus::unit(std::uint64_t base, std::uint64_t i) const {
  return double(mix(base + i) >> 11) * (1.0 / 9007199254740992.0);
}

void UniformStimulus::operator()(long t, int l, int h, double* q, double* k, double* v) const {
  const std::uint64_t key = (std::uint64_t(t) << 24) ^ (std::uint64_t(l) << 12) ^ std::uint64_t(h);
  const std::uint64_t base = mix(c_.seed ^ mix(key));
  for (int i = 0; i < d_; ++i) {
    q[i] = c_.q_lo + (c_.q_hi - c_.q_lo) * unit(base, 3ULL * i);
    k[i] = c_.kv_lo + (c_.kv_hi - c_.kv_lo) * unit(base, 3ULL * i + 1);
    v[i] = c_.kv_lo + (c_.kv_hi - c_.kv_lo) * unit(base, 3ULL * i + 2);
  }
}

gca::tlm::TokenSource make_stimulus(const StimulusConfig& c, const gca::spec::ModelParams& model,
                                    long tokens) {
  const int d = model.d_head;
  if (c.kind == StimulusConfig::Kind::uniform) return UniformStimulus(c, d);
  if (c.kind == StimulusConfig::Kind::heads) {
    long rows = 0;
    auto q = load_head_streams(c.q_path, model, tokens, &rows);
    auto k = load_head_streams(c.k_path, model, tokens, &rows);
    auto v = load_head_streams(c.v_path, model, tokens, &rows);
    const int heads = model.n_heads;
    return [q, k, v, d, heads, rows](long t, int l, int h, double* qo, double* ko, double* vo) {
      const std::size_t off = (std::size_t(l * heads + h) * rows + std::size_t(t)) * d;
      std::copy_n(q->data() + off, d, qo);
      std::copy_n(k->data() + off, d, ko);
      std::copy_n(v->data() + off, d, vo);
    };
  }
  auto q = std::make_shared<std::vector<double>>(
      load_rows(c.q_path, d, tokens, c.npy_case, "stimulus.case"));
  auto k = std::make_shared<std::vector<double>>(
      load_rows(c.k_path, d, tokens, c.npy_case, "stimulus.case"));
  auto v = std::make_shared<std::vector<double>>(
      load_rows(c.v_path, d, tokens, c.npy_case, "stimulus.case"));
  return [q, k, v, d](long t, int, int, double* qo, double* ko, double* vo) {
    const std::size_t off = std::size_t(t) * d;
    std::copy_n(q->data() + off, d, qo);
    std::copy_n(k->data() + off, d, ko);
    std::copy_n(v->data() + off, d, vo);
  };
}

std::vector<double> load_expected_outputs(const ExpectConfig& e, int d, long tokens) {
  if (e.out_path.empty()) return {};
  return load_rows(e.out_path, d, tokens, e.out_case, "check.expect_case");
}

}  // namespace gca::tb
