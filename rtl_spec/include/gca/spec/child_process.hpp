// Starting the tools' helper programs (gnuplot, sbatch) without a shell: the program is found
// on PATH and receives its arguments as a vector, so that no path or name a user chose is
// ever parsed as a command. Text that a helper parses itself (a gnuplot expression, a batch
// script) is built by the quoting functions here, each of which refuses what it cannot quote.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gca {

struct ChildRun {
  bool started = false;             // false: the program was not found or could not be started
  int exit_code = -1;               // its exit status; 128 + signal when a signal ended it
  std::string error;                // why it did not start, or how it ended when not with 0
  std::uint64_t max_rss_bytes = 0;  // its peak resident memory (the kernel's count for it alone)
};

// True when `program` names an executable file on PATH (or, holding a '/', is one).
bool on_path(const std::string& program);

// Runs argv[0] (looked up on PATH) with the arguments argv[1..] in the folder work_dir (empty:
// the current one), stdin from /dev/null, stdout and stderr into log_path (created or
// truncated; empty: /dev/null), with default signal handling and an empty signal mask; waits
// for it to end.
ChildRun run_program(const std::vector<std::string>& argv, const std::string& work_dir,
                     const std::string& log_path);
// The same with stdout into out_path and stderr into err_path (each empty: /dev/null).
ChildRun run_program(const std::vector<std::string>& argv, const std::string& work_dir,
                     const std::string& out_path, const std::string& err_path);
// The common form: err_path null sends stderr with stdout.
ChildRun run_program(const std::vector<std::string>& argv, const std::string& work_dir,
                     const std::string& log_path, const std::string* err_path);

// True when `text` holds a byte below 0x20 or 0x7f (newline, carriage return, tab, NUL, ...).
bool has_control_byte(const std::string& text);

// `text` as one gnuplot string literal: single quotes, a quote inside doubled (gnuplot neither
// expands escapes nor substitutes backquoted commands in single-quoted strings). Throws
// gca::Error naming `what` when the text holds a control byte (a line break would end the
// gnuplot command).
std::string gnuplot_string_literal(const std::string& text, const std::string& what);

// `text` as one POSIX shell word: single quotes, a quote inside written '\''. Throws
// gca::Error naming `what` when the text holds a control byte (a line break would make the
// line of a script that holds it two lines).
std::string shell_word(const std::string& text, const std::string& what);

}  // namespace gca
