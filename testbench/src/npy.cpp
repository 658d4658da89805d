// .npy layout: "\x93NUMPY", major and minor version bytes, header length (uint16 LE for 1.0,
// uint32 LE for 2.0/3.0), the header (an ASCII Python dict literal with the keys 'descr',
// 'fortran_order' and 'shape', padded with spaces and ended by '\n'), then the raw data.
#include "gca/tb/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gca/spec/limits.hpp"
#include "gca/spec/unique_token.hpp"

namespace gca::tb {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
constexpr std::size_t kAlign = 64;
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;  // bulk I/O granularity
constexpr std::size_t kMaxEcho = 48;  // longest piece of file content quoted in a message

// Renders arbitrary text so that it cannot break the one-line message format.
std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {  // the header is ASCII: any other byte is shown as hex
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

// Quotes a piece of file content for a message, shortening it if it is long.
std::string echo(const std::string& s) {
  if (s.size() <= kMaxEcho) return "'" + s + "'";
  return "'" + s.substr(0, kMaxEcho) + "'...";
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string num_str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

constexpr std::size_t kMaxDimsShown = 8;  // longer shapes are cut in messages

// The shape as a Python tuple; `cut`: at most kMaxDimsShown dimensions (for messages).
template <typename T>
std::string tuple_str(const std::vector<T>& dims, bool wildcard, bool cut = true) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    if (cut && i == kMaxDimsShown) {
      s += "... " + std::to_string(dims.size()) + " dimensions";
      break;
    }
    if (wildcard && dims[i] == static_cast<T>(-1)) {
      s += "*";
    } else {
      s += std::to_string(dims[i]);
    }
  }
  if (dims.size() == 1) s += ",";
  return s + ")";
}

std::string shape_str(const std::vector<std::size_t>& shape) {
  return tuple_str(shape, false);
}

std::string index_str(std::size_t flat, const std::vector<std::size_t>& shape) {
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string s = "[";
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(idx[i]);
  }
  return s + "]";
}

// Product of the dimensions; false on overflow.
bool checked_count(const std::vector<std::size_t>& shape, std::size_t* count) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) return false;
    n *= d;
  }
  *count = n;
  return true;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// ---------------------------------------------------------------------------------------------
// Header parsing

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

// Parses the header dict. Accepts exactly the Python literal syntax numpy produces (and the
// obvious variants: either quote style, any key order, optional trailing commas, Python 2 'L'
// suffixes on dimensions); anything else is reported as a malformed header.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& text) : path_(path), text_(text) {}

  Header parse() {
    Header h;
    bool have_descr = false;
    bool have_fortran = false;
    bool have_shape = false;
    skip_ws();
    expect('{', "'{' opening the header dict");
    for (;;) {
      skip_ws();
      if (consume('}')) break;  // empty dict, or trailing comma before '}'
      if (peek() != '\'' && peek() != '"') fail("expected a quoted key or '}'");
      const std::size_t key_pos = pos_;
      const std::string key = parse_string();
      skip_ws();
      expect(':', "':' after key");
      skip_ws();
      bool* seen = nullptr;
      if (key == "descr") {
        seen = &have_descr;
        if (peek() == '[') {
          throw NpyError(path_,
                         "structured dtype is not supported (expected dtype float32 or float64 "
                         "(<f4/<f8))");
        }
        if (peek() != '\'' && peek() != '"') fail("expected a string for 'descr'");
        h.descr = parse_string();
      } else if (key == "fortran_order") {
        seen = &have_fortran;
        h.fortran_order = parse_bool();
      } else if (key == "shape") {
        seen = &have_shape;
        h.shape = parse_shape();
      } else {
        pos_ = key_pos;
        fail("unexpected key " + echo(key));
      }
      if (*seen) {
        pos_ = key_pos;
        fail("duplicate key " + echo(key));
      }
      *seen = true;
      skip_ws();
      if (consume(',')) continue;
      expect('}', "',' or '}' after a value");
      break;
    }
    // Only padding may follow the dict, and the header must end with a newline.
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
    if (text_.empty() || text_.back() != '\n') {
      throw NpyError(path_, "malformed header: not terminated by a newline");
    }
    if (!have_descr) throw NpyError(path_, "malformed header: missing key 'descr'");
    if (!have_fortran) throw NpyError(path_, "malformed header: missing key 'fortran_order'");
    if (!have_shape) throw NpyError(path_, "malformed header: missing key 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw NpyError(path_,
                   "malformed header: " + what + " at header offset " + std::to_string(pos_));
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c, const char* what) {
    if (!consume(c)) fail(std::string("expected ") + what);
  }

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  static bool is_ident_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  }

  std::string parse_string() {
    const char quote = text_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') fail("escape sequences in strings are not supported");
      if (text_[pos_] == '\n') fail("unterminated string");
      ++pos_;
    }
    if (pos_ >= text_.size()) fail("unterminated string");
    std::string s = text_.substr(start, pos_ - start);
    ++pos_;
    return s;
  }

  bool parse_bool() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_ident_char(text_[pos_])) ++pos_;
    const std::string word = text_.substr(start, pos_ - start);
    if (word == "True") return true;
    if (word == "False") return false;
    pos_ = start;
    fail("expected True or False for 'fortran_order'");
  }

  std::vector<std::size_t> parse_shape() {
    std::vector<std::size_t> dims;
    expect('(', "a tuple for 'shape'");
    skip_ws();
    if (consume(')')) return dims;
    for (;;) {
      dims.push_back(parse_dim());
      skip_ws();
      if (consume(',')) {
        skip_ws();
        if (consume(')')) break;
        continue;
      }
      if (peek() == ')' && dims.size() == 1) {
        fail("'shape' is not a tuple (a 1-D shape needs a trailing comma)");
      }
      expect(')', "',' or ')' in 'shape'");
      break;
    }
    return dims;
  }

  std::size_t parse_dim() {
    if (peek() == '-') fail("negative dimension in 'shape'");
    const std::size_t start = pos_;
    std::size_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto digit = static_cast<std::size_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
        pos_ = start;
        fail("dimension too large in 'shape'");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape'");
    if (pos_ - start > 1 && text_[start] == '0') {
      pos_ = start;
      fail("leading zero in a dimension of 'shape'");
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long literal
    if (is_ident_char(peek())) fail("expected ',' or ')' in 'shape'");
    return value;
  }

  const std::string& path_;
  const std::string& text_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Reading helpers

std::uint64_t load_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

void check_options(const std::string& path, const NpyReadOptions& opt) {
  if (opt.expected_ndim < -1) {
    throw NpyError(path,
                   "invalid read options: expected_ndim " + std::to_string(opt.expected_ndim));
  }
  for (const long d : opt.expected_shape) {
    if (d < -1) {
      throw NpyError(path, "invalid read options: expected_shape " +
                               tuple_str(opt.expected_shape, true) + " has a negative entry");
    }
  }
  if (opt.expected_ndim >= 0 && !opt.expected_shape.empty() &&
      opt.expected_shape.size() != static_cast<std::size_t>(opt.expected_ndim)) {
    throw NpyError(path, "invalid read options: expected_ndim " +
                             std::to_string(opt.expected_ndim) + " disagrees with expected_shape " +
                             tuple_str(opt.expected_shape, true));
  }
}

void check_shape(const std::string& path, const NpyReadOptions& opt,
                 const std::vector<std::size_t>& shape) {
  if (opt.expected_ndim >= 0 && shape.size() != static_cast<std::size_t>(opt.expected_ndim)) {
    throw NpyError(path, "shape mismatch: expected " + std::to_string(opt.expected_ndim) +
                             "-D array, got " + std::to_string(shape.size()) + "-D shape " +
                             shape_str(shape));
  }
  if (opt.expected_shape.empty()) return;
  bool ok = opt.expected_shape.size() == shape.size();
  for (std::size_t i = 0; ok && i < shape.size(); ++i) {
    const long want = opt.expected_shape[i];
    ok = want == -1 || static_cast<unsigned long>(want) == shape[i];
  }
  if (!ok) {
    throw NpyError(path, "shape mismatch: expected " + tuple_str(opt.expected_shape, true) +
                             ", got " + shape_str(shape));
  }
}

// Reads exactly n bytes or reports a truncated header.
void read_header_bytes(std::FILE* f, const std::string& path, void* dst, std::size_t n) {
  if (n > 0 && std::fread(dst, 1, n, f) != n) {
    throw NpyError(path, std::ferror(f) ? "read error: " + errno_text(errno) : "truncated header");
  }
}

// An open temporary file that is closed and removed unless committed.
class TempFile {
 public:
  explicit TempFile(std::string path)
      : path_(std::move(path)), f_(std::fopen(path_.c_str(), "wb")), armed_(f_ != nullptr) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (f_ != nullptr) std::fclose(f_);
    if (armed_) std::remove(path_.c_str());
  }
  bool is_open() const { return f_ != nullptr; }
  std::FILE* get() const { return f_; }
  const std::string& path() const { return path_; }
  // Flushes and closes; false (errno set) on failure.
  bool close() {
    const bool flushed = std::fflush(f_) == 0;
    const int err = errno;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!flushed) errno = err;
    return flushed && closed;
  }
  // Renames onto target; on success the file is no longer removed.
  bool commit(const std::string& target) {
    if (std::rename(path_.c_str(), target.c_str()) != 0) return false;
    armed_ = false;
    return true;
  }

 private:
  std::string path_;
  std::FILE* f_;
  bool armed_;  // only a file this object created is ever removed
};

}  // namespace

// ---------------------------------------------------------------------------------------------

NpyError::NpyError(const std::string& file, const std::string& problem)
    : std::runtime_error(one_line(file) + ": " + one_line(problem)),
      file_(file),
      problem_(problem) {}

std::size_t NpyArray::rows() const {
  if (shape.size() != 2) {
    throw std::logic_error("NpyArray::rows: array is " + std::to_string(shape.size()) +
                           "-D, not 2-D");
  }
  return shape[0];
}

std::size_t NpyArray::cols() const {
  if (shape.size() != 2) {
    throw std::logic_error("NpyArray::cols: array is " + std::to_string(shape.size()) +
                           "-D, not 2-D");
  }
  return shape[1];
}

double NpyArray::at(std::size_t r, std::size_t c) const {
  if (shape.size() != 2) {
    throw std::logic_error("NpyArray::at(r, c): array is " + std::to_string(shape.size()) +
                           "-D, not 2-D");
  }
  if (r >= shape[0] || c >= shape[1]) {
    throw std::out_of_range("NpyArray::at: index [" + std::to_string(r) + ", " + std::to_string(c) +
                            "] out of range for shape " + shape_str(shape));
  }
  return data.at(r * shape[1] + c);
}

double NpyArray::at(std::size_t i, std::size_t j, std::size_t k) const {
  if (shape.size() != 3) {
    throw std::logic_error("NpyArray::at(i, j, k): array is " + std::to_string(shape.size()) +
                           "-D, not 3-D");
  }
  if (i >= shape[0] || j >= shape[1] || k >= shape[2]) {
    throw std::out_of_range("NpyArray::at: index [" + std::to_string(i) + ", " + std::to_string(j) +
                            ", " + std::to_string(k) + "] out of range for shape " +
                            shape_str(shape));
  }
  return data.at((i * shape[1] + j) * shape[2] + k);
}

NpyArray read_npy(const std::string& path, const NpyReadOptions& opt) {
  check_options(path, opt);

  // Opened without blocking (a FIFO must not hang the reader), then checked to be a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw NpyError(path, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    throw NpyError(path, std::string("cannot open: ") +
                             (dir ? "is a directory" : "not a regular file") +
                             " (allowed: a regular file)");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  FilePtr file(::fdopen(fd, "rb"));
  if (!file) {
    ::close(fd);
    throw NpyError(path, "cannot open: " + errno_text(errno));
  }
  std::FILE* f = file.get();
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size > gca::limits::kMaxNpyFileBytes) {
    throw NpyError(path, "file of " + std::to_string(file_size) +
                             " bytes is too large (allowed: up to " +
                             std::to_string(gca::limits::kMaxNpyFileBytes >> 20) + " MiB)");
  }

  // Magic and version.
  unsigned char pre[kMagicLen + 2] = {};
  const std::size_t got = std::fread(pre, 1, kMagicLen, f);
  if (got != kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0) {
    throw NpyError(path, "not a .npy file (bad magic)");
  }
  read_header_bytes(f, path, pre + kMagicLen, 2);
  const unsigned major = pre[kMagicLen];
  const unsigned minor = pre[kMagicLen + 1];
  if (minor != 0 || major < 1 || major > 3) {
    throw NpyError(path, "unsupported .npy format version " + std::to_string(major) + "." +
                             std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }

  // Header length and header.
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  unsigned char len_buf[4] = {};
  read_header_bytes(f, path, len_buf, len_bytes);
  const std::uint64_t header_len = load_le(len_buf, len_bytes);
  const std::uint64_t prefix = kMagicLen + 2 + len_bytes;
  if (header_len > gca::limits::kMaxNpyHeaderBytes) {
    throw NpyError(path, "header length " + std::to_string(header_len) +
                             " bytes is too large (allowed: up to " +
                             std::to_string(gca::limits::kMaxNpyHeaderBytes) + " bytes)");
  }
  if (header_len > file_size - std::min(file_size, prefix)) {
    throw NpyError(path, "truncated header: header length " + std::to_string(header_len) +
                             " but the file has " + std::to_string(file_size) + " bytes");
  }
  std::string text(static_cast<std::size_t>(header_len), '\0');
  read_header_bytes(f, path, text.data(), text.size());
  const Header h = HeaderParser(path, text).parse();

  // Contents of the header.
  std::size_t item = 0;
  if (h.descr == "<f4") {
    item = 4;
  } else if (h.descr == "<f8") {
    item = 8;
  } else if (h.descr == ">f4" || h.descr == ">f8") {
    throw NpyError(path, "big-endian dtype " + echo(h.descr) +
                             " is not supported (expected dtype float32 or float64 (<f4/<f8))");
  } else {
    throw NpyError(path, "expected dtype float32 or float64 (<f4/<f8), got " + echo(h.descr));
  }
  if (h.fortran_order) {
    throw NpyError(path, "fortran_order True is not supported (only C-order arrays)");
  }
  check_shape(path, opt, h.shape);
  std::size_t count = 0;
  if (!checked_count(h.shape, &count) || count > std::numeric_limits<std::uint64_t>::max() / item) {
    throw NpyError(path, "shape " + shape_str(h.shape) + " is too large");
  }

  // Data size against the file size.
  const std::uint64_t want = static_cast<std::uint64_t>(count) * item;
  const std::uint64_t avail = file_size - prefix - header_len;
  if (avail < want) {
    std::string msg = "truncated: header says " + std::to_string(count) + " values, file holds " +
                      std::to_string(avail / item);
    if (avail % item != 0) msg += " (plus " + std::to_string(avail % item) + " stray bytes)";
    throw NpyError(path, msg);
  }
  if (avail > want) {
    throw NpyError(path, "trailing garbage: " + std::to_string(avail - want) +
                             " bytes after the data (header says " + std::to_string(count) +
                             " values)");
  }

  // Data, in bulk chunks.
  NpyArray out;
  out.shape = h.shape;
  out.data.resize(count);
  std::vector<unsigned char> buf(std::min<std::size_t>(kChunkBytes, count * item));
  const std::size_t per_chunk = kChunkBytes / item;
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(per_chunk, count - done);
    if (std::fread(buf.data(), item, n, f) != n) {
      throw NpyError(path, std::ferror(f) ? "read error: " + errno_text(errno)
                                          : "truncated: file shrank while being read");
    }
    const unsigned char* p = buf.data();
    if (item == 4) {
      for (std::size_t i = 0; i < n; ++i, p += 4) {
        const auto bits = static_cast<std::uint32_t>(load_le(p, 4));
        float v;
        std::memcpy(&v, &bits, sizeof v);
        out.data[done + i] = static_cast<double>(v);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i, p += 8) {
        const std::uint64_t bits = load_le(p, 8);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        out.data[done + i] = v;
      }
    }
    done += n;
  }

  if (!opt.allow_non_finite) {
    for (std::size_t i = 0; i < count; ++i) {
      const double v = out.data[i];
      if (std::isfinite(v)) continue;
      const char* what = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
      throw NpyError(path, std::string("value ") + what + " at index " + index_str(i, out.shape) +
                               " (non-finite values are not allowed)");
    }
  }
  return out;
}

void write_npy(const std::string& path, const std::vector<std::size_t>& shape, const double* data,
               NpyDtype dtype) {
  std::size_t count = 0;
  const std::size_t item = dtype == NpyDtype::Float32 ? 4 : 8;
  if (!checked_count(shape, &count) || count > std::numeric_limits<std::size_t>::max() / item) {
    throw NpyError(path, "cannot write: shape " + shape_str(shape) + " is too large");
  }
  if (count > 0 && data == nullptr) throw NpyError(path, "cannot write: null data pointer");
  if (dtype == NpyDtype::Float32) {
    for (std::size_t i = 0; i < count; ++i) {
      if (std::isfinite(data[i]) && std::fabs(data[i]) > static_cast<double>(FLT_MAX)) {
        throw NpyError(path, "cannot write: value " + num_str(data[i]) + " at index " +
                                 index_str(i, shape) + " is out of float32 range");
      }
    }
  }

  // Header: version 1.0 unless it does not fit a uint16 length, padded to kAlign.
  const std::string dict = std::string("{'descr': '") + (item == 4 ? "<f4" : "<f8") +
                           "', 'fortran_order': False, 'shape': " + tuple_str(shape, false, false) +
                           ", }";
  auto padded_total = [&](std::size_t prefix) {
    return (prefix + dict.size() + 1 + kAlign - 1) / kAlign * kAlign;
  };
  unsigned major = 1;
  std::size_t prefix = kMagicLen + 4;
  if (padded_total(prefix) - prefix > 0xffff) {
    major = 2;
    prefix = kMagicLen + 6;
  }
  const std::size_t header_len = padded_total(prefix) - prefix;
  if (header_len > 0xffffffffu) throw NpyError(path, "cannot write: header too large");
  std::string head(kMagic, kMagicLen);
  head += static_cast<char>(major);
  head += '\0';
  for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) {
    head += static_cast<char>((header_len >> (8 * i)) & 0xff);
  }
  head += dict;
  head.append(header_len - dict.size() - 1, ' ');
  head += '\n';

  TempFile tmp(path + ".tmp-" + unique_token());
  if (!tmp.is_open()) {
    throw NpyError(path, "cannot write: cannot create temporary file " + quote(tmp.path()) + ": " +
                             errno_text(errno));
  }
  auto write_failed = [&]() {
    throw NpyError(path, "cannot write " + quote(tmp.path()) + ": " + errno_text(errno));
  };

  std::FILE* f = tmp.get();
  if (std::fwrite(head.data(), 1, head.size(), f) != head.size()) write_failed();
  std::vector<unsigned char> buf(std::min<std::size_t>(kChunkBytes, count * item));
  const std::size_t per_chunk = kChunkBytes / item;
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(per_chunk, count - done);
    unsigned char* p = buf.data();
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t bits = 0;
      if (item == 4) {
        const auto v = static_cast<float>(data[done + i]);
        std::uint32_t b32;
        std::memcpy(&b32, &v, sizeof b32);
        bits = b32;
      } else {
        std::memcpy(&bits, &data[done + i], sizeof bits);
      }
      for (std::size_t b = 0; b < item; ++b) *p++ = static_cast<unsigned char>(bits >> (8 * b));
    }
    if (std::fwrite(buf.data(), item, n, f) != n) write_failed();
    done += n;
  }
  if (!tmp.close()) write_failed();
  if (!tmp.commit(path)) {
    throw NpyError(path, "cannot write: cannot rename " + quote(tmp.path()) +
                             " onto it: " + errno_text(errno));
  }
}

void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data, NpyDtype dtype) {
  std::size_t count = 0;
  if (!checked_count(shape, &count)) {
    throw NpyError(path, "cannot write: shape " + shape_str(shape) + " is too large");
  }
  if (data.size() != count) {
    throw NpyError(path, "cannot write: shape " + shape_str(shape) + " needs " +
                             std::to_string(count) + " values, got " + std::to_string(data.size()));
  }
  write_npy(path, shape, data.data(), dtype);
}

}  // namespace gca::tb
