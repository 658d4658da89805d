#include "gca/tb/sweep_merge.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/spec/child_process.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/tb/sweep_columns.hpp"
#include "gca/tb/sweep_point.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// What the merge knows of one point.
struct Row {
  const SweepPoint* point = nullptr;
  std::string status = "missing";  // ok, check_failed, failed, missing
  int exit_code = -1;
  std::string error;
  json report;                             // the run's report.json (null when none)
  std::vector<std::optional<json>> cells;  // one per column
  bool pareto = false;
};

// The columns of this merge: the fixed ones, then every metric a point's report carries
// (report.json "metrics", in the order they first appear), so a new figure needs no code here.
std::vector<ReportColumn> columns_of(const std::vector<Row>& rows) {
  std::vector<ReportColumn> cols = report_columns();
  std::vector<std::string> seen;
  for (const auto& r : rows) {
    if (!r.report.is_object() || !r.report.contains("metrics") || !r.report["metrics"].is_object())
      continue;
    for (auto it = r.report["metrics"].begin(); it != r.report["metrics"].end(); ++it) {
      if (std::find(seen.begin(), seen.end(), it.key()) != seen.end()) continue;
      seen.push_back(it.key());
      const std::string name = it.key();
      std::string meaning;
      if (it->contains("meaning") && (*it)["meaning"].is_string())
        meaning = (*it)["meaning"].get<std::string>();
      std::string unit;
      if (it->contains("unit") && (*it)["unit"].is_string())
        unit = (*it)["unit"].get<std::string>();
      cols.push_back({name, meaning + " (" + unit + ") [metrics." + name + ".value]",
                      [name](const json& report) -> std::optional<json> {
                        if (!report.contains("metrics") || !report["metrics"].contains(name))
                          return std::nullopt;
                        const json& m = report["metrics"][name];
                        if (!m.contains("value") || !m["value"].is_number()) return std::nullopt;
                        return m["value"];
                      }});
    }
  }
  return cols;
}

void fill_cells(std::vector<Row>& rows, const std::vector<ReportColumn>& cols) {
  for (auto& r : rows) {
    r.cells.assign(cols.size(), std::nullopt);
    if (!r.report.is_object()) continue;
    for (std::size_t i = 0; i < cols.size(); ++i) r.cells[i] = cols[i].read(r.report);
  }
}

std::string format_cell(const std::optional<json>& v) {
  if (!v) return "";
  if (v->is_number_integer()) return std::to_string(v->get<long long>());
  if (v->is_number()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.12g", v->get<double>());
    return buf;
  }
  if (v->is_boolean()) return v->get<bool>() ? "true" : "false";
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return q + "\"";
}

// The number as sweep.csv shows it (12 significant digits), so that the Pareto front and the
// plots agree with the table: 65.00000000000001 ns and 65 ns are the same latency.
std::optional<double> cell_number(const Row& r, const std::string& column) {
  const auto& cols = report_columns();
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].name == column && r.cells[i] && r.cells[i]->is_number())
      return std::strtod(format_cell(r.cells[i]).c_str(), nullptr);
  }
  return std::nullopt;
}

Row read_row(const SweepFile& sweep, const SweepPoint& p, const std::string& out_dir) {
  Row row;
  row.point = &p;
  const std::string dir = point_dir(out_dir, p);
  const PointStatus s = read_point_status(dir);
  if (!s.present || s.key != point_key(sweep, point_run_args(sweep, p, dir), dir))
    return row;  // not run (or stale: another binary, scenario or parameters)
  row.status = s.status;
  row.exit_code = s.exit_code;
  row.error = s.error;
  if (s.status == "failed") return row;
  const std::string file = (fs::path(dir) / "run" / "report.json").string();
  json report;
  try {  // the one bounded reader and parser of JSON inputs
    report = parse_json_strict(read_input_file(file, limits::kMaxReportFileBytes, "report"), file);
  } catch (const Error& e) {
    row.status = "failed";
    row.error = std::string("report.json does not parse: ") + e.what();
    return row;
  }
  row.report = std::move(report);
  return row;
}

void mark_pareto(std::vector<Row>& rows) {
  std::vector<std::pair<double, double>> le;
  std::vector<Row*> with;
  for (auto& r : rows) {
    auto l = cell_number(r, column::latency), e = cell_number(r, column::energy);
    if (r.status == "missing" || r.status == "failed" || !l || !e) continue;
    le.emplace_back(*l, *e);
    with.push_back(&r);
  }
  const auto front = pareto_front(le);
  for (std::size_t i = 0; i < with.size(); ++i) with[i]->pareto = front[i];
}

std::string csv_text(const SweepFile& sweep, const std::vector<Row>& rows,
                     const std::vector<ReportColumn>& columns) {
  std::ostringstream out;
  out << "id";
  for (const auto& k : sweep.keys) out << "," << csv_field(k);
  out << ",tokens,status,exit_code";
  for (const auto& c : columns) out << "," << c.name;
  out << ",pareto,error\n";
  for (const auto& r : rows) {
    out << r.point->id;
    for (const auto& v : r.point->values) out << "," << csv_field(v.text);
    out << "," << r.point->tokens << "," << r.status << ","
        << (r.status == "missing" ? "" : std::to_string(r.exit_code));
    for (const auto& c : r.cells) out << "," << csv_field(format_cell(c));
    out << "," << (r.pareto ? 1 : 0) << "," << csv_field(r.error) << "\n";
  }
  return out.str();
}

std::string json_text(const SweepFile& sweep, const std::vector<Row>& rows, const MergeResult& m,
                      const std::vector<ReportColumn>& columns) {
  ojson j;
  j["schema"] = "gca-tlm.sweep/1";
  j["name"] = sweep.name;
  j["description"] = sweep.description;
  j["scenario"] = fs::path(sweep.scenario_path).filename().string();
  j["keys"] = sweep.keys;
  ojson fixed = ojson::object();
  for (const auto& f : sweep.fixed) fixed[f.key] = f.text;
  j["set"] = fixed;
  ojson cols = ojson::array();
  for (const auto& c : columns) cols.push_back({{"name", c.name}, {"description", c.description}});
  j["columns"] = cols;
  j["summary"] = {{"points", m.points}, {"ok", m.ok},           {"check_failed", m.check_failed},
                  {"failed", m.failed}, {"missing", m.missing}, {"pareto", m.pareto}};
  ojson points = ojson::array(), front = ojson::array();
  for (const auto& r : rows) {
    ojson p;
    p["id"] = r.point->id;
    ojson values = ojson::object();
    for (const auto& v : r.point->values)
      values[v.key] = v.is_number ? ojson::parse(v.text) : ojson(v.text);
    p["values"] = values;
    p["tokens"] = r.point->tokens;
    p["status"] = r.status;
    p["exit_code"] = r.status == "missing" ? ojson(nullptr) : ojson(r.exit_code);
    if (!r.error.empty()) p["error"] = r.error;
    ojson metrics = ojson::object();
    const auto& c = columns;
    for (std::size_t i = 0; i < c.size(); ++i)
      metrics[c[i].name] = r.cells[i] ? ojson::parse(r.cells[i]->dump()) : ojson(nullptr);
    p["metrics"] = metrics;
    p["pareto"] = r.pareto;
    points.push_back(p);
    if (r.pareto) front.push_back(r.point->id);
  }
  j["pareto"] = front;
  j["points"] = points;
  return j.dump(2) + "\n";
}

std::string plot_safe(std::string s) {
  std::replace(s.begin(), s.end(), ',', ';');
  std::replace(s.begin(), s.end(), '"', '\'');
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// "window=256 array.cols=32" with each key shortened to its last part ("cols=32").
std::string short_label(const SweepPoint& p) {
  std::string s;
  for (const auto& v : p.values) {
    const auto dot = v.key.rfind('.');
    s += (s.empty() ? "" : " ") + (dot == std::string::npos ? v.key : v.key.substr(dot + 1)) + "=" +
         v.text;
  }
  return s;
}

// Up to this many points get a legend line on the plots (number: values); beyond, sweep.csv.
constexpr int kMaxLegend = 24;

// The legend of the plots as gnuplot commands: every point's number and values, failed points
// in red with their error, so that a missing point is visible rather than absent.
std::string legend_script(const std::vector<Row>& rows) {
  std::ostringstream gp;
  const int n = static_cast<int>(rows.size());
  int failed = 0;
  for (const auto& r : rows) failed += r.status == "failed" || r.status == "missing";
  gp << "nfailed = " << failed << "\nnpointsall = " << n << "\n";
  if (n > kMaxLegend) {
    gp << "set label 1 'points: see sweep.csv' at screen 0.775, 0.9 font ',9'\n";
    return gp.str();
  }
  // Lines of at most kWidth characters (a long label continues on the next line, indented).
  constexpr std::size_t kWidth = 40;
  double y = 0.9;
  const double line = std::min(0.03, 0.82 / std::max(1, n));
  for (int i = 0; i < n; ++i) {
    const Row& r = rows[i];
    std::string text = std::to_string(r.point->index) + ": " + short_label(*r.point);
    const char* colour = "#000000";
    if (r.status == "failed" || r.status == "missing") {
      std::string error = r.error;
      if (error.rfind("gca-sim: ", 0) == 0) error = error.substr(9);
      text += "  " + r.status + (error.empty() ? "" : ": " + error.substr(0, 70));
      colour = "#d62728";
    } else if (r.status == "check_failed") {
      text += "  check failed";
      colour = "#ff7f0e";
    }
    text = plot_safe(text);
    std::string wrapped;
    int lines = 1;
    for (std::size_t at = 0, col = 0; at < text.size(); ++at, ++col) {
      if (col >= kWidth && text[at] == ' ' && n <= kMaxLegend / 2) {
        wrapped += "\\n   ";
        col = 3;
        ++lines;
        continue;
      }
      wrapped += text[at];
    }
    char pos[64];
    std::snprintf(pos, sizeof pos, "at screen 0.745, %.4f", y);
    gp << "set label " << (i + 2) << " \"" << wrapped << "\" " << pos << " font ',9' tc rgb '"
       << colour << "'\n";
    y -= line * lines;
  }
  return gp.str();
}

// The data files the gnuplot script reads (fixed column order, no header parsing needed).
int write_plot_data(const SweepFile& sweep, const std::vector<Row>& rows, const fs::path& dir) {
  std::ostringstream points, front;
  points << "# index,id,latency_ns,energy_pj,area_mm2,pareto";
  for (const auto& g : column::energy_groups()) points << "," << g;
  points << ",check_failed,label\n";
  std::vector<std::pair<double, double>> pareto;
  int n = 0;
  for (const auto& r : rows) {
    auto l = cell_number(r, column::latency), e = cell_number(r, column::energy);
    if (!l || !e) continue;
    ++n;
    auto a = cell_number(r, column::area);
    char buf[160];
    std::snprintf(buf, sizeof buf, "%d,%s,%.12g,%.12g,%.12g,%d", r.point->index,
                  r.point->id.c_str(), *l, *e, a ? *a : 0.0, r.pareto ? 1 : 0);
    points << buf;
    for (const auto& g : column::energy_groups()) {
      auto v = cell_number(r, g);
      std::snprintf(buf, sizeof buf, ",%.12g", v ? *v : 0.0);
      points << buf;
    }
    points << "," << (r.status == "check_failed" ? 1 : 0) << "," << plot_safe(short_label(*r.point))
           << "\n";
    if (r.pareto) pareto.emplace_back(*l, *e);
  }
  std::sort(pareto.begin(), pareto.end());
  front << "# latency_ns,energy_pj\n";
  for (const auto& [l, e] : pareto) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "%.12g,%.12g\n", l, e);
    front << buf;
  }
  power::write_file_atomic((dir / "sweep_plot_points.csv").string(), points.str());
  power::write_file_atomic((dir / "sweep_plot_pareto.csv").string(), front.str());
  power::write_file_atomic((dir / "sweep_plot_legend.gp").string(), legend_script(rows));
  // Per swept key: its distinct values at evenly spaced positions (numbers in order, strings in
  // the order they appear), each point's energy, area and latency at its value's position;
  // failed points at their position with no figures (drawn as crosses on the axis).
  for (std::size_t k = 0; k < sweep.keys.size(); ++k) {
    std::vector<std::string> distinct;
    bool numeric = true;
    for (const auto& p : sweep.points) {
      const SweepValue& v = p.values[k];
      numeric = numeric && v.is_number;
      if (std::find(distinct.begin(), distinct.end(), v.text) == distinct.end())
        distinct.push_back(v.text);
    }
    if (numeric)
      std::stable_sort(distinct.begin(), distinct.end(), [](const auto& a, const auto& b) {
        return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
      });
    std::ostringstream out;
    out << "# position,value,energy_pj,area_mm2,index,latency_ns,ok,slot\n";
    std::vector<int> at_position(distinct.size(), 0);  // points drawn so far at each position
    for (const auto& r : rows) {
      auto e = cell_number(r, column::energy), a = cell_number(r, column::area),
           l = cell_number(r, column::latency);
      const auto pos =
          std::find(distinct.begin(), distinct.end(), r.point->values[k].text) - distinct.begin();
      char buf[80];
      std::snprintf(buf, sizeof buf, "%ld,", long(pos));
      out << buf << plot_safe(r.point->values[k].text);
      // slot: the label's place beside the points sharing this position, so that labels of
      // points with equal figures do not print over each other.
      const int slot = at_position[std::size_t(pos)]++;
      if (e && l) {
        std::snprintf(buf, sizeof buf, ",%.12g,%.12g,%d,%.12g,1,%d\n", *e, a ? *a : 0.0,
                      r.point->index, *l, slot);
      } else {
        std::snprintf(buf, sizeof buf, ",0,0,%d,0,0,%d\n", r.point->index, slot);
      }
      out << buf;
    }
    power::write_file_atomic((dir / ("sweep_plot_key" + std::to_string(k + 1) + ".csv")).string(),
                             out.str());
  }
  return n;
}

std::string render_sweep_plots(const SweepFile& sweep, const fs::path& dir) {
  if (!on_path("gnuplot"))
    return "gnuplot not found on PATH: plots not rendered (data files are in " + dir.string() + ")";
  const std::string script = default_sweep_plot_script();
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) return "plot script " + script + " not found";
  // No shell: the folder is gnuplot's working folder; the key names reach it as string data.
  const ChildRun run = run_program(sweep_gnuplot_argv(sweep.keys, fs::absolute(script).string()),
                                   dir.string(), "sweep_gnuplot.log");
  if (run.exit_code != 0)
    return "gnuplot failed (" + run.error + "); see " + (dir / "sweep_gnuplot.log").string();
  int images = 0;
  std::string incomplete;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("sweep_", 0) != 0 || e.path().extension() != ".png") continue;
    if (power::png_complete(e.path().string()))
      ++images;
    else if (incomplete.empty())
      incomplete = f;
    if (!power::png_complete(e.path().string())) fs::remove(e.path(), ec);  // cut short
  }
  if (!incomplete.empty())
    return "gnuplot failed (" + incomplete + " is incomplete: disk full?); see " +
           (dir / "sweep_gnuplot.log").string();
  return "plots written: " + std::to_string(images) + " PNG files in " + dir.string();
}

}  // namespace

std::vector<std::string> sweep_gnuplot_argv(const std::vector<std::string>& keys,
                                            const std::string& script) {
  std::string names;
  for (const auto& k : keys) names += (names.empty() ? "" : " ") + k;
  return {"gnuplot", "-e",
          "nkeys=" + std::to_string(keys.size()) +
              "; keynames=" + gnuplot_string_literal(names, "sweep keys"),
          script};
}

std::string default_sweep_plot_script() {
  return (fs::path(power::default_plot_script()).parent_path() / "plot_sweep.gp").string();
}

std::vector<bool> pareto_front(const std::vector<std::pair<double, double>>& le) {
  std::vector<bool> front(le.size(), true);
  for (std::size_t i = 0; i < le.size(); ++i) {
    for (std::size_t j = 0; j < le.size() && front[i]; ++j) {
      const bool as_good = le[j].first <= le[i].first && le[j].second <= le[i].second;
      const bool better = le[j].first < le[i].first || le[j].second < le[i].second;
      if (j != i && as_good && better) front[i] = false;
    }
  }
  return front;
}

MergeResult merge_sweep(const SweepFile& sweep, const std::string& out_dir) {
  MergeResult m;
  std::vector<Row> rows;
  for (const auto& p : sweep.points) rows.push_back(read_row(sweep, p, out_dir));
  const std::vector<ReportColumn> columns = columns_of(rows);
  fill_cells(rows, columns);
  mark_pareto(rows);
  for (const auto& r : rows) {
    ++m.points;
    if (r.status == "ok")
      ++m.ok;
    else if (r.status == "check_failed")
      ++m.check_failed;
    else if (r.status == "failed")
      ++m.failed;
    else
      ++m.missing;
    if (r.pareto) ++m.pareto;
  }
  const fs::path dir(out_dir);
  m.csv_path = (dir / "sweep.csv").string();
  power::write_file_atomic(m.csv_path, csv_text(sweep, rows, columns));
  power::write_file_atomic((dir / "sweep.json").string(), json_text(sweep, rows, m, columns));
  const int plotted = write_plot_data(sweep, rows, dir);
  m.plots_message = plotted == 0   ? "no point with latency and energy: no plots"
                    : !sweep.plots ? "plots not rendered (--no-plots)"
                                   : render_sweep_plots(sweep, dir);
  return m;
}

}  // namespace gca::tb
