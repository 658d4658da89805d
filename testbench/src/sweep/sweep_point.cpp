#include "gca/tb/sweep_point.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"

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

}  // namespace

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
  if (j.contains("error") && j["error"].is_string()) s.error = j["error"].get<std::string>();
  for (const auto& a : j["args"]) {
    if (a.is_string()) s.args.push_back(a.get<std::string>());
  }
  return s;
}

PointStatus write_point_status(const std::string& dir, const SweepPoint& point,
                               const std::vector<std::string>& args, int exit_code) {
  PointStatus s;
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
  j["exit_code"] = exit_code;
  j["status"] = s.status;
  j["error"] = s.error;
  power::write_file_atomic((fs::path(dir) / "point.json").string(), j.dump(2) + "\n");
  return s;
}

bool point_complete(const std::string& dir, const std::vector<std::string>& args) {
  const PointStatus s = read_point_status(dir);
  std::error_code ec;
  return s.present && s.args == args && (s.status == "ok" || s.status == "check_failed") &&
         fs::is_regular_file(fs::path(dir) / "run" / "report.json", ec);
}

}  // namespace gca::tb
