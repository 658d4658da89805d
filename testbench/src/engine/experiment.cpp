// The experiment engine (gca/tb/engine/experiment.hpp): build, observe, run, report.
#include "gca/tb/engine/experiment.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>

#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/tb/engine/workload.hpp"
#include "gca/tb/output_set.hpp"
#include "gca/tb/run_limits.hpp"
#include "gca/tb/sanitizer_stack.hpp"
#include "gca/tlm/system.hpp"
#include "gca/traces/vcd_tracer.hpp"
#include "standard_observers.hpp"

namespace gca::tb {
namespace {

using Clock = std::chrono::steady_clock;
using ojson = nlohmann::ordered_json;

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
  const double* front(int index) const {  // q | k | v of the oldest token not yet popped
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

// What the link did.
ojson link_report(const spec::HardwareSpec& s, const tlm::System& sys, long tokens, double sim_ns) {
  const double layers = s.model.n_layers;
  const double bytes_per_token_layer =
      tokens > 0 ? double(sys.link.bytes_moved()) / double(tokens) / layers : 0.0;
  ojson io;
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

const char* mode_name(tlm::Workload w) {
  return w == tlm::Workload::decode ? "decode" : "prefill";
}

// The shipped device figures and those of the files the command added.
power::Baselines load_run_baselines(const std::vector<std::string>& added_files) {
  power::Baselines b = power::load_baselines();
  power::add_baseline_files(b, added_files);
  return b;
}

// One run: the parts, wired once, then run and reported.
class Experiment {
 public:
  Experiment(const Scenario& sc, const ExperimentOptions& opt)
      : sc_(sc),
        opt_(opt),
        spec_(spec::load_spec_overridden(sc.spec_path, spec_overrides(sc))),
        L_(spec_.model.n_layers),
        H_(spec_.model.n_heads),
        d_(spec_.model.d_head) {
    memory_ = check_run_limits(spec_, sc_);
    if (sc_.fault.injected.token >= 0 && (sc_.fault.layer >= L_ || sc_.fault.head >= H_))
      throw Error(sc_.file, "fault", "layer or head out of range");
    if (!sc_.expect.out_path.empty() && (sc_.expect.layer >= L_ || sc_.expect.head >= H_)) {
      throw Error(sc_.file, "check.expect_layer",
                  "check.expect_layer / check.expect_head name no head of this run (allowed: layer "
                  "0.." +
                      std::to_string(L_ - 1) + ", head 0.." + std::to_string(H_ - 1) + ")");
    }
    workload_ = find_workload_kind(sc_.workload_kind, sc_.file).make(sc_, spec_);
    observers_.push_back(std::make_shared<OracleObserver>(sc_, spec_));
    observers_.push_back(std::make_shared<RetentionObserver>(spec_));
    observers_.push_back(std::make_shared<ExpectedOutputObserver>(sc_, d_));
    observers_.push_back(std::make_shared<FingerprintObserver>(d_));
    for (const auto& o : opt_.observers) observers_.push_back(o);
    for (int l = 0; l < L_; ++l)
      for (int h = 0; h < H_; ++h)
        logged_.push_back(std::any_of(observers_.begin(), observers_.end(),
                                      [&](const auto& o) { return o->wants_inputs(l, h); }));
  }

  RunResult run();

 private:
  void feed(long t, int l, int h, double* q, double* k, double* v);
  void deliver(long t, int l, int h, const double* out);
  void observe_heads(tlm::System& sys);
  void token_done(long done, const sc_core::sc_time& now);
  void attach_tracer(tlm::System& sys, OutputSet& outputs);
  void add_run_sections(RunResult& r, const tlm::System& sys, double wall_s, double steady_wall_s);
  void write_outputs(RunResult& r, OutputSet& outputs);

  const Scenario& sc_;
  const ExperimentOptions& opt_;
  const spec::HardwareSpec spec_;
  const int L_, H_, d_;
  std::unique_ptr<Workload> workload_;
  std::vector<std::shared_ptr<Observer>> observers_;
  std::vector<bool> logged_;  // per head: some observer wants its inputs
  power::Baselines baselines_ = load_run_baselines(opt_.baseline_files);
  power::EnergyTable table_{spec_};
  power::PowerTracker tracker_{table_, sc_.power_window_ns};
  InputLog inputs_{L_ * H_, d_};
  // When each head wrote the token it last delivered (the time its numerics used).
  std::vector<double> token_time_ns_ = std::vector<double>(std::size_t(L_) * H_, 0.0);
  std::vector<double> latency_sum_ = std::vector<double>(L_, 0.0);
  std::vector<long> latency_n_ = std::vector<long>(L_, 0);
  BoundedSeries per_token_;
  power::EnergySnapshot last_{}, steady_start_{};
  long steady_tokens_ = 0;
  Clock::time_point steady_wall_start_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<traces::VcdTracer> tracer_;
  MemoryEstimate memory_;
};

void Experiment::feed(long t, int l, int h, double* q, double* k, double* v) {
  workload_->inputs(t, l, h, q, k, v);
  if (logged_[std::size_t(l) * H_ + h]) inputs_.push(l * H_ + h, q, k, v);
}

void Experiment::deliver(long t, int l, int h, const double* out) {
  workload_->output(t, l, h, out);
  const int index = l * H_ + h;
  HeadOutput o;
  o.token = t, o.layer = l, o.head = h, o.out = out;
  o.write_ns = token_time_ns_[std::size_t(index)];
  const bool logged = logged_[std::size_t(index)];
  for (const auto& obs : observers_) {
    o.in = logged && obs->wants_inputs(l, h) ? inputs_.front(index) : nullptr;
    obs->output(o);
  }
  if (logged) inputs_.pop(index);
}

// After each token has left every layer: its energy, the steady state, observers, progress.
void Experiment::token_done(long done, const sc_core::sc_time& now) {
  const power::EnergySnapshot snap = tracker_.snapshot();
  per_token_.add(snap - last_);
  last_ = snap;
  if (done == spec_.window) {  // the window is full from token M - 1 on
    steady_start_ = snap;
    steady_wall_start_ = Clock::now();
  }
  if (done > spec_.window) ++steady_tokens_;
  const double sim_ns = now.to_seconds() * 1e9;
  for (const auto& obs : observers_) obs->token_done(done, sim_ns);
  char detail[48];
  std::snprintf(detail, sizeof detail, "sim %.3f us", sim_ns / 1000.0);
  progress_->update(done, detail);
}

// START-to-done latency of head 0 of each layer and the write time of every head's token, from
// the heads' own records of their phases.
void Experiment::observe_heads(tlm::System& sys) {
  for (int l = 0; l < L_; ++l) {
    for (int h = 0; h < H_; ++h) {
      sys.accelerator.head(l, h).result_observer = [this, l, h](const sc::HeadResult& r) {
        token_time_ns_[std::size_t(l) * H_ + h] = r.times.write_start.to_seconds() * 1e9;
        if (h == 0) {
          latency_sum_[l] += r.times.latency().to_seconds() * 1e9;
          ++latency_n_[l];
        }
        for (const auto& obs : observers_) obs->head_result(l, h, r);
      };
    }
  }
  for (const auto& obs : observers_) obs->attach(sys);
}

// The trace file is named by the user; it is written as the run goes (a standard VCD), under a
// temporary name renamed to --vcd with the other outputs.
void Experiment::attach_tracer(tlm::System& sys, OutputSet& outputs) {
  if (opt_.vcd_path.empty()) return;
  traces::TraceSelection sel;
  sel.layers = sc_.trace.layers;
  sel.heads = sc_.trace.heads;
  sel.subtiles = sc_.trace.subtiles;
  sel.columns = sc_.trace.columns;
  tracer_ = std::make_unique<traces::VcdTracer>(outputs.stage_file(opt_.vcd_path, "--vcd"),
                                                sys.accelerator, sel, &tracker_);
}

RunResult Experiment::run() {
  RunResult r;
  r.out_dir = opt_.out_dir;
  OutputSet outputs(opt_.out_dir);  // published as a whole at the end, or not at all
  const long T = sc_.host.tokens;
  auto model = std::make_unique<tlm::System>(
      "system", spec_, sc_.host,
      [this](long t, int l, int h, double* q, double* k, double* v) { feed(t, l, h, q, k, v); },
      [this](long t, int l, int h, const double* out) { deliver(t, l, h, out); }, &tracker_);
  tlm::System& sys = *model;
  struct LeaveAtExit {
    std::unique_ptr<tlm::System>& model;
    bool leave;
    ~LeaveAtExit() {
#if !defined(__SANITIZE_ADDRESS__)
      if (leave) (void)model.release();  // the process ends next: see ExperimentOptions
#endif
    }
  } leave_at_exit{model, opt_.leave_model_at_exit};
  if (sc_.fault.injected.token >= 0)
    sys.accelerator.head(sc_.fault.layer, sc_.fault.head).inject_fault(sc_.fault.injected);
  observe_heads(sys);
  attach_tracer(sys, outputs);
  if (sc_.host.workload == tlm::Workload::decode) {
    if (tlm::TokenSource in = workload_->open_loop_inputs())
      sys.accelerator.run_numerics_ahead(std::move(in), sc_.host.tokens);
  }
  sys.host.reset_heads_before = [this](long t, int l) {
    if (!workload_->reset_heads_before(t)) return false;
    for (const auto& obs : observers_) obs->heads_reset(l);
    return true;
  };

  const int window = spec_.window;
  progress_ = std::make_unique<Progress>(sc_.name, T, "tokens", opt_.progress,
                                         [window](long t) { return token_cost(t, window); });
  last_ = tracker_.snapshot();
  sys.host.on_token = [this](long done, const sc_core::sc_time& now) { token_done(done, now); };

  const auto wall_start = Clock::now();
  sc_core::sc_start();
  resync_sanitizer_stack();  // exceptions after this point are safe under ASan
  if (tracer_) {
    tracer_->close();
    if (!tracer_->write_error().empty())
      throw Error(opt_.vcd_path, "--vcd", "cannot write the trace: " + tracer_->write_error());
  }
  if (!sys.host.ok()) {
    r.exit_code = kExitSimError;
    r.sim_error = sys.host.error();
    return r;
  }
  // Observers first: the oracle check belongs to the run's wall time.
  for (const auto& obs : observers_) obs->finish(r);
  ojson observed = std::move(r.report);
  const Clock::time_point wall_end = Clock::now();
  const double wall_s = std::chrono::duration<double>(wall_end - wall_start).count();
  const double steady_wall_s =
      steady_tokens_ > 0 ? std::chrono::duration<double>(wall_end - steady_wall_start_).count()
                         : 0.0;
  workload_->add_metrics(r.metrics);
  add_run_sections(r, sys, wall_s, steady_wall_s);
  for (auto it = observed.begin(); it != observed.end(); ++it) r.report[it.key()] = it.value();

  if (opt_.monte_carlo.chips > 0) {
    MonteCarloOptions mc = opt_.monte_carlo;
    mc.first_seed = spec_.variation.chip_seed;
    const MonteCarloResult m = run_monte_carlo(sc_, mc);
    r.report["monte_carlo"] = m.json;
    for (const Metric& x : m.metrics.all()) r.metrics.set(x.name, x.value, x.unit, x.meaning);
  }
  write_outputs(r, outputs);
  outputs.commit();
  return r;
}

// report.json (once, from the result), modules.csv, the energy table, the plots' data and
// plots, and the observers' own files, into the output set.
void Experiment::write_outputs(RunResult& r, OutputSet& outputs) {
  ojson metrics = ojson::object();
  for (const Metric& m : r.metrics.all())
    metrics[m.name] = {{"value", m.value}, {"unit", m.unit}, {"meaning", m.meaning}};
  r.report["metrics"] = std::move(metrics);

  power::write_file_atomic(outputs.path("report.json"), r.report.dump(2) + "\n");
  power::write_modules_csv(outputs.path("modules.csv"), tracker_);
  // The energy-per-action table of this run, each number with its unit and source.
  power::write_file_atomic(outputs.path("energy_table.txt"), table_.to_text());
  power::write_plot_data(outputs.staging_dir(), r.power);
  for (const auto& obs : observers_)
    obs->write_files([&](const std::string& name) { return outputs.path(name); });
  if (sc_.plots && opt_.plots) r.plots_message = power::render_plots(outputs.staging_dir()).message;
}

// The report's own sections: power's figures, then what only the run knows.
void Experiment::add_run_sections(RunResult& r, const tlm::System& sys, double wall_s,
                                  double steady_wall_s) {
  const long T = sc_.host.tokens;
  const double sim_ns = sys.host.finished().to_seconds() * 1e9;
  check_simulated_time(sim_ns, lower_simulated_ns(spec_, T, sc_.host.host_ns_per_layer,
                                                  sc_.host.workload == tlm::Workload::decode));
  tracker_.advance_to(sim_ns);
  power::RunInfo run;
  run.scenario = sc_.name;
  run.seed = sc_.stimulus.seed;
  run.tokens = T;
  run.layers = L_;
  run.heads = L_ * H_;
  run.wall_time_s = wall_s;
  for (int l = 0; l < L_; ++l)
    run.latency_per_token_ns.push_back(latency_n_[l] ? latency_sum_[l] / latency_n_[l] : 0.0);
  const spec::TimingParams& t = spec_.timing;
  run.phases_ns = {{"precharge_write", t.precharge_write_ns()},
                   {"q_pulses", t.phase_q_ns},
                   {"phi_pulses", t.phase_phi_ns},
                   {"count", t.phase_count_ns},
                   {"digital", t.phase_digital_ns}};
  const long done = sys.host.tokens_done();
  run.end_to_end_ns_per_token = done == 0 ? 0.0 : sim_ns / double(done);
  run.steady_state_start = steady_start_;
  run.steady_state_tokens = steady_tokens_;
  run.energy_per_token_pj = per_token_.points();
  run.scenario_json = sc_.json_text;
  r.power = power::make_report(tracker_, spec_, run, baselines_);
  r.report = power::report_document(r.power);

  ojson workload = {{"kind", sc_.workload_kind}, {"mode", mode_name(sc_.host.workload)}};
  const ojson own = workload_->report();
  for (auto it = own.begin(); it != own.end(); ++it) workload[it.key()] = it.value();
  r.report["workload"] = std::move(workload);
  const ojson io = link_report(spec_, sys, done, sim_ns);
  r.report["io"] = io;
  // The pace a token could keep with an ideal link: the arrays' own latency per layer (decode)
  // or the analog occupancy per token (prefill).
  const double core_ns_per_token = sc_.host.workload == tlm::Workload::decode
                                       ? L_ * (t.token_latency_ns() + sc_.host.host_ns_per_layer)
                                       : t.analog_occupancy_ns();
  const double link_ns_per_token = io["busy_ns"].get<double>() / std::max(1L, done);
  // The link sets the pace when its occupancy per token exceeds the arrays', or when the run took
  // longer than it would with an ideal link (its latency stalls the host's round trips): the
  // ideal run is the tokens at the arrays' pace, plus, in prefill, the pipeline's fill (each
  // layer once at its token latency and host time). 1 % margin for rounding.
  const bool link_ideal = sys.link.ideal() && spec_.host_link.latency_ns <= 0.0;
  const double ideal_run_ns = sc_.host.workload == tlm::Workload::decode
                                  ? double(done) * core_ns_per_token
                                  : double(std::max(0L, done - 1)) * core_ns_per_token +
                                        L_ * (t.token_latency_ns() + sc_.host.host_ns_per_layer);
  const bool link_bound =
      !link_ideal && (link_ns_per_token > core_ns_per_token || sim_ns > 1.01 * ideal_run_ns);
  r.report["latency"]["bottleneck"] = link_bound ? "host link" : "arrays";
  r.report["latency"]["link_ns_per_token"] = link_ns_per_token;
  r.report["energy_per_token_tokens_per_point"] = per_token_.tokens_per_point();
  r.report["simulated_time_ns"] = sim_ns;
  // The estimate the memory check used, and the peak the process reached (so far: the
  // outputs are written after this).
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  r.report["memory"] = {{"estimated_peak_bytes", memory_.total()},
                        {"estimated_resident_at_start_bytes", memory_.resident},
                        {"estimated_model_bytes", memory_.model},
                        {"estimated_structure_bytes", memory_.structure},
                        {"estimated_checker_bytes", memory_.checker},
                        {"peak_resident_bytes", double(usage.ru_maxrss) * 1024.0}};
  r.report["numerics"] = {{"threads", sys.accelerator.threads()},
                          {"ahead", sys.accelerator.numerics_ahead()}};
  r.report["tokens_per_second"] = wall_s > 0 ? T / wall_s : 0.0;
  // Rate once the window is full (every token reads every sub-tile): the figure that scales.
  r.report["tokens_per_second_steady_state"] =
      steady_wall_s > 0 ? steady_tokens_ / steady_wall_s : 0.0;
}

}  // namespace

RunResult run_experiment(const Scenario& scenario, const ExperimentOptions& options) {
  Experiment e(scenario, options);
  return e.run();
}

}  // namespace gca::tb
