#include "gca/tb/sweep_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/input_file.hpp"
#include "gca/spec/limits.hpp"
#include "gca/tb/output_set.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

const char* kOwnerFile = ".gca-sweep.json";  // {"sweep": name}: which sweep the folder holds
const char* kLockFile = ".gca-sweep.lock";

bool starts_with(const std::string& s, const std::string& head) {
  return s.compare(0, head.size(), head) == 0;
}
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
// A temporary of write_file_atomic (NAME.tmp.<pid>) of one of the allowed files.
bool is_temporary_of(const std::string& name, bool (*allowed)(const std::string&)) {
  const auto at = name.rfind(".tmp.");
  return at != std::string::npos && allowed(name.substr(0, at));
}

bool is_sweep_file_name(const std::string& n) {
  static const std::set<std::string> names = {
      "sweep.csv", "sweep.json", "sweep.sbatch", "sweep_gnuplot.log", kOwnerFile,
      kLockFile,   "points",     "slurm",        "sweep_pareto.png",  "sweep_energy_split.png"};
  if (names.count(n)) return true;
  if (starts_with(n, ".gca-sweep.shard-") && ends_with(n, ".lock")) return true;
  if (starts_with(n, ".gca-write-test-")) return true;
  // The merge's plot data and script, and the plots.
  if (starts_with(n, "sweep_plot_") && (ends_with(n, ".csv") || ends_with(n, ".gp"))) return true;
  if (starts_with(n, "sweep_") && ends_with(n, ".png")) return true;
  return false;
}
bool is_point_file_name(const std::string& n) {
  return n == "stdout.txt" || n == "stderr.txt" || n == "point.json" || n == "run" ||
         starts_with(n, ".run.gca-");  // the run's staging folder
}
bool is_slurm_file_name(const std::string& n) {
  return n == "sbatch.log" || (starts_with(n, "task_") && ends_with(n, ".log"));
}

[[noreturn]] void refuse(const std::string& dir, const std::string& why) {
  throw Error(dir, "--out",
              why +
                  "; a sweep writes only into a new folder or a folder of the same sweep "
                  "(allowed: another --out)");
}

// The names in `dir`; refuses a folder that cannot be listed (nothing in it could be checked).
std::vector<fs::directory_entry> list(const fs::path& dir, const std::string& out) {
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  if (ec) refuse(out, "cannot list " + dir.string() + " to check what it holds: " + ec.message());
  return entries;
}

void check_entries(const fs::path& dir, const std::string& out, bool (*allowed)(const std::string&),
                   const char* what) {
  for (const auto& e : list(dir, out)) {
    const std::string n = e.path().filename().string();
    if (!allowed(n) && !is_temporary_of(n, allowed))
      refuse(out, "holds '" +
                      one_line_text((fs::path(dir) / n).lexically_relative(out).string(), 80) +
                      "', which gca-sim sweep does not write into " + what);
  }
}

std::string owner_of(const fs::path& dir, const std::string& out) {
  const fs::path f = dir / kOwnerFile;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(f, ec))) return "";
  try {
    const auto j =
        parse_json_strict(read_input_file(f.string(), 4096, "sweep folder marker"), f.string());
    if (j.is_object() && j.contains("sweep") && j["sweep"].is_string())
      return j["sweep"].get<std::string>();
  } catch (const Error&) {
  }
  refuse(out, "its marker " + f.string() + " is not one gca-sim wrote");
}

int open_lock(const fs::path& file, const std::string& out) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    throw Error(out, "--out",
                "cannot open the lock " + file.string() + ": " + std::strerror(errno));
  return fd;
}

bool try_lock(int fd, int how) {
  while (::flock(fd, how | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    return false;
  }
  return true;
}

}  // namespace

void check_sweep_folder_contents(const std::string& dir, const SweepFile& sweep) {
  std::error_code ec;
  const fs::path d(dir);
  const auto st = fs::symlink_status(d, ec);
  if (!fs::exists(st)) return;
  if (!fs::is_directory(st)) refuse(dir, "exists and is not a folder");
  check_entries(d, dir, is_sweep_file_name, "a sweep's folder");
  const std::string owner = owner_of(d, dir);
  if (!owner.empty() && owner != sweep.name)
    refuse(dir, "holds the sweep '" + one_line_text(owner, 60) + "', not '" + sweep.name + "'");
  for (const char* sub : {"points", "slurm"}) {
    const auto s = fs::symlink_status(d / sub, ec);
    if (!fs::exists(s)) continue;
    if (!fs::is_directory(s))
      refuse(dir, std::string("holds '") + sub + "', which is not a folder");
  }
  if (fs::is_directory(d / "slurm", ec))
    check_entries(d / "slurm", dir, is_slurm_file_name, "slurm/");
  if (!fs::is_directory(d / "points", ec)) return;
  for (const auto& e : list(d / "points", dir)) {
    const std::string id = e.path().filename().string();
    if (!e.is_directory(ec) || e.is_symlink(ec))
      refuse(dir, "holds 'points/" + one_line_text(id, 60) + "', which is not a point's folder");
    check_entries(e.path(), dir, is_point_file_name, "a point's folder");
    const fs::path run = e.path() / "run";
    if (!fs::exists(fs::symlink_status(run, ec))) continue;
    if (!fs::is_directory(fs::symlink_status(run, ec)))
      refuse(dir, "holds 'points/" + one_line_text(id, 60) + "/run', which is not a folder");
    check_entries(run, dir, is_output_file_name, "a run's folder");
  }
}

SweepFolder::SweepFolder(const std::string& dir, const SweepFile& sweep, int shard, int shards)
    : dir_(dir) {
  check_sweep_folder_contents(dir, sweep);
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "points", ec);
  if (ec) throw Error(dir, "--out", "cannot create the output folder: " + ec.message());
  folder_fd_ = open_lock(fs::path(dir) / kLockFile, dir);
  const bool alone = shards == 0;
  if (!try_lock(folder_fd_, alone ? LOCK_EX : LOCK_SH)) {
    ::close(folder_fd_);
    throw Error(dir, "--out",
                "another gca-sim sweep is working in this folder (it holds " +
                    (fs::path(dir) / kLockFile).string() +
                    "); wait until it ends (allowed: another --out)");
  }
  if (!alone) {
    const std::string name =
        ".gca-sweep.shard-" + std::to_string(shard) + "-" + std::to_string(shards) + ".lock";
    shard_fd_ = open_lock(fs::path(dir) / name, dir);
    if (!try_lock(shard_fd_, LOCK_EX)) {
      ::close(shard_fd_);
      ::close(folder_fd_);
      throw Error(dir, "--shard",
                  std::to_string(shard) + "/" + std::to_string(shards) +
                      " is already running in this folder (another process holds its lock)");
    }
  }
  // Checked again under the lock: a driver that held it may have changed the folder.
  try {
    check_sweep_folder_contents(dir, sweep);
    if (owner_of(fs::path(dir), dir).empty()) {
      const nlohmann::json j = {{"sweep", sweep.name}};
      power::write_file_atomic((fs::path(dir) / kOwnerFile).string(), j.dump() + "\n");
    }
  } catch (...) {
    if (shard_fd_ >= 0) ::close(shard_fd_);
    ::close(folder_fd_);
    throw;
  }
}

SweepFolder::~SweepFolder() {
  if (shard_fd_ >= 0) ::close(shard_fd_);
  if (folder_fd_ >= 0) ::close(folder_fd_);
}

void SweepFolder::share_with_shards() {
  try_lock(folder_fd_, LOCK_SH);  // a conversion: cannot be refused while we hold it alone
}

void SweepFolder::take_alone() {
  if (!try_lock(folder_fd_, LOCK_EX))
    throw Error(dir_, "--out",
                "a shard still works in this folder (it holds " +
                    (fs::path(dir_) / kLockFile).string() + "): merge when it has ended");
}

}  // namespace gca::tb
