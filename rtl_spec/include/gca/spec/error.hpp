// The one exception type of the project: carries the offending file and field so that the
// command line can print a single line and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace gca {

class Error : public std::runtime_error {
 public:
  Error(std::string file, std::string field, const std::string& message)
      : std::runtime_error(compose(file, field, message)),
        file_(std::move(file)),
        field_(std::move(field)),
        message_(message) {}
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  // The reason alone, without the file and field (to blame another file for it).
  const std::string& message() const { return message_; }

 private:
  static std::string compose(const std::string& file, const std::string& field,
                             const std::string& message) {
    std::string s;
    if (!file.empty()) s += file + ": ";
    if (!field.empty()) s += field + ": ";
    s += message;
    // what() is a C string: a NUL would end the message there, before its reason.
    for (std::size_t p = s.find('\0'); p != std::string::npos; p = s.find('\0', p))
      s.replace(p, 1, "\\x00");
    return s;
  }
  std::string file_;
  std::string field_;
  std::string message_;
};

namespace spec {
using SpecError = gca::Error;
}

}  // namespace gca
