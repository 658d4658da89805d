// Strict reader/writer for NumPy .npy files (format versions 1.0, 2.0 and 3.0), limited to what
// the testbench exchanges with the Python reference: little-endian float32/float64 arrays in C
// order. Every failure is reported as an NpyError whose message is a single line
// "<file>: <problem>".
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace gca::tb {

class NpyError : public std::runtime_error {
 public:
  NpyError(const std::string& file, const std::string& problem);
  const std::string& file() const { return file_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_;
  std::string problem_;
};

// An array read from a .npy file. Values are widened to double and stored in C (row-major) order.
struct NpyArray {
  std::vector<std::size_t> shape;  // empty for a 0-d (scalar) array
  std::vector<double> data;        // C order, size() == product of shape

  std::size_t ndim() const { return shape.size(); }
  std::size_t size() const { return data.size(); }
  // 2-D arrays only (std::logic_error otherwise).
  std::size_t rows() const;
  std::size_t cols() const;
  // Bounds-checked element access: std::logic_error on wrong ndim, std::out_of_range on a bad
  // index.
  double at(std::size_t r, std::size_t c) const;                 // 2-D
  double at(std::size_t i, std::size_t j, std::size_t k) const;  // 3-D
};

struct NpyReadOptions {
  int expected_ndim = -1;            // -1: any number of dimensions
  std::vector<long> expected_shape;  // empty: any shape; an entry of -1 matches any extent
  bool allow_non_finite = false;     // false: NaN / +-Inf are rejected
};

// Reads a .npy file holding a little-endian float32 ('<f4') or float64 ('<f8') array in C order.
// Throws NpyError on anything else, on a shape that does not match the options, on truncated data,
// on bytes after the data and (unless allowed) on non-finite values.
NpyArray read_npy(const std::string& path, const NpyReadOptions& opt = {});

enum class NpyDtype { Float32, Float64 };

// Writes `data` (product(shape) values, C order) as a version 1.0 .npy file (2.0 when the header
// does not fit in 65535 bytes), header padded to a multiple of 64 bytes. The file is written to
// "<path>.tmp-<random token>" and renamed onto `path`; on failure the temporary file is removed and
// an NpyError is thrown. With Float32, finite values outside the float32 range are rejected.
void write_npy(const std::string& path, const std::vector<std::size_t>& shape, const double* data,
               NpyDtype dtype = NpyDtype::Float32);
// Same; data.size() must equal the product of shape (NpyError otherwise).
void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data, NpyDtype dtype = NpyDtype::Float32);

}  // namespace gca::tb
