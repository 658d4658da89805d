// Small, strict readers of the text that gca-sim hands to other programs, for the fuzzers:
// they split it the way the other program would and throw std::runtime_error on anything
// outside the plain subset gca-sim writes (so that any construct a path could smuggle in shows).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gca::fuzz {

struct ShellCommand {
  std::vector<std::string> words;  // after quote removal; ${...} kept as written
};

// Splits a POSIX shell script into commands (one per unquoted line break) and words. Allowed:
// blanks, comments, '...' and "..." quoting (inside "...", only ${NAME} and ${NAME:-text}),
// backslash escapes, the redirections > and N>&M. Anything else (; & | ( ) < ` $ unquoted, a
// command substitution, an unclosed quote) throws.
std::vector<ShellCommand> split_shell_script(const std::string& script);

// The text after "#SBATCH " of each directive line.
std::vector<std::string> sbatch_directives(const std::string& script);

// Splits a gnuplot -e text of assignments NAME=INTEGER or NAME='string' separated by ';' into
// (name, value) pairs (strings unquoted: '' is one quote). Anything else throws.
std::vector<std::pair<std::string, std::string>> split_gnuplot_assignments(const std::string& text);

}  // namespace gca::fuzz
