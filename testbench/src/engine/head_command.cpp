#include "gca/tb/engine/head_command.hpp"

#include <cstdio>

#include "gca/sc/attention_head.hpp"
#include "gca/spec/error.hpp"
#include "gca/tb/npy.hpp"
#include "gca/tb/run_limits.hpp"
#include "gca/tlm/system.hpp"

namespace gca::tb {
namespace {

// Keeps head 0's outputs and, when asked, its scores and Phi by age of the key.
class HeadCapture : public Observer {
 public:
  HeadCapture(long tokens, int d, int window, bool scores)
      : T_(tokens), d_(d), M_(window), scores_on_(scores), out_(std::size_t(tokens) * d) {
    if (scores_on_) {
      scores_.assign(std::size_t(T_) * M_, 0.0);
      phi_.assign(std::size_t(T_) * M_, 0.0);
    }
  }
  void attach(tlm::System& sys) override {
    if (scores_on_) sys.accelerator.head(0, 0).capture_scores(true);
  }
  void output(const HeadOutput& o) override {
    std::copy_n(o.out, d_, out_.data() + std::size_t(o.token) * d_);
  }
  void head_result(int, int, const sc::HeadResult& r) override {
    if (!scores_on_) return;
    // Column a: the key written a tokens before this one (age a), zero before token 0.
    for (long a = 0; a < M_ && a <= r.token; ++a) {
      const int slot = static_cast<int>((r.token - a) % M_);
      scores_[std::size_t(r.token) * M_ + a] = r.scores[slot];
      phi_[std::size_t(r.token) * M_ + a] = r.phi[slot];
    }
  }
  void write_files(const std::function<std::string(const std::string&)>& path_of) override {
    write_npy(path_of("out.npy"), {std::size_t(T_), std::size_t(d_)}, out_);
    if (!scores_on_) return;
    write_npy(path_of("scores.npy"), {std::size_t(T_), std::size_t(M_)}, scores_);
    write_npy(path_of("phi.npy"), {std::size_t(T_), std::size_t(M_)}, phi_);
  }

 private:
  long T_;
  int d_, M_;
  bool scores_on_;
  std::vector<double> out_, scores_, phi_;
};

// Q, K and V must be [T, d_head] with the same T; returns T.
long checked_tokens(const HeadRunOptions& o, int d) {
  NpyReadOptions ro;
  ro.expected_ndim = 2;
  ro.expected_shape = {-1, d};
  check_head_input_memory({o.q_path, o.k_path, o.v_path});  // before anything is read
  const NpyArray Q = read_npy(o.q_path, ro), K = read_npy(o.k_path, ro), V = read_npy(o.v_path, ro);
  const long T = static_cast<long>(Q.shape[0]);
  if (T == 0) throw Error(o.q_path, "", "holds no tokens");
  if (K.shape[0] != Q.shape[0])
    throw Error(o.k_path, "",
                "has " + std::to_string(K.shape[0]) + " tokens, Q has " + std::to_string(T));
  if (V.shape[0] != Q.shape[0])
    throw Error(o.v_path, "",
                "has " + std::to_string(V.shape[0]) + " tokens, Q has " + std::to_string(T));
  return T;
}

}  // namespace

RunResult run_head_command(const HeadRunOptions& o) {
  Scenario sc;
  sc.file = o.q_path;
  sc.name = "head";
  sc.description = "gca-sim head over " + o.q_path + ", " + o.k_path + ", " + o.v_path;
  sc.spec_path = o.spec_path;
  sc.overrides = o.overrides;
  sc.overrides.push_back("model.n_layers=1");
  sc.overrides.push_back("model.n_heads=1");
  const spec::HardwareSpec s = spec::load_spec_overridden(sc.spec_path, spec_overrides(sc));
  const long T = checked_tokens(o, s.model.d_head);
  check_head_limits(s, T, o.dump_scores);
  sc.host.tokens = T;
  sc.stimulus.kind = StimulusConfig::Kind::npy;
  sc.stimulus.q_path = o.q_path;
  sc.stimulus.k_path = o.k_path;
  sc.stimulus.v_path = o.v_path;
  nlohmann::json config = {
      {"name", sc.name},
      {"description", sc.description},
      {"hardware", {{"spec", sc.spec_path}, {"overrides", sc.overrides}}},
      {"workload", {{"mode", "decode"}, {"tokens", T}}},
      {"stimulus", {{"kind", "npy"}, {"q", o.q_path}, {"k", o.k_path}, {"v", o.v_path}}}};
  sc.json_text = config.dump(2) + "\n";

  ExperimentOptions opt;
  opt.out_dir = o.out_dir;
  opt.progress = o.progress;
  opt.plots = o.plots;
  opt.observers.push_back(
      std::make_shared<HeadCapture>(T, s.model.d_head, s.window, o.dump_scores));
  RunResult r = run_experiment(sc, opt);
  if (r.exit_code == kExitSimError) return r;
  std::printf(
      "head: %ld tokens, d %d, window %d; simulated %.1f ns; wrote %s/out.npy%s, "
      "report.json\n",
      T, s.model.d_head, s.window, r.report["simulated_time_ns"].get<double>(), o.out_dir.c_str(),
      o.dump_scores ? ", scores.npy, phi.npy" : "");
  return r;
}

}  // namespace gca::tb
