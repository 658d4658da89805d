#include "gca/tb/sweep_point.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/spec/params.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string last_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  // A progress line rewrites itself with carriage returns: keep the text after the last one.
  if (auto cr = last.rfind('\r'); cr != std::string::npos) last = last.substr(cr + 1);
  return last;
}

// FNV-1a, 64 bits: a fingerprint (not a defence against forgery) of what a point's result
// depends on.
struct Fingerprint {
  std::uint64_t h = 14695981039346656037ull;
  void add(const std::string& bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separates the pieces
  }
  void add_file(const fs::path& file) {
    add(file.filename().string());
    add(content_fingerprint(file));
  }
  // The fingerprint of a file's bytes, computed once per process for each path, size and
  // modification time (a sweep keys every point on the same data files).
  static std::string content_fingerprint(const fs::path& file) {
    static std::map<std::string, std::string> cache;
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    if (ec) return "(unreadable)";
    const std::string id =
        file.string() + "\n" + std::to_string(size) + "\n" + std::to_string(mtime);
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    std::ifstream in(file, std::ios::binary);
    Fingerprint f;
    std::vector<char> buf(1 << 16);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = in.gcount();
      for (std::streamsize i = 0; i < n; ++i)
        f.h = (f.h ^ static_cast<unsigned char>(buf[std::size_t(i)])) * 1099511628211ull;
    }
    const std::string text = in.bad() ? std::string("(unreadable)") : f.hex();
    return cache[id] = text;
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

// The program itself (a rebuilt gca-sim may compute differently), once per process.
const std::string& binary_fingerprint() {
  static const std::string text = [] {
    Fingerprint f;
    f.add_file("/proc/self/exe");
    return f.hex();
  }();
  return text;
}

}  // namespace

std::string point_key(const SweepFile& sweep, const std::vector<std::string>& args,
                      const std::string& point_dir) {
  Fingerprint f;
  f.add(binary_fingerprint());
  // The base scenario's content and the parameter files it may use (the shipped ones, and its
  // own spec file when it names one by path), not their paths: a moved folder resumes.
  f.add_file(sweep.scenario_path);
  std::error_code ec;
  std::vector<fs::path> params;
  for (fs::directory_iterator it(spec::default_params_dir(), ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".json") params.push_back(it->path());
  std::sort(params.begin(), params.end());
  for (const auto& p : params) f.add_file(p);
  // The files the point's run reads (its parameter file and what that extends, the .npy data,
  // the workload's files), as the point's own --scenario-set values name them.
  std::vector<std::string> sets;
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--scenario-set") sets.push_back(args[i + 1]);
  try {
    for (const auto& file : scenario_input_files(load_scenario(sweep.scenario_path, sets)))
      f.add_file(file);
  } catch (const Error& e) {
    f.add(std::string("(the scenario does not load: ") + e.what() + ")");
  }
  // The arguments, with the paths that depend on where the sweep's folder is replaced.
  for (std::string a : args) {
    if (a == sweep.scenario_path) a = "<scenario>";
    if (a.compare(0, point_dir.size(), point_dir) == 0) a = "<point>" + a.substr(point_dir.size());
    f.add(a);
  }
  return f.hex();
}

std::string point_dir(const std::string& out_dir, const SweepPoint& point) {
  return (fs::path(out_dir) / "points" / point.id).string();
}

PointStatus read_point_status(const std::string& dir) {
  PointStatus s;
  const fs::path file = fs::path(dir) / "point.json";
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) return s;
  json j;
  try {  // the one bounded reader and parser of JSON inputs
    j = parse_json_strict(read_input_file(file.string(), limits::kMaxJsonFileBytes, "point.json"),
                          file.string());
  } catch (const Error&) {
    return s;  // not one gca-sim wrote: the point runs again
  }
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string() ||
      !j.contains("exit_code") || !j["exit_code"].is_number_integer() || !j.contains("args") ||
      !j["args"].is_array())
    return s;
  s.present = true;
  s.status = j["status"].get<std::string>();
  s.exit_code = j["exit_code"].get<int>();
  if (j.contains("key") && j["key"].is_string()) s.key = j["key"].get<std::string>();
  if (j.contains("error") && j["error"].is_string()) s.error = j["error"].get<std::string>();
  for (const auto& a : j["args"]) {
    if (a.is_string()) s.args.push_back(a.get<std::string>());
  }
  return s;
}

PointStatus write_point_status(const std::string& dir, const SweepPoint& point,
                               const std::vector<std::string>& args, const std::string& key,
                               int exit_code) {
  PointStatus s;
  s.key = key;
  s.present = true;
  s.exit_code = exit_code;
  s.args = args;
  std::error_code ec;
  const bool report = fs::is_regular_file(fs::path(dir) / "run" / "report.json", ec);
  if ((exit_code == 0 || exit_code == 1) && report) {
    s.status = exit_code == 0 ? "ok" : "check_failed";
  } else {
    s.status = "failed";
    s.error = last_line(fs::path(dir) / "stderr.txt");
    if (s.error.empty() && exit_code > 128)
      s.error = "killed by signal " + std::to_string(exit_code - 128);
    if (s.error.empty() && !report) s.error = "no report.json written";
  }
  if (exit_code != 0 && s.error.empty()) s.error = last_line(fs::path(dir) / "stderr.txt");
  json j;
  j["id"] = point.id;
  json values = json::object();
  for (const auto& v : point.values) values[v.key] = v.text;
  j["values"] = values;
  j["tokens"] = point.tokens;
  j["args"] = args;
  j["key"] = key;
  j["exit_code"] = exit_code;
  j["status"] = s.status;
  j["error"] = s.error;
  power::write_file_atomic((fs::path(dir) / "point.json").string(), j.dump(2) + "\n");
  return s;
}

bool point_complete(const std::string& dir, const std::string& key) {
  const PointStatus s = read_point_status(dir);
  std::error_code ec;
  return s.present && s.key == key && (s.status == "ok" || s.status == "check_failed") &&
         fs::is_regular_file(fs::path(dir) / "run" / "report.json", ec);
}

}  // namespace gca::tb
