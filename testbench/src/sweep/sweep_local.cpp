#include "gca/tb/sweep_local.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>

#include "gca/spec/error.hpp"
#include "gca/tb/sweep_point.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

// SIGINT/SIGTERM interrupt the wait for children instead of killing the driver outright, so
// that it can stop the running points; the previous handlers come back on destruction.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

// The child: output into the point's folder, dies with the driver, threads shared fairly.
[[noreturn]] void exec_point(const std::string& exe, const std::vector<std::string>& args,
                             const std::string& dir, pid_t parent, int threads) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(128 + SIGTERM);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the driver blocks them for its signal thread
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) signal(sig, SIG_DFL);
  const int out = ::open((dir + "/stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open((dir + "/stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0) ::_exit(127);
  ::dup2(out, 1);
  ::dup2(err, 2);
  if (!std::getenv("GCA_THREADS")) ::setenv("GCA_THREADS", std::to_string(threads).c_str(), 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(exe.c_str(), argv.data());
  std::fprintf(stderr, "gca-sim sweep: cannot execute %s\n", exe.c_str());
  ::_exit(127);
}

class ProgressLine {
 public:
  ProgressLine(const std::string& name, int total, int done, bool quiet)
      : name_(name),
        total_(total),
        done_(done),
        on_(!quiet),
        tty_(::isatty(2)),
        start_(Clock::now()) {}
  void point_finished(const std::string& id, const PointStatus& s, int failed) {
    ++done_;
    ++finished_now_;
    if (!on_) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = elapsed / finished_now_ * (total_ - done_);
    if (tty_) {
      std::fprintf(stderr, "\r%s: %d/%d points done, %d failed, %.0f s left   ", name_.c_str(),
                   done_, total_, failed, eta);
      if (done_ == total_) std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "%s: %d/%d points done, %d failed, %.0f s left (%s %s%s%s)\n",
                   name_.c_str(), done_, total_, failed, eta, id.c_str(), s.status.c_str(),
                   s.error.empty() ? "" : ": ", s.error.c_str());
    }
  }
  void note(const std::string& text) {
    if (on_) std::fprintf(stderr, "%s%s\n", tty_ ? "\n" : "", text.c_str());
  }

 private:
  std::string name_;
  int total_, done_, finished_now_ = 0;
  bool on_, tty_;
  Clock::time_point start_;
};

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

LocalRunResult run_points_local(const SweepFile& sweep,
                                const std::vector<const SweepPoint*>& points,
                                const LocalRunOptions& o) {
  LocalRunResult r;
  r.selected = static_cast<int>(points.size());
  std::deque<const SweepPoint*> pending;
  for (const SweepPoint* p : points) {
    const std::string dir = point_dir(o.out_dir, *p);
    if (point_complete(dir, point_key(sweep, point_run_args(sweep, *p, dir), dir))) {
      ++r.already_done;
      (read_point_status(dir).status == "ok" ? r.ok : r.check_failed)++;
    } else {
      pending.push_back(p);
    }
  }
  ProgressLine progress(sweep.name, r.selected, r.already_done, o.quiet);
  if (r.already_done > 0)
    progress.note(sweep.name + ": " + std::to_string(r.already_done) + " of " +
                  std::to_string(r.selected) + " points already complete, " +
                  std::to_string(pending.size()) + " to run");
  const int jobs = std::max(1, o.jobs);
  const unsigned cores = std::max(1u, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const int threads = std::max(1, static_cast<int>(cores) / jobs);
  StopSignals signals;
  std::map<pid_t, const SweepPoint*> running;
  const pid_t self = ::getpid();
  while ((!pending.empty() || !running.empty()) && !g_stop_signal) {
    while (static_cast<int>(running.size()) < jobs && !pending.empty()) {
      const SweepPoint* p = pending.front();
      pending.pop_front();
      const std::string dir = point_dir(o.out_dir, *p);
      std::error_code ec;
      fs::remove_all(dir, ec);  // a stale or partial run of this point
      fs::create_directories(dir, ec);
      if (ec) throw Error(dir, "--out", "cannot create the point's folder: " + ec.message());
      const std::vector<std::string> args = point_run_args(sweep, *p, dir);
      const pid_t pid = ::fork();
      if (pid < 0) throw Error("", "sweep", "cannot start a process: fork failed");
      if (pid == 0) exec_point(o.exe, args, dir, self, threads);
      running[pid] = p;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const SweepPoint* p = it->second;
    running.erase(it);
    const std::string dir = point_dir(o.out_dir, *p);
    const PointStatus s = write_point_status(dir, *p, point_run_args(sweep, *p, dir),
                                             point_key(sweep, point_run_args(sweep, *p, dir), dir),
                                             exit_code_of(status));
    ++r.ran;
    if (s.status == "ok")
      ++r.ok;
    else if (s.status == "check_failed")
      ++r.check_failed;
    else
      ++r.failed;
    progress.point_finished(p->id, s, r.failed);
  }
  if (g_stop_signal) {
    r.interrupted = true;
    for (const auto& [pid, p] : running) ::kill(pid, SIGTERM);
    for (const auto& [pid, p] : running) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    progress.note(sweep.name + ": interrupted; " + std::to_string(running.size()) +
                  " running points stopped (run the same command again to finish the sweep)");
  }
  return r;
}

}  // namespace gca::tb
