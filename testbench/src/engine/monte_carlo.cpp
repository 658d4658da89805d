#include "gca/tb/engine/monte_carlo.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/spec/child_process.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/head_model.hpp"
#include "gca/tb/engine/workload.hpp"
#include "gca/tb/run_limits.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

// Output differences are histogrammed in counter levels, from -kHistHalf to +kHistHalf.
constexpr int kHistHalf = 8;

// Indices of the k largest scores among the first n slots.
std::vector<int> top_k(const std::vector<float>& s, int n, int k, std::vector<int>& scratch) {
  scratch.resize(n);
  std::iota(scratch.begin(), scratch.end(), 0);
  std::nth_element(scratch.begin(), scratch.begin() + (k - 1), scratch.end(),
                   [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  std::vector<int> top(scratch.begin(), scratch.begin() + k);
  std::sort(top.begin(), top.end());
  return top;
}

double level_of(const spec::HardwareSpec& s) {
  // Continuous outputs (no counter): the default 32-level step as the unit.
  return 2.0 / ((s.quant.out_levels >= 2 ? s.quant.out_levels : 32) - 1);
}

ChipResult run_chip(const Scenario& sc, const spec::HardwareSpec& chip,
                    const spec::HardwareSpec& ideal, int top_k_size) {
  const int L = chip.model.n_layers, H = chip.model.n_heads, d = chip.model.d_head;
  const int subtiles = chip.subtiles_per_head(), M = chip.window;
  const long T = sc.host.tokens;
  // Token time as the decode host paces it: every layer's phases plus its host time.
  const double period_ns = L * (chip.timing.token_latency_ns() + sc.host.host_ns_per_layer);
  const double level = level_of(chip);
  // The chip and the ideal circuits each follow their own workload (a closed loop sees its own
  // outputs); an open-loop workload gives both the same inputs.
  const WorkloadKind& kind = find_workload_kind(sc.workload_kind, sc.file);
  std::unique_ptr<Workload> chip_load = kind.make(sc, chip), ideal_load = kind.make(sc, ideal);
  std::vector<spec::HeadModel> chips, ideals;
  auto fresh_heads = [&] {  // at the start, and when the workload resets every head
    chips.clear();
    ideals.clear();
    for (int i = 0; i < L * H; ++i) {
      chips.emplace_back(chip, i);
      ideals.emplace_back(ideal, i);
    }
  };
  fresh_heads();
  long since_reset = 0;
  ChipResult r;
  r.seed = chip.variation.chip_seed;
  r.hist.assign(2 * kHistHalf + 1, 0);
  std::vector<double> sub_err(subtiles, 0.0), sub_ref(subtiles, 0.0);
  double err2 = 0.0, ref2 = 0.0, overlap_sum = 0.0;
  long outputs = 0, moved = 0, rankings = 0;
  std::vector<double> q(d), k(d), v(d), out_c(d), out_i(d);
  std::vector<int> scratch;
  for (long t = 0; t < T; ++t, ++since_reset) {
    const double now_ns = double(t) * period_ns;
    if (chip_load->reset_heads_before(t)) {
      fresh_heads();
      since_reset = 0;
    }
    for (int l = 0; l < L; ++l) {
      for (int h = 0; h < H; ++h) {
        spec::HeadModel& c = chips[l * H + h];
        spec::HeadModel& i = ideals[l * H + h];
        chip_load->inputs(t, l, h, q.data(), k.data(), v.data());
        c.step(q.data(), k.data(), v.data(), out_c.data(), now_ns);
        ideal_load->inputs(t, l, h, q.data(), k.data(), v.data());
        i.step(q.data(), k.data(), v.data(), out_i.data(), now_ns);
        chip_load->output(t, l, h, out_c.data());
        ideal_load->output(t, l, h, out_i.data());
        for (int f = 0; f < d; ++f) {
          const double e = out_c[f] - out_i[f];
          err2 += e * e;
          ref2 += out_i[f] * out_i[f];
          ++outputs;
          const long lv = std::lround(e / level);
          moved += lv != 0;
          r.hist[std::clamp<long>(lv, -kHistHalf, kHistHalf) + kHistHalf]++;
        }
        for (int s = 0; s < subtiles; ++s) {
          for (int f = 0; f < d; ++f) {
            const double e = c.subtile_output(s)[f] - i.subtile_output(s)[f];
            sub_err[s] += e * e;
            sub_ref[s] += i.subtile_output(s)[f] * i.subtile_output(s)[f];
          }
        }
        const int valid = int(std::min<long>(since_reset + 1, M));
        if (valid >= top_k_size) {
          const std::vector<int> a = top_k(c.scores(), M, top_k_size, scratch);
          const std::vector<int> b = top_k(i.scores(), M, top_k_size, scratch);
          std::vector<int> both;
          std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
          overlap_sum += double(both.size()) / top_k_size;
          ++rankings;
        }
      }
    }
  }
  r.rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0;
  for (int s = 0; s < subtiles; ++s)
    r.subtile_rel_l2.push_back(sub_ref[s] > 0 ? std::sqrt(sub_err[s] / sub_ref[s]) : 0.0);
  r.moved_share = outputs ? double(moved) / outputs : 0.0;
  r.topk_overlap = rankings ? overlap_sum / rankings : 1.0;
  chip_load->add_metrics(r.workload);
  ideal_load->add_metrics(r.ideal_workload);
  return r;
}

// Mean, sample standard deviation, min and max over chips.
nlohmann::json spread(const std::vector<double>& x) {
  const double n = double(x.size());
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double var = 0.0;
  for (double v : x) var += (v - mean) * (v - mean);
  return {{"mean", mean},
          {"std", x.size() > 1 ? std::sqrt(var / (n - 1)) : 0.0},
          {"min", *std::min_element(x.begin(), x.end())},
          {"max", *std::max_element(x.begin(), x.end())}};
}

const char* kPlotScript = R"(set terminal pngcairo size 900,540
set output 'mc_error.png'
set title 'Monte Carlo: head output minus ideal, in counter levels (all chips)'
set xlabel 'output difference (counter levels; end bins collect the tails)'
set ylabel 'share of outputs'
set logscale y
set style fill solid 0.6
set boxwidth 0.8
set grid ytics
plot 'mc_error_hist.dat' using 1:3 with boxes notitle
)";

void write_text(const fs::path& p, const std::string& text) {
  power::write_file_atomic(p.string(), text);
}

}  // namespace

MonteCarloResult run_monte_carlo(const Scenario& sc, const MonteCarloOptions& o) {
  if (o.chips < 1 || o.chips > 100000) throw Error("", "--chips", "allowed: 1 .. 100000");
  if (o.jobs < 1 || o.jobs > 256) throw Error("", "--jobs", "allowed: 1 .. 256");
  const spec::HardwareSpec base = spec::load_spec_overridden(sc.spec_path, spec_overrides(sc));
  if (!base.non_ideal()) {
    throw Error("", "--set",
                "no non-ideality is on: set variation.* or noise.* (e.g. --set "
                "variation.cell_gain_sigma=0.05)");
  }
  if (o.top_k < 1 || o.top_k > base.window)
    throw Error("", "--top-k", "allowed: 1 .. window (" + std::to_string(base.window) + ")");
  if (o.first_seed < 0 || o.first_seed + o.chips - 1 > 2147483647L)
    throw Error("", "--seed", "chip seeds must stay in [0, 2147483647]");
  check_mc_limits(base, sc.host.tokens, std::min(o.jobs, o.chips));
  spec::HardwareSpec ideal = base;
  ideal.variation.cell_gain_sigma = ideal.variation.cell_offset_sigma_v = 0.0;
  ideal.variation.ctp_offset_sigma = 0.0;
  ideal.noise.read_sigma = ideal.noise.write_sigma_v = 0.0;

  MonteCarloResult m;
  m.hist_half = kHistHalf;
  m.chips.resize(o.chips);
  std::atomic<int> next{0}, finished{0};
  std::vector<std::thread> workers;
  std::vector<std::string> errors(o.jobs);
  Progress progress(sc.name + " Monte Carlo", o.chips, "chips", o.progress);
  std::mutex progress_mutex;
  for (int w = 0; w < std::min(o.jobs, o.chips); ++w) {
    workers.emplace_back([&, w] {
      try {
        for (int c = next++; c < o.chips; c = next++) {
          spec::HardwareSpec chip = base;
          chip.variation.chip_seed = int(o.first_seed + c);
          chip.noise.seed = int(o.first_seed + c);
          m.chips[c] = run_chip(sc, chip, ideal, o.top_k);
          const std::lock_guard<std::mutex> lock(progress_mutex);
          progress.update(++finished);
        }
      } catch (const std::exception& e) {
        errors[w] = e.what();
      }
    });
  }
  for (auto& t : workers) t.join();
  for (const auto& e : errors)
    if (!e.empty()) throw Error(sc.file, "", e);

  std::vector<double> l2, moved, overlap;
  for (const auto& r : m.chips) {
    l2.push_back(r.rel_l2);
    moved.push_back(r.moved_share);
    overlap.push_back(r.topk_overlap);
  }
  const int subtiles = base.subtiles_per_head();
  nlohmann::json per_subtile = nlohmann::json::array();
  for (int s = 0; s < subtiles; ++s) {
    std::vector<double> x;
    for (const auto& r : m.chips) x.push_back(r.subtile_rel_l2[s]);
    per_subtile.push_back(spread(x));
  }
  m.hist.assign(2 * kHistHalf + 1, 0);
  for (const auto& r : m.chips)
    for (std::size_t b = 0; b < m.hist.size(); ++b) m.hist[b] += r.hist[b];

  nlohmann::json nonideal = {{"variation.cell_gain_sigma", base.variation.cell_gain_sigma},
                             {"variation.cell_offset_sigma_v", base.variation.cell_offset_sigma_v},
                             {"variation.ctp_offset_sigma", base.variation.ctp_offset_sigma},
                             {"noise.read_sigma", base.noise.read_sigma},
                             {"noise.write_sigma_v", base.noise.write_sigma_v},
                             {"retention.tau_ms", base.retention.tau_ms}};
  const nlohmann::json l2_spread = spread(l2), moved_spread = spread(moved),
                       overlap_spread = spread(overlap);
  m.json = {{"scenario", sc.name},
            {"engine", "executable spec (HeadModel), in-process, one per head"},
            {"chips", o.chips},
            {"first_seed", o.first_seed},
            {"tokens", sc.host.tokens},
            {"heads", base.model.n_layers * base.model.n_heads},
            {"non_idealities", nonideal},
            {"top_k", o.top_k},
            {"output_rel_l2", l2_spread},
            {"outputs_moved_one_level_share", moved_spread},
            {"topk_overlap", overlap_spread},
            {"subtile_rel_l2", per_subtile}};
  auto mean_std = [&](const std::string& name, const nlohmann::json& x, const std::string& unit,
                      const std::string& meaning) {
    m.metrics.set("mc_" + name + "_mean", x["mean"].get<double>(), unit,
                  meaning + ", mean over chips");
    m.metrics.set("mc_" + name + "_std", x["std"].get<double>(), unit,
                  meaning + ", sample standard deviation over chips");
  };
  mean_std("output_rel_l2", l2_spread, "1",
           "relative L2 error of the head outputs against the ideal circuits");
  mean_std("outputs_moved_share", moved_spread, "1",
           "share of outputs moved by one counter level or more");
  mean_std("topk_overlap", overlap_spread, "1",
           "overlap of the top-" + std::to_string(o.top_k) + " Phi(S) ranking with the ideal");
  // The workload's own figures (a language model's loss, ...): per chip, and the ideal's.
  nlohmann::json workload = nlohmann::json::object();
  for (const Metric& w : m.chips.front().workload.all()) {
    std::vector<double> x;
    for (const auto& r : m.chips)
      if (const Metric* f = r.workload.find(w.name)) x.push_back(f->value);
    const nlohmann::json xs = spread(x);
    const Metric* ideal_figure = m.chips.front().ideal_workload.find(w.name);
    workload[w.name] = {
        {"unit", w.unit}, {"spread", xs}, {"ideal", ideal_figure ? ideal_figure->value : 0.0}};
    mean_std(w.name, xs, w.unit, w.meaning);
    if (ideal_figure)
      m.metrics.set("mc_" + w.name + "_ideal", ideal_figure->value, w.unit,
                    w.meaning + ", ideal circuits");
  }
  m.json["workload_metrics"] = workload;
  return m;
}

void write_monte_carlo_files(const std::string& dir, const MonteCarloResult& m, bool plots) {
  const fs::path d(dir);
  write_text(d / "mc.json", m.json.dump(2) + "\n");
  const int subtiles = m.chips.empty() ? 0 : int(m.chips.front().subtile_rel_l2.size());
  std::ostringstream csv;
  csv << "chip,seed,output_rel_l2,moved_share,topk_overlap";
  for (int s = 0; s < subtiles; ++s) csv << ",subtile" << s << "_rel_l2";
  if (!m.chips.empty())
    for (const Metric& w : m.chips.front().workload.all()) csv << "," << w.name;
  csv << "\n";
  for (std::size_t c = 0; c < m.chips.size(); ++c) {
    const ChipResult& r = m.chips[c];
    csv << c << ',' << r.seed << ',' << r.rel_l2 << ',' << r.moved_share << ',' << r.topk_overlap;
    for (double x : r.subtile_rel_l2) csv << ',' << x;
    for (const Metric& w : r.workload.all()) csv << ',' << w.value;
    csv << "\n";
  }
  write_text(d / "mc_chips.csv", csv.str());
  long total = 0;
  for (long x : m.hist) total += x;
  std::ostringstream dat;
  dat << "# levels count share\n";
  for (int b = 0; b < int(m.hist.size()); ++b)
    dat << b - m.hist_half << ' ' << m.hist[b] << ' ' << double(m.hist[b]) / std::max(1L, total)
        << "\n";
  write_text(d / "mc_error_hist.dat", dat.str());
  if (plots) write_text(d / "mc_error.gp", kPlotScript);
}

// Renders mc_error.png from the files in dir; returns what happened, for the summary.
std::string render_monte_carlo_plot(const std::string& dir) {
  // No shell: the folder is the child's working folder, never part of a command.
  const ChildRun g = run_program({"gnuplot", "mc_error.gp"}, dir, "gnuplot.log");
  const std::string png = (fs::path(dir) / "mc_error.png").string();
  const bool complete = power::png_complete(png);
  std::error_code ec;
  if (!complete) fs::remove(png, ec);  // a plot cut short is not published
  return !on_path("gnuplot")            ? "; gnuplot not found"
         : g.exit_code == 0 && complete ? ", mc_error.png"
                                        : "; gnuplot failed (see gnuplot.log)";
}

void print_monte_carlo_summary(const Scenario& sc, const MonteCarloResult& m) {
  const nlohmann::json& j = m.json;
  auto line = [](const std::string& name, const nlohmann::json& x, double scale, const char* unit) {
    std::printf("%-34s %10.4g %10.4g %10.4g %10.4g %s\n", name.c_str(), double(x["mean"]) * scale,
                double(x["std"]) * scale, double(x["min"]) * scale, double(x["max"]) * scale, unit);
  };
  std::printf("%s: %d chips x %d heads x %ld tokens, against the ideal circuits\n", sc.name.c_str(),
              j["chips"].get<int>(), j["heads"].get<int>(), sc.host.tokens);
  std::printf("%-34s %10s %10s %10s %10s\n", "figure", "mean", "std", "min", "max");
  line("output relative L2 error", j["output_rel_l2"], 1.0, "");
  line("outputs moved >= 1 counter level", j["outputs_moved_one_level_share"], 100.0, "%");
  line("top-" + std::to_string(j["top_k"].get<int>()) + " overlap of Phi(S)", j["topk_overlap"],
       100.0, "%");
  const auto& per_subtile = j["subtile_rel_l2"];
  for (std::size_t s = 0; s < per_subtile.size(); ++s)
    line("sub-tile " + std::to_string(s) + " relative L2", per_subtile[s], 1.0, "");
  for (auto it = j["workload_metrics"].begin(); it != j["workload_metrics"].end(); ++it) {
    line(it.key(), it.value()["spread"], 1.0, it.value()["unit"].get<std::string>().c_str());
    std::printf("%-34s %10.4g (ideal circuits)\n", "", it.value()["ideal"].get<double>());
  }
}

}  // namespace gca::tb
