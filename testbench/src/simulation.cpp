#include "gca/tb/simulation.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/tb/npy.hpp"
#include "gca/tb/oracle_checker.hpp"
#include "gca/tb/output_set.hpp"
#include "gca/tb/retention_probe.hpp"
#include "gca/tb/run_limits.hpp"
#include "gca/tb/sanitizer_stack.hpp"
#include "gca/tb/stimulus.hpp"
#include "gca/tlm/system.hpp"
#include "gca/traces/vcd_tracer.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Progress on stderr, only on a terminal, at most twice a second.
class Progress {
 public:
  Progress(long total, bool quiet)
      : total_(total), on_(!quiet && ::isatty(2)), start_(Clock::now()) {}
  void update(long done, double sim_ns) {
    if (!on_) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    const double rate = s > 0 ? done / s : 0.0;
    std::fprintf(stderr, "\r%ld/%ld tokens  sim %.3f us  %.1f tokens/s  ETA %.0f s   ", done,
                 total_, sim_ns / 1000.0, rate, rate > 0 ? (total_ - done) / rate : 0.0);
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  long total_;
  bool on_;
  Clock::time_point start_, last_;
};

// Keeps a bounded series: when full, neighbouring points merge (mean), the bucket doubles.
class BoundedSeries {
 public:
  void add(const power::GroupEnergies& e) {
    for (std::size_t g = 0; g < e.size(); ++g) acc_[g] += e[g];
    if (++in_acc_ < bucket_) return;
    for (auto& x : acc_) x /= double(bucket_);
    points_.push_back(acc_);
    acc_ = {};
    in_acc_ = 0;
    if (points_.size() >= kMax) {
      for (std::size_t i = 0; i < kMax / 2; ++i)
        for (std::size_t g = 0; g < acc_.size(); ++g)
          points_[i][g] = 0.5 * (points_[2 * i][g] + points_[2 * i + 1][g]);
      points_.resize(kMax / 2);
      bucket_ *= 2;
    }
  }
  const std::vector<power::GroupEnergies>& points() const { return points_; }
  long tokens_per_point() const { return bucket_; }

 private:
  static constexpr std::size_t kMax = 4096;
  std::vector<power::GroupEnergies> points_;
  power::GroupEnergies acc_{};
  long bucket_ = 1, in_acc_ = 0;
};

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

std::string hex(std::uint64_t x) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

}  // namespace

namespace {

// Outputs compared with the oracle: every token of every head unless the run is long, then
// every n-th token of each head so that about kOracleBudget head-tokens are compared.
constexpr long kOracleBudget = 8000;
long oracle_stride(const Scenario& sc, long head_tokens) {
  if (sc.oracle_every > 0) return sc.oracle_every;
  return std::max(1L, (head_tokens + kOracleBudget - 1) / kOracleBudget);
}

// The inputs a head received, kept until its output is read (prefill reads lag the writes).
// Buffers are recycled: no allocation per token once the run is going.
class InputLog {
 public:
  InputLog(int heads_total, int d) : d_(d), queues_(static_cast<std::size_t>(heads_total)) {}
  void push(int index, const double* q, const double* k, const double* v) {
    std::vector<double> in;
    if (!spare_.empty()) {
      in = std::move(spare_.back());
      spare_.pop_back();
    }
    in.resize(3 * static_cast<std::size_t>(d_));
    std::copy_n(q, d_, in.data());
    std::copy_n(k, d_, in.data() + d_);
    std::copy_n(v, d_, in.data() + 2 * d_);
    queues_[static_cast<std::size_t>(index)].push_back(std::move(in));
  }
  // q | k | v of the oldest token of head `index` not yet popped.
  const double* front(int index) const {
    return queues_[static_cast<std::size_t>(index)].front().data();
  }
  void pop(int index) {
    auto& q = queues_[static_cast<std::size_t>(index)];
    spare_.push_back(std::move(q.front()));
    q.pop_front();
  }

 private:
  int d_;
  std::vector<std::deque<std::vector<double>>> queues_;
  std::vector<std::vector<double>> spare_;
};

// What the link did, for report.json and the summary.
nlohmann::json link_report(const spec::HardwareSpec& s, const tlm::System& sys, long tokens,
                           double sim_ns) {
  const double layers = s.model.n_layers;
  const double bytes_per_token_layer =
      tokens > 0 ? double(sys.link.bytes_moved()) / double(tokens) / layers : 0.0;
  nlohmann::json io;
  io["format"] = s.host_link.format() == spec::LinkFormat::codes ? "codes"
                 : s.host_link.format() == spec::LinkFormat::f16 ? "f16"
                                                                 : "f32";
  io["bytes_per_ns"] = s.host_link.bytes_per_ns;
  io["latency_ns"] = s.host_link.latency_ns;
  io["ideal"] = sys.link.ideal();
  io["bytes_total"] = sys.link.bytes_moved();
  io["bytes_per_token"] = bytes_per_token_layer;  // per layer
  io["transactions"] = sys.host.transactions();
  io["busy_ns"] = sys.link.busy_time().to_seconds() * 1e9;
  io["link_utilization"] = sim_ns > 0 ? sys.link.busy_time().to_seconds() * 1e9 / sim_ns : 0.0;
  return io;
}

}  // namespace

int run_scenario(const Scenario& sc, const RunOptions& opt) {
  const spec::HardwareSpec s = spec::load_spec(sc.spec_path, sc.overrides);
  const int L = s.model.n_layers, H = s.model.n_heads, d = s.model.d_head;
  const long T = sc.host.tokens;
  check_run_limits(s, sc);
  tlm::TokenSource source = make_stimulus(sc.stimulus, d, T);
  power::Baselines baselines = power::load_baselines();
  if (sc.fault.injected.token >= 0 && (sc.fault.layer >= L || sc.fault.head >= H)) {
    throw Error(sc.file, "fault", "layer or head out of range");
  }
  OutputSet outputs(opt.out_dir);  // published as a whole at the end, or not at all

  // Independent check: one oracle head per simulated head, fed the same data, on a thread of
  // its own.
  std::unique_ptr<OracleChecker> checker;
  if (sc.check_against_oracle)
    checker = std::make_unique<OracleChecker>(s, L, H, oracle_stride(sc, T * L * H));
  const std::vector<double> expected = load_expected_outputs(sc.expect, d, T);

  power::EnergyTable table(s);
  power::PowerTracker tracker(table, sc.power_window_ns);
  InputLog inputs(L * H, d);
  RetentionProbe retention(s);
  const bool probe_retention = s.retention.leaks();
  // The simulated time at which each head wrote and read the token it last delivered (the
  // time its numerics used), for the oracle.
  std::vector<double> token_time_ns(std::size_t(L) * H, 0.0);
  double l2_err = 0.0, l2_ref = 0.0;
  std::uint64_t out_hash = 0xcbf29ce484222325ULL;

  // The host's token data, kept for the check: the oracle heads get exactly what the model got.
  // The inputs of a head are kept for the oracle, and those of head 0 of layer 0 for the
  // retention probe.
  auto logged = [&](int l, int h) { return checker || (l == 0 && h == 0 && probe_retention); };
  tlm::TokenSource recording_source = [&](long t, int l, int h, double* q, double* k, double* v) {
    source(t, l, h, q, k, v);
    if (logged(l, h)) inputs.push(l * H + h, q, k, v);
  };
  tlm::System sys(
      "system", s, sc.host, recording_source,
      [&](long t, int l, int h, const double* out) {
        out_hash = fnv1a(out_hash, out, sizeof(double) * d);
        if (logged(l, h)) {
          const double now_ns = token_time_ns[std::size_t(l) * H + h];
          const double* in = inputs.front(l * H + h);
          if (checker) checker->submit(l, h, t, in, in + d, in + 2 * d, out, now_ns);
          if (l == 0 && h == 0 && probe_retention)
            retention.submit(in, in + d, in + 2 * d, out, now_ns);
          inputs.pop(l * H + h);
        }
        if (!expected.empty() && l == 0 && h == 0) {
          for (int i = 0; i < d; ++i) {
            const double e = expected[std::size_t(t) * d + i];
            l2_err += (out[i] - e) * (out[i] - e);
            l2_ref += e * e;
          }
        }
      },
      &tracker);
  if (sc.fault.injected.token >= 0)
    sys.accelerator.head(sc.fault.layer, sc.fault.head).inject_fault(sc.fault.injected);

  // START-to-done latency of head 0 of each layer, from the head's own record of its phases.
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

  // The trace file is named by the user; it is written as the run goes (a standard VCD).
  std::unique_ptr<traces::VcdTracer> tracer;
  if (!opt.vcd_path.empty()) {
    traces::TraceSelection sel;
    sel.layers = sc.trace.layers;
    sel.heads = sc.trace.heads;
    sel.subtiles = sc.trace.subtiles;
    sel.columns = sc.trace.columns;
    // Written under a temporary name, renamed to --vcd with the other outputs.
    tracer = std::make_unique<traces::VcdTracer>(outputs.stage_file(opt.vcd_path, "--vcd"),
                                                 sys.accelerator, sel, &tracker);
  }

  Progress progress(T, opt.quiet);
  BoundedSeries per_token;
  power::EnergySnapshot last = tracker.snapshot(), steady_start{};
  long steady_tokens = 0;
  Clock::time_point steady_wall_start;
  const long fill = s.window;  // the window is full from token M - 1 on
  sys.host.on_token = [&](long done, const sc_core::sc_time& now) {
    const power::EnergySnapshot snap = tracker.snapshot();
    per_token.add(snap - last);
    last = snap;
    if (done == fill) {
      steady_start = snap;
      steady_wall_start = Clock::now();
    }
    if (done > fill) ++steady_tokens;
    progress.update(done, now.to_seconds() * 1e9);
  };

  const auto wall_start = Clock::now();
  sc_core::sc_start();
  resync_sanitizer_stack();        // exceptions after this point are safe under ASan
  if (checker) checker->finish();  // the run is complete once every output is checked
  const Clock::time_point wall_end = Clock::now();
  const long compared = checker ? checker->compared() : 0;
  const long mismatches = checker ? checker->mismatches() : 0;
  const double wall_s = std::chrono::duration<double>(wall_end - wall_start).count();
  if (tracer) {
    tracer->close();
    if (!tracer->write_error().empty())
      throw Error(opt.vcd_path, "--vcd", "cannot write the trace: " + tracer->write_error());
  }
  if (!sys.host.ok()) {
    std::fprintf(stderr, "gca-sim: simulation error: %s\n", sys.host.error().c_str());
    return kExitSimError;
  }
  const double sim_ns = sys.host.finished().to_seconds() * 1e9;
  check_simulated_time(sim_ns, lower_simulated_ns(s, T, sc.host.host_ns_per_layer,
                                                  sc.host.workload == tlm::Workload::decode));
  tracker.advance_to(sim_ns);

  power::RunInfo run;
  run.scenario = sc.name;
  run.seed = sc.stimulus.seed;
  run.tokens = T;
  run.layers = L;
  run.heads = L * H;
  run.wall_time_s = wall_s;
  for (int l = 0; l < L; ++l)
    run.latency_per_token_ns.push_back(latency_n[l] ? latency_sum[l] / latency_n[l] : 0.0);
  run.phases_ns = {{"precharge_write", s.timing.precharge_write_ns()},
                   {"q_pulses", s.timing.phase_q_ns},
                   {"phi_pulses", s.timing.phase_phi_ns},
                   {"count", s.timing.phase_count_ns},
                   {"digital", s.timing.phase_digital_ns}};
  const long done = sys.host.tokens_done();
  run.end_to_end_ns_per_token = done == 0 ? 0.0 : sim_ns / double(done);
  run.steady_state_start = steady_start;
  run.steady_state_tokens = steady_tokens;
  run.energy_per_token_pj = per_token.points();
  run.scenario_json = sc.json_text;

  power::Report report = power::make_report(tracker, s, run, baselines);
  // Add what only the testbench knows: the checks, the link and a fingerprint of every output.
  nlohmann::json j = nlohmann::json::parse(power::report_json(report));
  const long stride = checker ? checker->every() : 0;
  j["check"] = {{"against_oracle", sc.check_against_oracle},
                {"oracle",
                 "rtl_spec OracleHead: plain double-precision head sharing no kernel "
                 "code with the model"},
                {"oracle_every", stride},
                {"outputs_compared", compared},
                {"outputs_total", long(T) * L * H * d},
                {"mismatches", mismatches},
                {"boundary_flips", checker ? checker->boundary_flips() : 0},
                {"max_abs_error", checker ? checker->max_abs_error() : 0.0}};
  if (!expected.empty())
    j["check"]["expected_out_rel_l2"] = std::sqrt(l2_err / std::max(l2_ref, 1e-300));
  const nlohmann::json io = link_report(s, sys, done, sim_ns);
  j["io"] = io;
  // The pace a token could keep with an ideal link: the arrays' own latency per layer (decode)
  // or the analog occupancy per token (prefill).
  const double core_ns_per_token =
      sc.host.workload == tlm::Workload::decode
          ? L * (s.timing.token_latency_ns() + sc.host.host_ns_per_layer)
          : s.timing.analog_occupancy_ns();
  const double link_ns_per_token = io["busy_ns"].get<double>() / std::max(1L, done);
  const bool link_bound = !sys.link.ideal() && link_ns_per_token > core_ns_per_token;
  j["latency"]["bottleneck"] = link_bound ? "host link" : "arrays";
  j["latency"]["link_ns_per_token"] = link_ns_per_token;
  j["outputs"] = {{"fnv1a64", hex(out_hash)}, {"count", long(T) * L * H * d}};
  j["retention"] = retention.summary();
  j["energy_per_token_tokens_per_point"] = per_token.tokens_per_point();
  j["simulated_time_ns"] = sim_ns;
  j["tokens_per_second"] = wall_s > 0 ? T / wall_s : 0.0;
  // Rate once the window is full (every token reads every sub-tile): the figure that scales.
  const double steady_wall_s =
      steady_tokens > 0 ? std::chrono::duration<double>(wall_end - steady_wall_start).count() : 0.0;
  j["tokens_per_second_steady_state"] = steady_wall_s > 0 ? steady_tokens / steady_wall_s : 0.0;
  power::write_file_atomic(outputs.path("report.json"), j.dump(2) + "\n");
  power::write_modules_csv(outputs.path("modules.csv"), tracker);
  // The energy-per-action table of this run, each number with its unit and source.
  power::write_file_atomic(outputs.path("energy_table.txt"), table.to_text());
  power::write_plot_data(outputs.staging_dir(), report);
  power::PlotResult plots;
  if (sc.plots) plots = power::render_plots(outputs.staging_dir());
  outputs.commit();

  std::printf("%s: %ld tokens x %d layers x %d heads, %s, %s, window %d\n", sc.name.c_str(), T, L,
              H, sc.host.workload == tlm::Workload::decode ? "decode" : "prefill",
              sc.host.protocol == tlm::Protocol::loosely_timed ? "LT" : "AT", s.window);
  std::printf("simulated %.3f us (%.1f ns per token end to end; %.1f ns START to done per layer)\n",
              sim_ns / 1000.0, run.end_to_end_ns_per_token,
              run.latency_per_token_ns.empty() ? 0.0 : run.latency_per_token_ns[0]);
  if (sys.link.ideal()) {
    std::printf("host link: ideal (%.0f B per token per layer, %ld transactions; not timed)\n",
                io["bytes_per_token"].get<double>(), sys.host.transactions());
  } else {
    std::printf("host link: %.1f B/ns, %.0f B per token per layer, %.1f %% busy%s\n",
                s.host_link.bytes_per_ns, io["bytes_per_token"].get<double>(),
                100.0 * io["link_utilization"].get<double>(),
                link_bound ? "; the link, not the arrays, sets the pace" : "");
  }
  std::printf("%s", power::summary_table(report).c_str());
  if (sc.check_against_oracle) {
    std::printf(
        "check against the oracle (plain double-precision head, no kernel shared with the model): "
        "%ld of %ld outputs compared (every %ld. token of each head), %ld mismatches, %ld "
        "one-level flips at counter boundaries\n",
        compared, long(T) * L * H * d, stride, mismatches, checker ? checker->boundary_flips() : 0);
  }
  if (!expected.empty()) {
    std::printf("check against %s: relative L2 error %.3e (limit %.1e)\n",
                sc.expect.out_path.c_str(), double(j["check"]["expected_out_rel_l2"]),
                sc.expect.max_rel_l2);
  }
  if (s.retention.leaks()) {
    const nlohmann::json& r = j["retention"];
    std::printf(
        "retention: tau %.3g ms, oldest token %.3g ms old (%.3g tau), decay moves %.2f%% of head "
        "0's outputs (relative L2 %.2e); refresh rewrote %ld columns\n",
        s.retention.tau_ms, double(r["oldest_token_age_ns"]) * 1e-6,
        double(r["oldest_token_age_over_tau"]), 100.0 * double(r["decay_outputs_moved_share"]),
        double(r["decay_output_rel_l2"]), long(r["refresh_stats"]["columns"]));
  }
  if (steady_tokens > 0) {
    std::printf("with the window full: %.1f tokens/s over %ld tokens\n",
                double(j["tokens_per_second_steady_state"]), steady_tokens);
  }
  std::printf("wall time %.2f s (%.1f tokens/s); reports in %s%s%s\n", wall_s,
              T / std::max(wall_s, 1e-9), opt.out_dir.c_str(),
              plots.message.empty() ? "" : "; plots: ", with_output_paths(plots.message).c_str());
  if (mismatches > 0) return kExitCheckFailed;
  if (!expected.empty() && double(j["check"]["expected_out_rel_l2"]) > sc.expect.max_rel_l2)
    return kExitCheckFailed;
  return kExitOk;
}

int run_head(const HeadRunOptions& o) {
  std::vector<std::string> overrides = o.overrides;
  overrides.push_back("model.n_layers=1");
  overrides.push_back("model.n_heads=1");
  const spec::HardwareSpec s = spec::load_spec(o.spec_path, overrides);
  const int d = s.model.d_head, M = s.window;
  OutputSet outputs(o.out_dir);
  NpyReadOptions ro;
  ro.expected_ndim = 2;
  ro.expected_shape = {-1, d};
  check_head_input_memory({o.q_path, o.k_path, o.v_path});  // before anything is read
  NpyArray Q = read_npy(o.q_path, ro), K = read_npy(o.k_path, ro), V = read_npy(o.v_path, ro);
  const long T = static_cast<long>(Q.shape[0]);
  if (T == 0) throw Error(o.q_path, "", "holds no tokens");
  if (K.shape[0] != Q.shape[0])
    throw Error(o.k_path, "",
                "has " + std::to_string(K.shape[0]) + " tokens, Q has " + std::to_string(T));
  if (V.shape[0] != Q.shape[0])
    throw Error(o.v_path, "",
                "has " + std::to_string(V.shape[0]) + " tokens, Q has " + std::to_string(T));
  check_head_limits(s, T, o.dump_scores);

  tlm::HostConfig hc;
  hc.tokens = T;
  std::vector<double> out(std::size_t(T) * d), scores, phi;
  if (o.dump_scores) {
    scores.assign(std::size_t(T) * M, 0.0);
    phi.assign(std::size_t(T) * M, 0.0);
  }
  tlm::System sys(
      "system", s, hc,
      [&](long t, int, int, double* q, double* k, double* v) {
        for (int i = 0; i < d; ++i) q[i] = Q.at(t, i), k[i] = K.at(t, i), v[i] = V.at(t, i);
      },
      [&](long t, int, int, const double* y) {
        std::copy_n(y, d, out.data() + std::size_t(t) * d);
      });
  sc::AttentionHead& head = sys.accelerator.head(0, 0);
  if (o.dump_scores) {
    head.capture_scores(true);
    head.result_observer = [&](const sc::HeadResult& r) {
      // Column a: the key written a tokens before this one (age a), zero before token 0.
      for (long a = 0; a < M && a <= r.token; ++a) {
        const int slot = static_cast<int>((r.token - a) % M);
        scores[std::size_t(r.token) * M + a] = r.scores[slot];
        phi[std::size_t(r.token) * M + a] = r.phi[slot];
      }
    };
  }
  sc_core::sc_start();
  resync_sanitizer_stack();  // exceptions after this point are safe under ASan
  if (!sys.host.ok()) {
    std::fprintf(stderr, "gca-sim: simulation error: %s\n", sys.host.error().c_str());
    return kExitSimError;
  }
  check_simulated_time(sys.host.finished().to_seconds() * 1e9, lower_simulated_ns(s, T, 0.0, true));
  write_npy(outputs.path("out.npy"), {std::size_t(T), std::size_t(d)}, out);
  if (o.dump_scores) {
    write_npy(outputs.path("scores.npy"), {std::size_t(T), std::size_t(M)}, scores);
    write_npy(outputs.path("phi.npy"), {std::size_t(T), std::size_t(M)}, phi);
  }
  outputs.commit();
  std::printf("head: %ld tokens, d %d, window %d; simulated %.1f ns; wrote %s/out.npy%s\n", T, d, M,
              sys.host.finished().to_seconds() * 1e9, o.out_dir.c_str(),
              o.dump_scores ? ", scores.npy, phi.npy" : "");
  return kExitOk;
}

}  // namespace gca::tb
