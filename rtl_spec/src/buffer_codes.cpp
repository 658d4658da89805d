#include "gca/spec/buffer_codes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gca::spec {

namespace {

void put_bits(std::uint8_t* packed, std::uint64_t bit, int width, std::uint64_t value) {
  for (int b = 0; b < width; ++b, ++bit) {
    const std::uint8_t mask = static_cast<std::uint8_t>(1u << (bit % 8));
    if ((value >> b) & 1u) {
      packed[bit / 8] |= mask;
    } else {
      packed[bit / 8] &= static_cast<std::uint8_t>(~mask);
    }
  }
}

std::uint64_t get_bits(const std::uint8_t* packed, std::uint64_t bit, int width) {
  std::uint64_t v = 0;
  for (int b = 0; b < width; ++b, ++bit)
    v |= std::uint64_t((packed[bit / 8] >> (bit % 8)) & 1u) << b;
  return v;
}

}  // namespace

BufferCodes::BufferCodes(const HardwareSpec& spec)
    : circuits_(spec),
      scalers_(spec.scalers),
      kv_bits_(converter_bits(spec.quant.kv_levels, spec.host_link.ideal_code_bits)),
      q_bits_(converter_bits(spec.quant.q_levels, spec.host_link.ideal_code_bits)),
      out_steps_(spec.quant.out_levels >= 2 ? spec.quant.out_levels - 1 : 0),
      available_(spec.quant.kv_levels >= 2 && spec.quant.q_levels >= 2 &&
                 spec.quant.out_levels >= 2 && spec.scalers.k.gain != 0.0 &&
                 spec.scalers.v.gain != 0.0 && spec.scalers.q.gain != 0.0 &&
                 spec.scalers.out.gain != 0.0) {
  if (spec.quant.out_levels < 2) {
    out_bits_ = 2 * spec.host_link.ideal_code_bits;
  } else {
    // Signed sums in [-n (L-1), n (L-1)] over n sub-tiles: 2 n (L-1) + 1 values.
    const long long span = 2LL * spec.subtiles_per_head() * (spec.quant.out_levels - 1) + 1;
    out_bits_ = converter_bits(static_cast<int>(std::min<long long>(span, 1LL << 30)),
                               spec.host_link.ideal_code_bits);
  }
}

int BufferCodes::bits(BufferKind kind) const {
  switch (kind) {
    case BufferKind::k:
    case BufferKind::v:
      return kv_bits_;
    case BufferKind::q:
      return q_bits_;
    case BufferKind::out:
      return out_bits_;
  }
  return 64;
}

const Quantizer& BufferCodes::quantizer(BufferKind kind) const {
  return kind == BufferKind::q ? circuits_.q_dac : circuits_.kv_dac;
}

const Affine& BufferCodes::scaler(BufferKind kind) const {
  switch (kind) {
    case BufferKind::k:
      return scalers_.k;
    case BufferKind::v:
      return scalers_.v;
    case BufferKind::q:
      return scalers_.q;
    case BufferKind::out:
      break;
  }
  return scalers_.out;
}

void BufferCodes::decode_input(BufferKind kind, const std::uint8_t* packed, int n,
                               double* values) const {
  const Quantizer& dac = quantizer(kind);
  const Affine& sc = scaler(kind);
  const int w = bits(kind);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t code = std::min<std::uint64_t>(
        get_bits(packed, std::uint64_t(i) * w, w), static_cast<std::uint64_t>(dac.levels() - 1));
    const double level = dac.lo() + dac.step() * static_cast<double>(code);
    values[i] = (level - sc.offset) / sc.gain;
  }
}

void BufferCodes::encode_input(BufferKind kind, const double* values, int n,
                               std::uint8_t* packed) const {
  const Quantizer& dac = quantizer(kind);
  const Affine& sc = scaler(kind);
  const int w = bits(kind);
  for (int i = 0; i < n; ++i)
    put_bits(packed, std::uint64_t(i) * w, w,
             static_cast<std::uint64_t>(dac.level_index(sc.apply(values[i]))));
}

void BufferCodes::encode_output(const double* out, int n, std::uint8_t* packed) const {
  const Affine& sc = scalers_.out;
  const int w = out_bits_;
  for (int i = 0; i < n; ++i) {
    const long long code = std::llround((out[i] - sc.offset) / sc.gain * out_steps_);
    put_bits(packed, std::uint64_t(i) * w, w, static_cast<std::uint64_t>(code));
  }
}

void BufferCodes::decode_output(const std::uint8_t* packed, int n, double* out) const {
  const Affine& sc = scalers_.out;
  const int w = out_bits_;
  for (int i = 0; i < n; ++i) {
    std::uint64_t raw = get_bits(packed, std::uint64_t(i) * w, w);
    if (w < 64 && (raw >> (w - 1)) & 1u) raw |= ~0ULL << w;  // sign extension
    const double sum = static_cast<double>(static_cast<std::int64_t>(raw)) / out_steps_;
    out[i] = sc.apply(sum);
  }
}

}  // namespace gca::spec
