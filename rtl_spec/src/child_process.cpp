#include "gca/spec/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "gca/spec/error.hpp"

extern char** environ;

namespace gca {
namespace {

// The spawn attributes and file actions, destroyed on every path out.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

ChildRun run_program(const std::vector<std::string>& argv, const std::string& work_dir,
                     const std::string& log_path) {
  return run_program(argv, work_dir, log_path, nullptr);
}

ChildRun run_program(const std::vector<std::string>& argv, const std::string& work_dir,
                     const std::string& out_path, const std::string& err_path) {
  return run_program(argv, work_dir, out_path, &err_path);
}

ChildRun run_program(const std::vector<std::string>& argv, const std::string& work_dir,
                     const std::string& log_path, const std::string* err_path) {
  ChildRun r;
  if (argv.empty() || argv[0].empty()) {
    r.error = "no program named";
    return r;
  }
  SpawnSetup s;
  // gca-sim blocks SIGINT and SIGTERM for its signal thread: the child gets them back.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string log = log_path.empty() ? "/dev/null" : log_path;
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  if (!work_dir.empty()) posix_spawn_file_actions_addchdir_np(&s.actions, work_dir.c_str());
  // Opened after the change of folder: a relative log path is relative to work_dir.
  posix_spawn_file_actions_addopen(&s.actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err_path == nullptr)
    posix_spawn_file_actions_adddup2(&s.actions, 1, 2);
  else
    posix_spawn_file_actions_addopen(&s.actions, 2,
                                     err_path->empty() ? "/dev/null" : err_path->c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &s.actions, &s.attr, args.data(), environ);
  if (rc != 0) {
    r.error = !on_path(argv[0])
                  ? argv[0] + " not found on PATH"
                  : "cannot start " + argv[0] + (work_dir.empty() ? "" : " in " + work_dir) +
                        " (log " + log + "): " + std::strerror(rc);
    return r;
  }
  r.started = true;
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      r.error = "lost " + argv[0] + ": " + std::strerror(errno);
      return r;
    }
  }
  r.max_rss_bytes = std::uint64_t(usage.ru_maxrss) * 1024;  // Linux counts kilobytes
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (WIFSIGNALED(status))
    r.error = argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
  else if (r.exit_code != 0)
    r.error = argv[0] + " exited with status " + std::to_string(r.exit_code);
  return r;
}

bool has_control_byte(const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

std::string gnuplot_string_literal(const std::string& text, const std::string& what) {
  if (has_control_byte(text))
    throw Error("", what,
                "holds a control character (line break, tab, ...), which cannot be passed to "
                "gnuplot (allowed: printable characters)");
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

std::string shell_word(const std::string& text, const std::string& what) {
  if (has_control_byte(text))
    throw Error("", what,
                "holds a control character (line break, tab, ...), which a batch script cannot "
                "hold safely (allowed: printable characters)");
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace gca
