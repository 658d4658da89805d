// Fit of the few ASSUMED constants of the component cost model that the paper constrains
// (docs/cost_model.md). Everything else in the cost model is a physical quantity stated in the
// parameter file. At the paper's point -- GPT-2 head, window 1024, 64x64 arrays, T_max 15 ns,
// uniform stimulus -- the paper gives four group energies (Fig. 5e), the latency (Fig. 5c) and
// the head area:
//   cost.read_charge_unit_fc and cost.comparator_bias_ua   K- and V-array groups (solved together)
//   cost.c_clock_tree_per_sink_ff                          digital group, read as the power of a
//                                                          block clocked every cycle (ungated)
//   area.control_um2                                       one head = 0.5 mm^2
//   timing.handoff_cycles                                  65 ns per token
// Each fitted value is held inside its literature range (kRanges, with sources); where the
// paper's figure cannot be reached inside it the constant stays at the edge and the residual is
// reported instead. The DAC group has no free constant: its residual is reported as is.
// The amounts are averaged over N and over 2N steady-state tokens; the fit uses 2N and reports
// how far it moved from N.
//
// usage: gca-calibrate-energy [--spec FILE] [--set key=value ...] [--tokens N] [--seed S]
//                             [--report DIR] [--markdown FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gca/power/energy_table.hpp"
#include "gca/power/power_tracker.hpp"
#include "gca/power/report.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/spec/technology.hpp"

using namespace gca::power;
using gca::spec::HardwareSpec;

namespace {

constexpr double kPaperHeadMm2 = 0.5;   // paper: one head with control
constexpr double kPaperTokenNs = 65.0;  // paper Fig. 5c

// Uniform stimulus as the authors' circuit tests use (Q in [0, 1], K and V in [0, 0.9] V).
struct Stimulus {
  explicit Stimulus(std::uint64_t seed) : rng(seed) {}
  void next(int d, std::vector<double>& q, std::vector<double>& k, std::vector<double>& v) {
    for (int i = 0; i < d; ++i) {
      q[i] = uq(rng);
      k[i] = ukv(rng);
      v[i] = ukv(rng);
    }
  }
  std::mt19937_64 rng;
  std::uniform_real_distribution<double> uq{0.0, 1.0}, ukv{0.0, 0.9};
};

// Mean action amounts per head per token over the tokens whose read sees a full window.
ActionCounts measure(const HardwareSpec& spec, long steady_tokens, std::uint64_t seed) {
  gca::spec::HeadModel head(spec);
  Stimulus stim(seed);
  const int d = spec.model.d_head;
  std::vector<double> q(d), k(d), v(d), out(d);
  ActionCounts sum{};
  long n = 0;
  const long total = spec.window - 1 + steady_tokens;
  for (long t = 0; t < total; ++t) {
    stim.next(d, q, k, v);
    head.step(q.data(), k.data(), v.data(), out.data());
    if (t < spec.window - 1) continue;  // window not yet full
    ActionCounts c = token_actions(head.activity(), head.active_subtiles(), spec);
    for (std::size_t a = 0; a < kActionCount; ++a) sum[a] += c[a];
    ++n;
  }
  for (double& x : sum) x /= double(n);
  return sum;
}

// Energy of one head's token by group: actions x energy per unit, plus each group's leakage
// over the token latency.
GroupEnergies head_energy(const ActionCounts& c, const HardwareSpec& spec) {
  const EnergyTable table(spec);
  GroupEnergies g{};
  for (const auto& e : table.entries())
    g[index(e.group)] += c[index(e.action)] * e.energy_pj_per_unit;
  const StaticPower& p = table.static_power();
  const int n = spec.subtiles_per_head();
  const double ns = spec.timing.token_latency_ns();
  g[index(Group::qk)] += n * p.k_array_mw * ns;
  g[index(Group::av)] += n * p.v_array_mw * ns;
  g[index(Group::digital)] += (n * p.counters_mw + p.control_mw) * ns;
  g[index(Group::dac)] += (p.q_pulses_mw + 2.0 * p.write_dac_mw) * ns;
  return g;
}

// One layer of heads through the tracker, one module per head and kind; tokens start every
// token_latency_ns and each action is booked at the time of its phase.
void demo_report(const HardwareSpec& spec, long tokens, std::uint64_t seed,
                 const std::string& dir) {
  const auto wall0 = std::chrono::steady_clock::now();
  EnergyTable table(spec);
  const double period = spec.timing.token_latency_ns();
  PowerTracker tracker(table, 64 * period, tokens * period);
  const int heads = spec.model.n_heads, d = spec.model.d_head, n = spec.subtiles_per_head();
  struct HeadIds {
    int k, v, counters, control, dacs;
  };
  std::vector<gca::spec::HeadModel> layer;
  std::vector<HeadIds> ids;
  const StaticPower& p = table.static_power();
  for (int h = 0; h < heads; ++h) {
    layer.emplace_back(spec);
    const std::string base = "top.layer0.head" + std::to_string(h);
    ids.push_back({tracker.register_module(base + ".k_arrays", Group::qk),
                   tracker.register_module(base + ".v_arrays", Group::av),
                   tracker.register_module(base + ".counters", Group::digital),
                   tracker.register_module(base + ".control", Group::digital),
                   tracker.register_module(base + ".dacs", Group::dac)});
    tracker.set_static_power(ids.back().k, p.k_array_mw * n);
    tracker.set_static_power(ids.back().v, p.v_array_mw * n);
    tracker.set_static_power(ids.back().counters, p.counters_mw * n);
    tracker.set_static_power(ids.back().control, p.control_mw);
    tracker.set_static_power(ids.back().dacs, p.q_pulses_mw + 2.0 * p.write_dac_mw);
  }
  Stimulus stim(seed);
  std::vector<double> q(d), k(d), v(d), out(d);
  RunInfo run;
  const auto& tm = spec.timing;
  const double q_at = tm.phase_precharge_ns, phi_at = q_at + tm.phase_q_ns;
  const double count_at = phi_at + tm.phase_phi_ns, digital_at = count_at + tm.phase_count_ns;
  for (long t = 0; t < tokens; ++t) {
    if (t == spec.window - 1) run.steady_state_start = tracker.snapshot();
    const EnergySnapshot before = tracker.snapshot();
    const double t0 = double(t) * period;
    for (int h = 0; h < heads; ++h) {
      stim.next(d, q, k, v);
      layer[h].step(q.data(), k.data(), v.data(), out.data());
      const ActionCounts c = token_actions(layer[h].activity(), layer[h].active_subtiles(), spec);
      const HeadIds& id = ids[h];
      auto rec = [&](int m, Action a, double when) { tracker.record(m, a, c[index(a)], when); };
      rec(id.dacs, Action::dac_kv_conversion, t0);
      rec(id.dacs, Action::cell_write, t0);
      rec(id.dacs, Action::dac_q_pulse, t0 + q_at);
      rec(id.k, Action::qk_cell_read, t0 + q_at);
      rec(id.k, Action::qk_ctp, t0 + phi_at);
      rec(id.k, Action::qk_ctp_pulse, t0 + phi_at);
      rec(id.v, Action::av_cell_read, t0 + phi_at);
      rec(id.v, Action::av_ctp, t0 + count_at);
      rec(id.v, Action::av_ctp_pulse, t0 + count_at);
      rec(id.counters, Action::counter_count, t0 + count_at);
      rec(id.counters, Action::counter_clock, t0 + count_at);
      rec(id.control, Action::digital_active, t0 + digital_at);
      rec(id.control, Action::digital_add, t0 + digital_at);
    }
    tracker.advance_to(t0 + period);
    run.energy_per_token_pj.push_back(tracker.snapshot() - before);
  }
  run.scenario = "calibration demo: one layer, uniform stimulus";
  run.seed = seed;
  run.tokens = tokens;
  run.layers = 1;
  run.heads = heads;
  run.steady_state_tokens = tokens >= spec.window ? tokens - (spec.window - 1) : 0;
  run.latency_per_token_ns = {period};
  run.phases_ns = {{"precharge", tm.phase_precharge_ns},
                   {"q", tm.phase_q_ns},
                   {"phi", tm.phase_phi_ns},
                   {"count", tm.phase_count_ns},
                   {"digital", tm.phase_digital_ns}};
  run.end_to_end_ns_per_token = period * spec.model.n_layers;
  run.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  Report report = make_report(tracker, spec, run, load_baselines());
  PlotResult plots = write_reports(dir, report, tracker);
  std::printf("\nDemonstration report in %s\n%s%s\n", dir.c_str(), summary_table(report).c_str(),
              plots.message.c_str());
}

void print_groups(const char* title, const GroupEnergies& got, const Baselines& paper) {
  std::printf("%s\n  %-8s %10s %10s %9s\n", title, "group", "model pJ", "paper pJ", "dev %");
  double total = 0.0;
  for (Group g : kGroups) {
    const double target = paper.paper_head_pj[index(g)];
    total += got[index(g)];
    std::printf("  %-8s %10.1f %10.1f %+9.2f\n", group_name(g), got[index(g)], target,
                100.0 * (got[index(g)] - target) / target);
  }
  std::printf("  %-8s %10.1f %10.1f %+9.2f\n", "total", total, paper.paper_head_total_pj,
              100.0 * (total - paper.paper_head_total_pj) / paper.paper_head_total_pj);
}

// A fitted constant's literature range and where it comes from (docs/cost_model.md).
struct Range {
  const char* key;
  double lo, hi;
  const char* unit;
  const char* source;
};
constexpr Range kRanges[] = {
    {"cost.read_charge_unit_fc", 0.5, 15.0, "fC",
     "full-scale cell (\\|g\\| about 10) read current 0.3-10 uA over 15 ns: read currents of 2T-4T "
     "gain cells in 28-65 nm (Meinerzhagen et al., Gain-Cell Embedded DRAMs for Low-Power VLSI "
     "Systems-on-Chip, Springer 2018)"},
    {"cost.comparator_bias_ua", 1.0, 50.0, "uA",
     "bias of continuous-time comparators with 0.05-1 ns delay in 28-65 nm converters "
     "(Razavi, Design of Analog CMOS Integrated Circuits, 2nd ed. 2017, ch. 13)"},
    {"cost.c_clock_tree_per_sink_ff", 1.0, 5.0, "fF",
     "clock-tree wire and buffers per flip-flop at 28 nm: an H-tree to N sinks over an area A "
     "has about 1.5 sqrt(A / N) of wire per sink (5-20 um at 0.2 fF/um) plus buffers; clock "
     "networks take 30-50 % of a block's dynamic power (Donno et al., DAC 2003)"},
    {"area.control_um2", 1.0e4, 1.0e5, "um^2",
     "ASSUMED: a synthesized sequencer, host interface and routing channels of a head at 28 nm "
     "(10k-100k um^2: 5k-50k gates at about 2 um^2 each)"},
    {"timing.handoff_cycles", 1.0, 16.0, "cycles",
     "ASSUMED: registers and bus arbitration between the adder tree and the host side"},
};
const Range& range_of(const std::string& key) {
  for (const Range& r : kRanges)
    if (key == r.key) return r;
  throw gca::Error("", key, "no literature range");
}

struct FitResult {
  std::string key;
  double value = 0.0, unclamped = 0.0;
  bool clamped = false;
  std::string target;
};

void set_value(HardwareSpec& spec, const std::string& key, double value) {
  char text[160];
  std::snprintf(text, sizeof text, "%s=%.17g", key.c_str(), value);
  gca::spec::apply_override(spec, text);
}

double clamp_to_range(const std::string& key, double x, bool* clamped) {
  const Range& r = range_of(key);
  const double y = std::clamp(x, r.lo, r.hi);
  *clamped = y != x;
  return y;
}

// Fits every constant the paper constrains on the amounts m; returns them in order.
std::vector<FitResult> fit_all(HardwareSpec& spec, const ActionCounts& m, const Baselines& paper) {
  std::map<std::string, FitResult> fits;
  auto group = [&](const HardwareSpec& sp, Group g) { return head_energy(m, sp)[index(g)]; };
  // Phases and leakage depend weakly on the constants (comparator delay, integrator area):
  // a few rounds settle them.
  for (int round = 0; round < 4; ++round) {
    // K and V groups and the head area together: the charge unit sets the read energy and,
    // through the saturation charges, the converters' reference energy and integrator area;
    // the comparator bias sets the rest of the converter energy; the control area closes the
    // head area. Inside the ranges the three paper figures need not all be reachable: the fit
    // takes the charge unit that minimizes the sum of the squared relative residuals (qk, av,
    // head area), with the bias (least squares, linear) and the control area (exact) solved for
    // it and each held inside its range.
    {
      const double target_qk = paper.paper_head_pj[index(Group::qk)];
      const double target_av = paper.paper_head_pj[index(Group::av)];
      struct Trial {
        double x = 0, y = 0, y_free = 0, area = 0, area_free = 0, cost = 1e300;
      };
      auto trial = [&](double x) {
        Trial tr;
        tr.x = x;
        HardwareSpec t = spec;
        set_value(t, "cost.read_charge_unit_fc", x);
        const double scale = gca::spec::technology_scale(t).logic_area;
        const double excess_um2 = (compute_area(t).head_mm2 - kPaperHeadMm2) * 1e6;
        tr.area_free = t.area.control_um2 - excess_um2 / scale;
        bool clamped = false;
        tr.area = clamp_to_range("area.control_um2", tr.area_free, &clamped);
        set_value(t, "area.control_um2", tr.area);
        const double r_area = (compute_area(t).head_mm2 - kPaperHeadMm2) / kPaperHeadMm2;
        // qk and av are linear in the bias: least squares on the relative residuals.
        const Range& ry = range_of("cost.comparator_bias_ua");
        auto groups_at = [&](double y) {
          HardwareSpec u = t;
          set_value(u, "cost.comparator_bias_ua", y);
          const GroupEnergies g = head_energy(m, u);
          return std::pair<double, double>(g[index(Group::qk)] / target_qk - 1.0,
                                           g[index(Group::av)] / target_av - 1.0);
        };
        const auto lo = groups_at(ry.lo), hi = groups_at(ry.hi);
        const double dq = (hi.first - lo.first) / (ry.hi - ry.lo);
        const double da = (hi.second - lo.second) / (ry.hi - ry.lo);
        tr.y_free = ry.lo - (lo.first * dq + lo.second * da) / (dq * dq + da * da);
        tr.y = clamp_to_range("cost.comparator_bias_ua", tr.y_free, &clamped);
        const double r_qk = lo.first + dq * (tr.y - ry.lo), r_av = lo.second + da * (tr.y - ry.lo);
        tr.cost = r_qk * r_qk + r_av * r_av + r_area * r_area;
        return tr;
      };
      // A log grid over the charge unit's range, then a finer one around the best point.
      const Range& rx = range_of("cost.read_charge_unit_fc");
      Trial best;
      double lo = rx.lo, hi = rx.hi;
      for (int level = 0; level < 3; ++level) {
        const int steps = 200;
        const double ratio = std::pow(hi / lo, 1.0 / steps);
        double x = lo;
        for (int i = 0; i <= steps; ++i, x *= ratio) {
          const Trial tr = trial(std::min(x, rx.hi));
          if (tr.cost < best.cost) best = tr;
        }
        lo = std::max(rx.lo, best.x / ratio);
        hi = std::min(rx.hi, best.x * ratio);
      }
      FitResult fx{"cost.read_charge_unit_fc", best.x, best.x, false,
                   "qk 1120 pJ, av 700 pJ, head 0.5 mm^2 (least squares)"};
      fx.clamped = best.x <= rx.lo * (1 + 1e-9) || best.x >= rx.hi * (1 - 1e-9);
      FitResult fy{"cost.comparator_bias_ua", best.y, best.y_free, best.y != best.y_free,
                   "qk 1120 pJ and av 700 pJ (least squares)"};
      FitResult fa{"area.control_um2", best.area, best.area_free, best.area != best.area_free,
                   "head 0.5 mm^2"};
      for (const FitResult& f : {fx, fy, fa}) {
        set_value(spec, f.key, f.value);
        fits[f.key] = f;
      }
    }
    // The paper's digital group is a power over the token (113.7 mW over about 35 ns): the
    // energy of a block whose clock runs every cycle. The clock tree is fitted to it with every
    // flip-flop clocked every cycle (cost.clock_gating = 0); the model then predicts the
    // clock-gated design of the parameter file.
    auto fit_linear = [&](const char* key, Group g, const char* what) {
      auto at = [&](double v) {
        HardwareSpec t = spec;
        set_value(t, "cost.clock_gating", 0);
        set_value(t, key, v);
        return group(t, g);
      };
      const Range& r = range_of(key);
      const double e0 = at(r.lo), e1 = at(r.hi);
      const double x = r.lo + (paper.paper_head_pj[index(g)] - e0) * (r.hi - r.lo) / (e1 - e0);
      FitResult f{key, 0, x, false, what};
      f.value = clamp_to_range(key, x, &f.clamped);
      set_value(spec, key, f.value);
      fits[key] = f;
    };
    fit_linear("cost.c_clock_tree_per_sink_ff", Group::digital,
               "digital 4000 pJ with every flip-flop clocked every cycle");
    // Latency: hand-off cycles close the gap to 65 ns.
    {
      const double gap = (kPaperTokenNs - spec.timing.token_latency_ns()) * spec.timing.clock_ghz;
      FitResult f{"timing.handoff_cycles", 0, double(spec.timing.handoff_cycles + std::lround(gap)),
                  false, "65 ns per token"};
      f.value = clamp_to_range(f.key, f.unclamped, &f.clamped);
      set_value(spec, f.key, f.value);
      fits[f.key] = f;
    }
  }
  std::vector<FitResult> out;
  for (const Range& r : kRanges) out.push_back(fits.at(r.key));
  return out;
}

std::string fmt(const char* f, double x) {
  char b[64];
  std::snprintf(b, sizeof b, f, x);
  return b;
}

// The tables of docs/cost_model.md: fitted constants beside their ranges, and the paper's
// groups against the model's with the residual.
std::string markdown(const std::vector<FitResult>& fits, const std::vector<FitResult>& half,
                     const ActionCounts& m, const GroupEnergies& got, const Baselines& paper,
                     const HardwareSpec& spec, long tokens) {
  std::string md;
  md +=
      "| constant | fitted | literature range | inside | moved N to 2N | target | range source |\n";
  md += "|---|---|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < fits.size(); ++i) {
    const FitResult& f = fits[i];
    const Range& r = range_of(f.key);
    const double move =
        half[i].value != 0.0 ? 100.0 * (f.value - half[i].value) / half[i].value : 0.0;
    md += "| `" + f.key + "` | " + fmt("%.4g", f.value) + " " + r.unit + " | " + fmt("%g", r.lo) +
          "-" + fmt("%g", r.hi) + " " + r.unit + " | " +
          (f.clamped ? "at the edge (the targets alone: " + fmt("%.4g", f.unclamped) + ")"
                     : std::string("yes")) +
          " | " + fmt("%+.2f %%", move) + " | " + f.target + " | " + r.source + " |\n";
  }
  md += "\nFit on " + std::to_string(2 * tokens) + " steady-state tokens (moved: against " +
        std::to_string(tokens) + ").\n\n";
  md += "| group | model pJ | paper pJ | residual pJ (paper - model) |\n|---|---|---|---|\n";
  double total = 0.0;
  for (Group g : kGroups) {
    const double m = got[index(g)], p = paper.paper_head_pj[index(g)];
    total += m;
    md += std::string("| ") + group_name(g) + " | " + fmt("%.1f", m) + " | " + fmt("%.1f", p) +
          " | " + fmt("%+.1f", p - m) + fmt(" (%+.1f %%)", 100.0 * (p - m) / p) + " |\n";
  }
  md += "| total | " + fmt("%.1f", total) + " | " + fmt("%.1f", paper.paper_head_total_pj) + " | " +
        fmt("%+.1f", paper.paper_head_total_pj - total) + " |\n";
  HardwareSpec ungated = spec;
  set_value(ungated, "cost.clock_gating", 0);
  md +=
      "\nThe same constants with every flip-flop clocked every cycle of the token "
      "(`cost.clock_gating=0`): digital " +
      fmt("%.1f", head_energy(m, ungated)[index(Group::digital)]) + " pJ.\n";
  md += "\nLatency " + fmt("%.1f", spec.timing.token_latency_ns()) +
        " ns per token (paper 65), head " + fmt("%.4f", compute_area(spec).head_mm2) +
        " mm^2 (paper 0.5).\n";
  return md;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string spec_path = gca::spec::default_spec_path(), report_dir, markdown_path;
    std::vector<std::string> overrides;
    long tokens = 262144;
    std::uint64_t seed = 42;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw gca::Error("", a, "needs a value");
        return argv[++i];
      };
      if (a == "--spec") {
        spec_path = value();
      } else if (a == "--set") {
        overrides.push_back(value());
      } else if (a == "--tokens") {
        tokens = std::strtol(value().c_str(), nullptr, 10);
        if (tokens <= 0) throw gca::Error("", "--tokens", "must be a positive integer");
      } else if (a == "--seed") {
        seed = std::strtoull(value().c_str(), nullptr, 10);
      } else if (a == "--report") {
        report_dir = value();
      } else if (a == "--markdown") {
        markdown_path = value();
      } else {
        throw gca::Error("", a,
                         "unknown argument (usage: gca-calibrate-energy [--spec FILE] [--set "
                         "key=value ...] [--tokens N] [--seed S] [--report DIR] [--markdown "
                         "FILE])");
      }
    }
    HardwareSpec spec = gca::spec::load_spec(spec_path, overrides);
    const Baselines paper = load_baselines();

    const ActionCounts m_half = measure(spec, tokens, seed);
    const ActionCounts m = measure(spec, 2 * tokens, seed);
    std::printf(
        "Paper's point (window %d full), %ld tokens, seed %llu, uniform q in [0,1], "
        "k, v in [0,0.9] V\nmean action amounts per head per token:\n",
        spec.window, 2 * tokens, static_cast<unsigned long long>(seed));
    for (Action a : all_actions()) {
      if (a != Action::static_time) std::printf("  %-18s %14.3f\n", action_name(a), m[index(a)]);
    }
    HardwareSpec spec_half = spec;
    const std::vector<FitResult> half = fit_all(spec_half, m_half, paper);
    const std::vector<FitResult> fits = fit_all(spec, m, paper);

    std::printf("\nfitted constants (N -> 2N tokens), literature range:\n");
    for (std::size_t i = 0; i < fits.size(); ++i) {
      const Range& r = range_of(fits[i].key);
      std::printf("  %-30s %12.6g  (N: %.6g, moved %+.3f %%)  range %g-%g %s%s\n",
                  fits[i].key.c_str(), fits[i].value, half[i].value,
                  100.0 * (fits[i].value - half[i].value) / half[i].value, r.lo, r.hi, r.unit,
                  fits[i].clamped ? "  HELD AT THE EDGE" : "");
    }
    std::printf("\n");
    const GroupEnergies got = head_energy(m, spec);
    print_groups("check at the paper's point with the fitted constants:", got, paper);
    std::printf("  latency %.1f ns per token (paper %.0f), head %.4f mm^2 (paper %.1f)\n",
                spec.timing.token_latency_ns(), kPaperTokenNs, compute_area(spec).head_mm2,
                kPaperHeadMm2);
    std::printf("\nenergy per action:\n%s", EnergyTable(spec).to_text().c_str());
    if (!markdown_path.empty()) {
      std::FILE* f = std::fopen(markdown_path.c_str(), "w");
      if (!f) throw gca::Error(markdown_path, "", "cannot write");
      const std::string md = markdown(fits, half, m, got, paper, spec, tokens);
      std::fwrite(md.data(), 1, md.size(), f);
      std::fclose(f);
    }
    if (!report_dir.empty()) demo_report(spec, spec.window + 256, seed, report_dir);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gca-calibrate-energy: %s\n", e.what());
    return 2;
  }
}
