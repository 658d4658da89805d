#include "shell_words.hpp"

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace gca::fuzz {
namespace {

[[noreturn]] void refuse(const std::string& what, std::size_t at) {
  throw std::runtime_error(what + " at byte " + std::to_string(at));
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// "${NAME}" or "${NAME:-text}" starting at s[i] == '$'; returns it and moves i past it.
std::string parameter(const std::string& s, std::size_t& i) {
  if (i + 1 >= s.size() || s[i + 1] != '{') refuse("a $ expansion other than ${...}", i);
  const std::size_t close = s.find('}', i);
  if (close == std::string::npos) refuse("an unclosed ${", i);
  const std::string inner = s.substr(i + 2, close - i - 2);
  const std::size_t colon = inner.find(":-");
  const std::string name = inner.substr(0, colon);
  if (name.empty()) refuse("an empty ${}", i);
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') refuse("a ${} of an odd name", i);
  if (colon != std::string::npos && inner.find_first_of("$`\"'\\", colon) != std::string::npos)
    refuse("a ${NAME:-...} default with specials", i);
  const std::string text = s.substr(i, close - i + 1);
  i = close;
  return text;
}

}  // namespace

std::vector<ShellCommand> split_shell_script(const std::string& s) {
  std::vector<ShellCommand> commands;
  ShellCommand cmd;
  std::string word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) cmd.words.push_back(word);
    word.clear();
    in_word = false;
  };
  auto end_command = [&] {
    end_word();
    if (!cmd.words.empty()) commands.push_back(cmd);
    cmd.words.clear();
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '\t') {
      end_word();
    } else if (c == '\n') {
      end_command();
    } else if (c == '#' && !in_word) {
      while (i + 1 < s.size() && s[i + 1] != '\n') ++i;
    } else if (c == '\'') {
      const std::size_t close = s.find('\'', i + 1);
      if (close == std::string::npos) refuse("an unclosed '", i);
      word += s.substr(i + 1, close - i - 1);
      in_word = true;
      i = close;
    } else if (c == '"') {
      in_word = true;
      for (++i;; ++i) {
        if (i >= s.size()) refuse("an unclosed \"", i);
        const char d = s[i];
        if (d == '"') break;
        if (d == '`') refuse("a command substitution", i);
        if (d == '\\') {
          if (i + 1 >= s.size()) refuse("a trailing backslash", i);
          const char e = s[i + 1];
          if (e == '$' || e == '`' || e == '"' || e == '\\') {
            word += e;
            ++i;
          } else if (e == '\n') {
            refuse("a line continuation", i);
          } else {
            word += d;
          }
        } else if (d == '$') {
          word += parameter(s, i);
        } else {
          word += d;
        }
      }
    } else if (c == '\\') {
      if (i + 1 >= s.size() || s[i + 1] == '\n') refuse("a line continuation", i);
      word += s[++i];
      in_word = true;
    } else if (c == '>') {
      std::string op = in_word && all_digits(word) ? word : "";
      if (op.empty()) end_word();
      word.clear();
      in_word = false;
      op += '>';
      if (i + 1 < s.size() && s[i + 1] == '&') {
        op += s[++i];
        std::size_t n = 0;
        while (i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))
          op += s[++i], ++n;
        if (n == 0) refuse("a >& without a descriptor", i);
      }
      cmd.words.push_back(op);
    } else if (std::string(";&|()<`$").find(c) != std::string::npos) {
      refuse(std::string("the shell operator '") + c + "'", i);
    } else {
      word += c;
      in_word = true;
    }
  }
  end_command();
  return commands;
}

std::vector<std::string> sbatch_directives(const std::string& script) {
  std::vector<std::string> out;
  std::istringstream in(script);
  const std::string tag = "#SBATCH ";
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, tag.size(), tag) == 0) out.push_back(line.substr(tag.size()));
  return out;
}

std::vector<std::pair<std::string, std::string>> split_gnuplot_assignments(const std::string& t) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  auto blanks = [&] {
    while (i < t.size() && t[i] == ' ') ++i;
  };
  while (true) {
    blanks();
    const std::size_t start = i;
    while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_')) ++i;
    const std::string name = t.substr(start, i - start);
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
      refuse("no variable name", i);
    blanks();
    if (i >= t.size() || t[i] != '=') refuse("no '=' after " + name, i);
    ++i;
    blanks();
    std::string value;
    if (i < t.size() && t[i] == '\'') {
      for (++i;; ++i) {
        if (i >= t.size()) refuse("an unclosed '", i);
        if (static_cast<unsigned char>(t[i]) < 0x20) refuse("a control byte in a string", i);
        if (t[i] == '\'') {
          if (i + 1 < t.size() && t[i + 1] == '\'') {
            value += '\'';
            ++i;
          } else {
            break;
          }
        } else {
          value += t[i];
        }
      }
      ++i;
    } else {
      const std::size_t v = i;
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
      value = t.substr(v, i - v);
      if (value.empty()) refuse("a value that is neither an integer nor a '...' string", i);
    }
    out.emplace_back(name, value);
    blanks();
    if (i == t.size()) return out;
    if (t[i] != ';') refuse("text after the value of " + name, i);
    ++i;
  }
}

}  // namespace gca::fuzz
