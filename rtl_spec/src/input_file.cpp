#include "gca/spec/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/spec/error.hpp"
#include "gca/spec/limits.hpp"

namespace gca {
namespace {

using json = nlohmann::json;

// Exact: whole MiB as such, anything else in bytes (4 MiB + 1 byte is not "4 MiB").
std::string size_text(std::uint64_t bytes) {
  return bytes >= (1u << 20) && bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                                        : std::to_string(bytes) + " bytes";
}

// Length of the valid UTF-8 sequence starting at s[i], 0 when it is not valid.
std::size_t utf8_length(const std::string& s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// Tracks the open objects and arrays while parsing: their depth and each object's keys.
class StrictCallback {
 public:
  explicit StrictCallback(const std::string& file) : file_(file) {}
  bool operator()(int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        open_.emplace_back();
        if (open_.size() > std::size_t(limits::kMaxJsonDepth)) {
          throw Error(file_, "",
                      "JSON nested deeper than " + std::to_string(limits::kMaxJsonDepth) +
                          " levels (allowed: 1.." + std::to_string(limits::kMaxJsonDepth) + ")");
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open_.empty()) open_.pop_back();
        break;
      case json::parse_event_t::key: {
        if (open_.empty()) break;
        const std::string& key = parsed.get_ref<const std::string&>();
        open_.back().last = key;
        if (!open_.back().keys.insert(key).second) {
          throw Error(file_, one_line_text(key_path(), 120),
                      "duplicate key in one object (allowed: each key once)");
        }
        break;
      }
      case json::parse_event_t::value:
        break;
    }
    return true;
  }

 private:
  // The dotted path of the current key, e.g. "workload.tokens".
  std::string key_path() const {
    std::string path;
    for (const Open& o : open_) {
      if (o.last.empty()) continue;
      path += (path.empty() ? "" : ".") + o.last;
    }
    return path;
  }
  struct Open {
    std::set<std::string> keys;  // of an object so far
    std::string last;            // the key being read
  };
  const std::string& file_;
  std::vector<Open> open_;
};

}  // namespace

std::string one_line_text(const std::string& text, std::size_t max_bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < max_bytes;) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += text[i++];
    } else if (const std::size_t n = c >= 0x80 ? utf8_length(text, i) : 0; n > 0) {
      out.append(text, i, n);
      i += n;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      ++i;
    }
    if (i < text.size() && out.size() >= max_bytes) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string error_line_text(const gca::Error& error, std::size_t max_bytes) {
  std::string text = error.what();
  const std::string& file = error.file();
  if (text.size() > max_bytes && !file.empty() && text.compare(0, file.size(), file) == 0) {
    const std::size_t rest = text.size() - file.size();
    const std::size_t keep =
        std::max<std::size_t>(40, max_bytes > rest + 3 ? max_bytes - rest - 3 : 0);
    if (keep < file.size())
      text = file.substr(0, keep / 2) + "..." + file.substr(file.size() - (keep - keep / 2)) +
             text.substr(file.size());
  }
  return one_line_text(text, max_bytes);
}

int open_regular_file(const std::string& path, const std::string& what) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked right after.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(path, "", "cannot open " + what + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    throw Error(path, "",
                "cannot read " + what + ": " + (dir ? "is a directory" : "not a regular file") +
                    " (allowed: a regular file)");
  }
  // Back to blocking reads for a regular file (they never block for long).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

std::string read_input_file(const std::string& path, std::uint64_t max_bytes,
                            const std::string& what) {
  const int fd = open_regular_file(path, what);
  struct stat st {};
  ::fstat(fd, &st);
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw Error(path, "",
                what + " of " + size_text(static_cast<std::uint64_t>(st.st_size)) +
                    " is too large (allowed: up to " + size_text(max_bytes) + ")");
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw Error(path, "", "cannot read " + what + ": " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      ::close(fd);
      throw Error(path, "",
                  what + " grew while being read (allowed: up to " + size_text(max_bytes) + ")");
    }
  }
  ::close(fd);
  return text;
}

json parse_json_strict(const std::string& text, const std::string& file) {
  try {
    return json::parse(text, StrictCallback(file));
  } catch (const json::exception& e) {
    // The library's message carries the position ("at line L, column C") and the offending
    // token; it is kept, made printable and short.
    std::string msg = e.what();
    if (const auto p = msg.find("] ");
        msg.rfind("[json.exception.", 0) == 0 && p != std::string::npos)
      msg = msg.substr(p + 2);
    throw Error(file, "", "malformed JSON: " + one_line_text(msg, 200));
  }
}

}  // namespace gca
