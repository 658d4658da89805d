#include "gca/tb/lm_run.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "gca/power/report.hpp"
#include "gca/spec/circuits.hpp"
#include "gca/spec/error.hpp"
#include "gca/tb/engine/exit_codes.hpp"
#include "gca/tb/oracle_checker.hpp"
#include "gca/tb/output_set.hpp"
#include "gca/tb/sanitizer_stack.hpp"
#include "gca/tb/stimulus.hpp"
#include "gca/tlm/lm_closed_loop.hpp"
#include "gca/tlm/system.hpp"

namespace gca::tb {
namespace {

using Clock = std::chrono::steady_clock;

std::string number(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "--text", "cannot open the text file");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What the simulation is fed and what it feeds back: the closed loop, or uniform data.
struct LmDrive {
  long tokens = 0;
  tlm::TokenSource source;
  tlm::OutputSink sink;
  std::function<bool(long)> reset_before;
  long energy_tokens = 0;  // tokens over which energy per head per token is averaged
};

struct LmSimResult {
  bool ok = true;
  std::string error;
  double sim_ns = 0.0, wall_s = 0.0;
  double energy_per_head_token_pj = 0.0;
  power::GroupEnergies energy_per_head_token_groups{};
  long compared = 0, mismatches = 0, flips = 0, oracle_every = 1;
  double max_abs_error = 0.0;
  std::unique_ptr<power::EnergyTable> table;
  std::unique_ptr<power::PowerTracker> tracker;
  power::RunInfo run;
};

// Outputs compared with the oracle: every token of every head up to this many head-tokens,
// then every n-th (as gca-sim run).
constexpr long kOracleBudget = 8000;

// One simulation: the host drives every head of every layer of the accelerator through the
// host link, with the power tracker and the oracle check. One per process (SystemC).
LmSimResult simulate(const spec::HardwareSpec& s, LmDrive& io, bool quiet) {
  const int L = s.model.n_layers, H = s.model.n_heads, d = s.model.d_head;
  LmSimResult res;
  res.table = std::make_unique<power::EnergyTable>(s);
  res.tracker = std::make_unique<power::PowerTracker>(*res.table, 1000.0);
  const long head_tokens = io.tokens * L * H;
  res.oracle_every = std::max(1L, (head_tokens + kOracleBudget - 1) / kOracleBudget);
  OracleChecker checker(s, L, H, res.oracle_every);

  // The inputs each head got for the token in flight (decode: one per head) and its time.
  std::vector<double> inputs(std::size_t(L) * H * 3 * d);
  std::vector<double> token_time_ns(std::size_t(L) * H, 0.0);
  auto recording_source = [&](long t, int l, int h, double* q, double* k, double* v) {
    io.source(t, l, h, q, k, v);
    double* in = inputs.data() + (std::size_t(l) * H + h) * 3 * d;
    std::copy_n(q, d, in);
    std::copy_n(k, d, in + d);
    std::copy_n(v, d, in + 2 * d);
  };
  auto checked_sink = [&](long t, int l, int h, const double* out) {
    const double* in = inputs.data() + (std::size_t(l) * H + h) * 3 * d;
    checker.submit(l, h, t, in, in + d, in + 2 * d, out, token_time_ns[std::size_t(l) * H + h]);
    io.sink(t, l, h, out);
  };
  tlm::HostConfig hc;
  hc.tokens = io.tokens;
  hc.workload = tlm::Workload::decode;
  if (L > spec::regs::kMaxIrqLayers) hc.completion = tlm::Completion::poll;
  tlm::System sys("system", s, hc, recording_source, checked_sink, res.tracker.get());
  sys.host.reset_heads_before = [&](long t, int l) {
    if (!io.reset_before(t)) return false;
    for (int h = 0; h < H; ++h) checker.reset(l, h);
    return true;
  };
  std::vector<double> latency_sum(L, 0.0);
  std::vector<long> latency_n(L, 0);
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) {
      sys.accelerator.head(l, h).result_observer = [&, l, h](const sc::HeadResult& r) {
        token_time_ns[std::size_t(l) * H + h] = r.times.write_start.to_seconds() * 1e9;
        if (h != 0) return;
        latency_sum[l] += r.times.latency().to_seconds() * 1e9;
        ++latency_n[l];
      };
    }
  }
  const power::EnergySnapshot start = res.tracker->snapshot();
  power::EnergySnapshot at_energy_tokens = start;
  sys.host.on_token = [&](long done, const sc_core::sc_time& now) {
    if (done == io.energy_tokens) at_energy_tokens = res.tracker->snapshot();
    if (!quiet && ::isatty(2) && (done % 256 == 0 || done == io.tokens))
      std::fprintf(stderr, "\r%ld/%ld tokens  sim %.3f us   %s", done, io.tokens,
                   now.to_seconds() * 1e6, done == io.tokens ? "\n" : "");
  };
  const auto wall_start = Clock::now();
  sc_core::sc_start();
  resync_sanitizer_stack();
  checker.finish();
  res.wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  res.ok = sys.host.ok();
  res.error = sys.host.error();
  res.sim_ns = sys.host.finished().to_seconds() * 1e9;
  res.tracker->advance_to(res.sim_ns);
  res.compared = checker.compared();
  res.mismatches = checker.mismatches();
  res.flips = checker.boundary_flips();
  res.max_abs_error = checker.max_abs_error();
  if (io.energy_tokens > 0) {
    const double per = 1.0 / (double(io.energy_tokens) * L * H);
    res.energy_per_head_token_pj = (at_energy_tokens.total_pj() - start.total_pj()) * per;
    res.energy_per_head_token_groups = at_energy_tokens - start;
    for (double& e : res.energy_per_head_token_groups) e *= per;
  }
  power::RunInfo& run = res.run;
  run.scenario = "lm";
  run.tokens = io.tokens;
  run.layers = L;
  run.heads = L * H;
  run.wall_time_s = res.wall_s;
  for (int l = 0; l < L; ++l)
    run.latency_per_token_ns.push_back(latency_n[l] ? latency_sum[l] / latency_n[l] : 0.0);
  run.phases_ns = {{"precharge_write", s.timing.precharge_write_ns()},
                   {"q_pulses", s.timing.phase_q_ns},
                   {"phi_pulses", s.timing.phase_phi_ns},
                   {"count", s.timing.phase_count_ns},
                   {"digital", s.timing.phase_digital_ns}};
  run.end_to_end_ns_per_token = sys.host.tokens_done() ? res.sim_ns / sys.host.tokens_done() : 0.0;
  // Chunks reset the window: the chunk cycle, from token 0, is the steady state.
  run.steady_state_start = start;
  run.steady_state_tokens = sys.host.tokens_done();
  return res;
}

// Energy per head per token on uniform random data of the text's shape (same layers, heads,
// chunk resets, tokens), in a child process: SystemC elaborates once per process.
// Energy per head per token: the total, then each group.
using HeadTokenEnergy = std::array<double, power::kGroupCount + 1>;

HeadTokenEnergy uniform_energy_in_child(const spec::HardwareSpec& s, int context, long tokens,
                                        std::uint64_t seed) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error("", "lm", "cannot create a pipe for the uniform-data run");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("", "lm", "cannot fork the uniform-data run");
  if (pid == 0) {
    ::close(fds[0]);
    HeadTokenEnergy e{};
    e[0] = -1.0;
    try {
      StimulusConfig c;
      c.seed = seed;
      const UniformStimulus uniform(c, s.model.d_head);
      LmDrive io;
      io.tokens = io.energy_tokens = tokens;
      io.source = [&](long t, int l, int h, double* q, double* k, double* v) {
        uniform(t, l, h, q, k, v);
      };
      io.sink = [](long, int, int, const double*) {};
      io.reset_before = [context](long t) { return t > 0 && t % context == 0; };
      const LmSimResult r = simulate(s, io, true);
      if (r.ok) {
        e[0] = r.energy_per_head_token_pj;
        std::copy(r.energy_per_head_token_groups.begin(), r.energy_per_head_token_groups.end(),
                  e.begin() + 1);
      }
    } catch (...) {
    }
    const ssize_t n = ::write(fds[1], e.data(), sizeof e);
    ::_exit(n == sizeof e && e[0] >= 0.0 ? 0 : 1);
  }
  ::close(fds[1]);
  HeadTokenEnergy e{};
  e[0] = -1.0;
  const ssize_t n = ::read(fds[0], e.data(), sizeof e);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (n != sizeof e || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || e[0] < 0.0)
    throw Error("", "lm", "the uniform-data energy run failed");
  return e;
}

nlohmann::json three(double acc, double ideal, double softmax) {
  return {{"accelerator", acc}, {"ideal", ideal}, {"softmax", softmax}};
}

int generate(const lm::Model& model, const spec::HardwareSpec& s, const LmOptions& o) {
  const lm::Encoded prompt = lm::encode(model.vocab, o.prompt);
  if (prompt.ids.empty()) throw Error("", "--prompt", "empty (allowed: at least one character)");
  const std::uint64_t seed = o.seed >= 0 ? static_cast<std::uint64_t>(o.seed) : 1;
  tlm::LmClosedLoop loop(model, attention_of(s), prompt.ids, o.generate,
                         lm::Sampler(seed, o.temperature));
  LmDrive io;
  io.tokens = loop.tokens();
  io.source = [&](long t, int l, int h, double* q, double* k, double* v) {
    loop.source(t, l, h, q, k, v);
  };
  io.sink = [&](long t, int l, int h, const double* out) { loop.sink(t, l, h, out); };
  io.reset_before = [&](long t) { return loop.reset_before(t); };
  const LmSimResult r = simulate(s, io, true);
  if (!r.ok) {
    std::fprintf(stderr, "gca-sim: simulation error: %s\n", r.error.c_str());
    return kExitSimError;
  }
  std::printf("%s\n", lm::decode(model.vocab, loop.history()).c_str());
  if (!o.quiet) {
    std::fprintf(stderr,
                 "generated %ld characters through the accelerator (%ld tokens x %d layers x %d "
                 "heads); oracle: %ld outputs compared, %ld mismatches\n",
                 o.generate, io.tokens, s.model.n_layers, s.model.n_heads, r.compared,
                 r.mismatches);
  }
  return r.mismatches > 0 ? kExitCheckFailed : kExitOk;
}

// The text through the accelerator: the closed loop scores every prediction.
std::pair<LmSimResult, lm::ScoreTally> score_closed_loop(const lm::Model& model,
                                                         const spec::HardwareSpec& s,
                                                         const lm::Encoded& text,
                                                         long energy_tokens, bool quiet) {
  lm::ScoringPlan plan;
  plan.ids = text.ids;
  plan.context = model.arch.context;
  tlm::LmClosedLoop loop(model, attention_of(s), plan, text.unknown);
  LmDrive io;
  io.tokens = loop.tokens();
  io.energy_tokens = energy_tokens;
  io.source = [&](long t, int l, int h, double* q, double* k, double* v) {
    loop.source(t, l, h, q, k, v);
  };
  io.sink = [&](long t, int l, int h, const double* out) { loop.sink(t, l, h, out); };
  io.reset_before = [&](long t) { return loop.reset_before(t); };
  LmSimResult r = simulate(s, io, quiet);
  return {std::move(r), loop.tally()};
}

}  // namespace

AcceleratorScore score_on_accelerator(const lm::Model& model, const spec::HardwareSpec& s,
                                      const lm::Encoded& text) {
  auto [r, tally] = score_closed_loop(model, s, text, 0, true);
  AcceleratorScore a;
  a.tally = tally;
  a.ok = r.ok;
  a.error = r.error;
  a.wall_s = r.wall_s;
  a.compared = r.compared;
  a.mismatches = r.mismatches;
  return a;
}

std::vector<std::string> lm_overrides(const lm::Model& model) {
  const lm::Architecture& a = model.arch;
  const lm::HardwareAttentionParams& hw = model.hardware;
  return {
      "model.n_layers=" + std::to_string(a.n_layers),
      "model.n_heads=" + std::to_string(a.n_heads),
      "model.d_head=" + std::to_string(a.d_head),
      "window=" + std::to_string(hw.window),
      "array.cols=" + std::to_string(hw.cols),
      "quant.q_levels=" + std::to_string(hw.q_levels),
      "quant.kv_levels=" + std::to_string(hw.kv_levels),
      "quant.out_levels=" + std::to_string(hw.out_levels),
      "charge_to_pulse.s_sat_qk=" + number(hw.s_sat_qk),
      "charge_to_pulse.s_sat_av=" + number(hw.s_sat_av),
  };
}

spec::HardwareSpec lm_spec(const lm::Model& model, const std::string& spec_path,
                           const std::vector<std::string>& overrides) {
  std::vector<std::string> all = lm_overrides(model);
  all.insert(all.end(), overrides.begin(), overrides.end());
  return spec::load_spec(spec_path, all);
}

lm::HardwareAttentionParams attention_of(const spec::HardwareSpec& s) {
  const spec::CircuitModel c(s);
  lm::HardwareAttentionParams p;
  p.window = s.window;
  p.cols = s.array.cols;
  p.q_levels = s.quant.q_levels;
  p.kv_levels = s.quant.kv_levels;
  p.out_levels = s.quant.out_levels;
  p.s_sat_qk = c.hard_sigmoid.s_sat;
  p.s_sat_av = c.signed_ctp.s_sat;
  p.kv_lo = s.gain_cell.v_min_v;
  p.kv_hi = s.gain_cell.v_max_v;
  p.w_center = c.gain_cell.w_center();
  for (int i = 0; i < 4; ++i) p.poly[static_cast<std::size_t>(i)] = c.gain_cell.poly(i);
  return p;
}

void score_float(const lm::Model& model, const lm::HardwareAttentionParams& hw,
                 const lm::Encoded& text, LmScores& scores) {
  lm::FloatNetwork ideal(model, model.adapted, hw);
  lm::FloatNetwork softmax(model, model.softmax, hw);
  const long n = static_cast<long>(text.ids.size());
  const int T = model.arch.context;
  for (long t = 0; t < n; ++t) {
    if (t > 0 && t % T == 0) {
      ideal.reset();
      softmax.reset();
    }
    const int id = text.ids[static_cast<std::size_t>(t)];
    const std::vector<double>& li = ideal.step(id, static_cast<int>(t % T));
    if (t + 1 < n)
      scores.ideal.add(li, text.ids[std::size_t(t + 1)], text.unknown[std::size_t(t + 1)]);
    const std::vector<double>& ls = softmax.step(id, static_cast<int>(t % T));
    if (t + 1 < n)
      scores.softmax.add(ls, text.ids[std::size_t(t + 1)], text.unknown[std::size_t(t + 1)]);
  }
}

nlohmann::json lm_section(const LmScores& s, double energy_text_pj, double energy_uniform_pj) {
  nlohmann::json j;
  j["chars_fed"] = s.chars_fed;
  j["chars_scored"] = s.accelerator.scored;
  j["unknown_chars"] = s.unknown_chars;
  j["unknown_targets_skipped"] = s.accelerator.unknown_targets;
  j["bits_per_char"] =
      three(s.accelerator.bits_per_char(), s.ideal.bits_per_char(), s.softmax.bits_per_char());
  j["top1_accuracy"] =
      three(s.accelerator.top1_accuracy(), s.ideal.top1_accuracy(), s.softmax.top1_accuracy());
  j["energy_per_head_per_token_pj"] = {{"text", energy_text_pj}, {"uniform", energy_uniform_pj}};
  return j;
}

int run_lm(const LmOptions& o) {
  const lm::Model model = lm::load_model(o.manifest);
  std::vector<std::string> overrides;
  if (o.seed >= 0) {
    overrides.push_back("variation.chip_seed=" + std::to_string(o.seed));
    overrides.push_back("noise.seed=" + std::to_string(o.seed));
  }
  overrides.insert(overrides.end(), o.overrides.begin(), o.overrides.end());
  const spec::HardwareSpec s = lm_spec(model, o.spec_path, overrides);
  if (o.generate > 0) return generate(model, s, o);

  lm::Encoded text = lm::encode(model.vocab, read_text_file(o.text_path));
  if (o.chars >= 0 && static_cast<long>(text.ids.size()) > o.chars) {
    text.ids.resize(static_cast<std::size_t>(o.chars));
    text.unknown.resize(static_cast<std::size_t>(o.chars));
  }
  text.unknown_count = std::count(text.unknown.begin(), text.unknown.end(), true);
  if (text.ids.size() < 2)
    throw Error(o.text_path, "--text", "holds fewer than 2 characters (nothing to score)");
  const long n = static_cast<long>(text.ids.size());
  const int T = model.arch.context;
  const lm::HardwareAttentionParams hw = attention_of(s);

  // Energy on the text and on uniform data over the same whole chunks (all of the text when
  // shorter than one chunk); the uniform run covers at most two chunks.
  const long energy_tokens = n >= T ? (n / T) * T : n;
  const long uniform_tokens = std::min(energy_tokens, 2L * T);
  const std::uint64_t seed = o.seed >= 0 ? static_cast<std::uint64_t>(o.seed) : 1;
  const HeadTokenEnergy uniform = uniform_energy_in_child(s, T, uniform_tokens, seed);
  const double uniform_pj = uniform[0];

  OutputSet outputs(o.out_dir);
  LmScores scores;
  scores.chars_fed = n;
  scores.unknown_chars = text.unknown_count;
  const auto float_start = Clock::now();
  score_float(model, hw, text, scores);
  const double float_s = std::chrono::duration<double>(Clock::now() - float_start).count();

  auto [r, tally] = score_closed_loop(model, s, text, energy_tokens, o.quiet);
  if (!r.ok) {
    std::fprintf(stderr, "gca-sim: simulation error: %s\n", r.error.c_str());
    return kExitSimError;
  }
  scores.accelerator = tally;

  r.run.seed = seed;
  const power::Report report = power::make_report(*r.tracker, s, r.run, power::load_baselines());
  nlohmann::json j = nlohmann::json::parse(power::report_json(report));
  j["check"] = {{"against_oracle", true},
                {"oracle",
                 "rtl_spec OracleHead: plain double-precision head sharing no kernel "
                 "code with the model"},
                {"oracle_every", r.oracle_every},
                {"outputs_compared", r.compared},
                {"mismatches", r.mismatches},
                {"boundary_flips", r.flips},
                {"max_abs_error", r.max_abs_error}};
  j["lm"] = lm_section(scores, r.energy_per_head_token_pj, uniform_pj);
  nlohmann::json& groups = j["lm"]["energy_per_head_per_token_pj"]["groups"];
  for (power::Group g : power::kGroups) {
    groups["text"][power::group_name(g)] = r.energy_per_head_token_groups[power::index(g)];
    groups["uniform"][power::group_name(g)] = uniform[1 + power::index(g)];
  }
  j["lm"]["model"] = o.manifest;
  j["lm"]["text"] = o.text_path;
  j["lm"]["chars_per_second"] = r.wall_s > 0 ? n / r.wall_s : 0.0;
  j["simulated_time_ns"] = r.sim_ns;
  power::write_file_atomic(outputs.path("report.json"), j.dump(2) + "\n");
  power::write_modules_csv(outputs.path("modules.csv"), *r.tracker);
  power::write_file_atomic(outputs.path("energy_table.txt"), r.table->to_text());
  outputs.commit();

  const nlohmann::json& lmj = j["lm"];
  std::printf(
      "lm: %ld characters of %s (%ld unknown), %d layers x %d heads, context %d, window %d\n", n,
      o.text_path.c_str(), text.unknown_count, s.model.n_layers, s.model.n_heads, T, s.window);
  std::printf("%-12s %14s %14s\n", "", "bits/char", "top-1");
  for (const char* col : {"accelerator", "ideal", "softmax"}) {
    std::printf("%-12s %14.4f %14.4f\n", col, lmj["bits_per_char"][col].get<double>(),
                lmj["top1_accuracy"][col].get<double>());
  }
  std::printf("energy per head per token: %.1f pJ on the text, %.1f pJ on uniform data (",
              r.energy_per_head_token_pj, uniform_pj);
  for (power::Group g : power::kGroups) {
    std::printf("%s%s %.1f / %.1f", g == power::kGroups[0] ? "" : ", ", power::group_name(g),
                r.energy_per_head_token_groups[power::index(g)], uniform[1 + power::index(g)]);
  }
  std::printf(")\n");
  std::printf(
      "check against the oracle: %ld outputs compared (every %ld. token of each head), %ld "
      "mismatches, %ld one-level flips at counter boundaries\n",
      r.compared, r.oracle_every, r.mismatches, r.flips);
  std::printf(
      "wall time %.2f s through the accelerator (%.0f chars/s), %.2f s float columns; "
      "reports in %s\n",
      r.wall_s, n / std::max(r.wall_s, 1e-9), float_s, o.out_dir.c_str());
  return r.mismatches > 0 ? kExitCheckFailed : kExitOk;
}

}  // namespace gca::tb
