#include "gca/tb/output_set.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "gca/spec/error.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

const std::set<std::string>& output_names() {
  static const std::set<std::string> names = {"report.json",          "mc.json",
                                              "mc_chips.csv",         "mc_error_hist.dat",
                                              "mc_error.gp",          "mc_error.png",
                                              "modules.csv",          "energy_table.txt",
                                              "energy_groups.csv",    "gpu_comparison.csv",
                                              "energy_per_token.csv", "power_windows.csv",
                                              "energy_split.png",     "gpu_comparison.png",
                                              "energy_per_token.png", "power_windows.png",
                                              "gnuplot.log",          "out.npy",
                                              "scores.npy",           "phi.npy"};
  return names;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

const std::vector<std::string>& staging_suffixes() {
  static const std::vector<std::string> s = {".partial", ".old"};
  return s;
}
const std::vector<std::string>& trace_suffixes() {
  static const std::vector<std::string> s = {".vcd", ".pipe.vcd"};  // the trace and its pipe
  return s;
}

// What the signal thread must remove: the temporaries of the sets not yet published.
struct Registry {
  std::mutex mutex;
  std::set<OutputSet*> open;
  std::vector<std::pair<std::string, std::string>> named;  // staging folder -> output folder
};
Registry& registry() {
  static Registry r;
  return r;
}

[[noreturn]] void refuse_out(const std::string& out_dir, const std::string& why) {
  throw Error(out_dir, "--out", why);
}

// An existing output folder must hold only gca-sim's outputs (a run replaces it as a whole), and
// that must be checked: a folder that cannot be examined is refused, never assumed empty.
void check_output_folder(const fs::path& dir, const std::string& out_dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    refuse_out(out_dir, "cannot be examined: " + ec.message() + " (allowed: a folder path)");
  if (!fs::exists(st)) return;
  if (!fs::is_directory(st))
    refuse_out(out_dir, "exists and is not a folder (allowed: a folder path)");
  struct stat self {
  }, parent{};
  const fs::path up = fs::absolute(dir, ec).lexically_normal().parent_path();
  if (::stat(dir.c_str(), &self) == 0 && ::stat(up.c_str(), &parent) == 0 &&
      (self.st_dev != parent.st_dev || self.st_ino == parent.st_ino))
    refuse_out(out_dir,
               "is a mount point, which a run cannot replace as a whole (allowed: a folder inside "
               "it)");
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    const bool regular = it->is_regular_file(type_ec);
    if (type_ec || !regular || !is_output_file_name(name)) {
      refuse_out(out_dir, "holds '" + name +
                              "', which gca-sim does not write; a run replaces its output folder "
                              "as a whole (allowed: a new folder or an output folder of gca-sim)");
    }
  }
  if (ec)
    refuse_out(out_dir,
               "cannot be listed to check that it holds only gca-sim outputs: " + ec.message() +
                   " (allowed: a new folder or a readable output folder of gca-sim)");
}

}  // namespace

bool is_output_file_name(const std::string& name) {
  return output_names().count(name) > 0 || ends_with(name, ".vcd");
}

std::string with_output_paths(std::string text) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  for (const auto& [staging, final] : registry().named) {
    for (auto p = text.find(staging); p != std::string::npos; p = text.find(staging, p))
      text.replace(p, staging.size(), final);
  }
  return text;
}

void install_signal_cleanup() {
  sigset_t set;
  sigemptyset(&set);
  // Every signal that ends a process by default and can be caught: a closed terminal (HUP) and
  // Ctrl-\ (QUIT) too.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    {
      // Waits for a commit in progress: a set is either published whole or removed.
      std::lock_guard<std::mutex> lock(registry().mutex);
      for (OutputSet* s : registry().open) s->abandon();
    }
    const char* name = sig == SIGINT    ? "SIGINT"
                       : sig == SIGTERM ? "SIGTERM"
                       : sig == SIGHUP  ? "SIGHUP"
                                        : "SIGQUIT";
    std::fprintf(stderr, "gca-sim: interrupted by %s: stopped, unfinished outputs removed\n", name);
    std::fflush(stderr);
    ::_exit(128 + sig);
  }).detach();
}

OutputSet::OutputSet(const std::string& out_dir) : final_(out_dir) {
  if (out_dir.empty()) throw Error("", "--out", "empty (allowed: a folder path)");
  std::error_code ec;
  fs::path dir(out_dir);
  if (fs::is_symlink(dir, ec)) dir = fs::canonical(dir, ec);  // replace the folder it names
  check_output_folder(dir, out_dir);
  dir = fs::absolute(dir, ec).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();
  final_ = dir.string();
  const fs::path parent = dir.parent_path();
  fs::create_directories(parent, ec);
  const std::string stem = "." + dir.filename().string() + ".gca-";
  remove_stale_temporaries(parent.string(), stem, staging_suffixes());
  owner_ = std::make_unique<TempOwner>(parent.string(), stem, "--out");
  staging_ = owner_->path(".partial");
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    if (::mkdir(staging_.c_str(), 0777) != 0) {
      throw Error(out_dir, "--out",
                  "cannot write to the output folder: cannot create a folder beside it: " +
                      std::string(std::strerror(errno)));
    }
    registry().open.insert(this);
    registry().named.push_back({staging_, final_});
  }
}

OutputSet::~OutputSet() {
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().open.erase(this);
  if (!committed_) abandon();
}

std::string OutputSet::aside_path() const {
  return owner_->path(".old");
}

std::string OutputSet::path(const std::string& name) const {
  return (fs::path(staging_) / name).string();
}

// A trace replaces only a file that is a trace: a regular file named *.vcd whose text begins
// like a VCD file ('$'). Anything else (a scenario, a user's data) is refused.
static void check_trace_target(const fs::path& target, const std::string& given,
                               const std::string& flag) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(target, ec);
  if (!fs::exists(st)) return;
  char first = 0;
  std::ifstream in(target, std::ios::binary);
  if (!fs::is_regular_file(st) || !in.get(first) || first != '$')
    throw Error(given, flag,
                "exists and is not a VCD trace gca-sim wrote (allowed: a new file or an earlier "
                "trace)");
}

std::string OutputSet::stage_file(const std::string& path_given, const std::string& flag) {
  if (path_given.empty()) return "";
  std::error_code ec;
  if (fs::is_directory(path_given, ec))
    throw Error(path_given, flag, "is a folder (allowed: a file path)");
  // The trace writer names its file NAME.vcd whatever the name given ends in.
  const std::string final_path = ends_with(path_given, ".vcd") ? path_given : path_given + ".vcd";
  const fs::path target = fs::absolute(final_path, ec).lexically_normal();
  const std::string given_name = fs::path(path_given).filename().string();
  if (fs::weakly_canonical(target.parent_path(), ec) == fs::weakly_canonical(final_, ec) &&
      output_names().count(given_name) > 0)
    throw Error(path_given, flag,
                "is a file the run writes into --out (allowed: another name, e.g. trace.vcd)");
  check_trace_target(target, path_given, flag);
  const std::string name = target.filename().string();
  if (name.empty()) throw Error(final_path, flag, "names no file (allowed: a file path)");
  std::string tmp;
  if (fs::weakly_canonical(target.parent_path(), ec) == fs::weakly_canonical(final_, ec)) {
    if (!ends_with(name, ".vcd") && is_output_file_name(name)) {
      throw Error(final_path, flag,
                  "is a file the run writes into --out (allowed: another name, e.g. trace.vcd)");
    }
    tmp = path(name + ".gca-partial.vcd");
    std::lock_guard<std::mutex> lock(registry().mutex);
    outside_.push_back({tmp, path(name)});
  } else {
    fs::create_directories(target.parent_path(), ec);
    const std::string stem = name + ".partial-";
    remove_stale_temporaries(target.parent_path().string(), stem, trace_suffixes());
    auto owner = std::make_unique<TempOwner>(target.parent_path().string(), stem, flag);
    tmp = owner->path(".vcd");
    std::lock_guard<std::mutex> lock(registry().mutex);
    trace_owners_.push_back(std::move(owner));
    outside_.push_back({tmp, target.string()});
  }
  return tmp;
}

void OutputSet::commit() {
  std::lock_guard<std::mutex> lock(registry().mutex);
  std::error_code ec;
  const std::string inside_prefix = staging_ + "/";
  for (const auto& [tmp, target] : outside_) {  // files of the set under a temporary name
    if (target.compare(0, inside_prefix.size(), inside_prefix) != 0) continue;
    fs::rename(tmp, target, ec);
    if (ec) throw Error(target, "", "cannot complete the output: " + ec.message());
  }
  if (!fs::exists(final_, ec)) {
    fs::rename(staging_, final_, ec);
    if (ec) throw Error(final_, "--out", "cannot publish the results: " + ec.message());
  } else if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) !=
             0) {
    // No atomic exchange on this file system: the old folder steps aside first.
    const std::string old = aside_path();
    fs::rename(final_, old, ec);
    if (ec) throw Error(final_, "--out", "cannot replace the old results: " + ec.message());
    fs::rename(staging_, final_, ec);
    if (ec) {
      std::error_code back;
      fs::rename(old, final_, back);
      throw Error(final_, "--out", "cannot publish the results: " + ec.message());
    }
    fs::remove_all(old, ec);
  }
  committed_ = true;
  fs::remove_all(staging_, ec);  // after an exchange: the previous results
  for (const auto& [tmp, target] : outside_) {
    if (target.compare(0, inside_prefix.size(), inside_prefix) == 0) continue;
    fs::rename(tmp, target, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw Error(target, "", "cannot rename the trace into place: " + ec.message());
    }
  }
  outside_.clear();
  for (auto& o : trace_owners_) o->release();
  owner_->release();
}

// Called with the registry locked. The staging folder is first renamed away, so that a file
// the run is about to create there cannot appear after the removal.
void OutputSet::abandon() noexcept {
  std::error_code ec;
  const std::string doomed = aside_path();
  fs::rename(staging_, doomed, ec);
  fs::remove_all(ec ? staging_ : doomed, ec);
  for (const auto& [tmp, target] : outside_) {
    fs::remove(tmp, ec);
    // The pipe the trace writer reads the kernel's output from (traces::VcdTracer).
    if (ends_with(tmp, ".vcd")) fs::remove(tmp.substr(0, tmp.size() - 4) + ".pipe.vcd", ec);
  }
  outside_.clear();
  // The locks last: a temporary never outlives the lock that says it is in use.
  for (auto& o : trace_owners_) o->release();
  owner_->release();
}

}  // namespace gca::tb
