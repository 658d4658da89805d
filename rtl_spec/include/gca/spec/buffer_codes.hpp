// The data buffers' `codes` format (rtl_spec/REGISTER_MAP.md, "Accesses"): the converters' codes
// of one token packed low bit first. K and V carry the K/V DAC's level index, Q the PWM's, OUT
// the signed sum over sub-tiles of the counters' values in steps of 2 / (out_levels - 1), two's
// complement. The host link's `codes` wire format moves exactly these bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "gca/spec/circuits.hpp"
#include "gca/spec/params.hpp"

namespace gca::spec {

enum class BufferKind { k, v, q, out };

class BufferCodes {
 public:
  explicit BufferCodes(const HardwareSpec& spec);
  // Codes need quantizing converters (levels >= 2) for K, V, Q and the output counters.
  bool available() const { return available_; }
  // Bits per value in the codes format (also defined for ideal converters: the link's
  // host_link.ideal_code_bits then stand in).
  int bits(BufferKind kind) const;
  // Bytes of a buffer of `values` values.
  std::uint64_t bytes(BufferKind kind, std::uint64_t values) const {
    return (values * static_cast<std::uint64_t>(bits(kind)) + 7) / 8;
  }
  // Codes -> the input value the DAC turns into that code (through the input scaler's inverse).
  void decode_input(BufferKind kind, const std::uint8_t* packed, int n, double* values) const;
  // Input values -> their codes (what a host writes).
  void encode_input(BufferKind kind, const double* values, int n, std::uint8_t* packed) const;
  // Output values (sums of counter levels through the output scaler) -> codes, and back.
  void encode_output(const double* out, int n, std::uint8_t* packed) const;
  void decode_output(const std::uint8_t* packed, int n, double* out) const;

 private:
  const Quantizer& quantizer(BufferKind kind) const;
  const Affine& scaler(BufferKind kind) const;
  CircuitModel circuits_;
  ScalerParams scalers_;
  int kv_bits_, q_bits_, out_bits_;
  double out_steps_;  // out_levels - 1: a sum of counter levels times this is an integer
  bool available_;
};

}  // namespace gca::spec
