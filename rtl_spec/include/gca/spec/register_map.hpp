// Memory map of the accelerator as the host sees it (rtl_spec/REGISTER_MAP.md explains it).
// The accelerator is one target; its decoder finds layer and head from the address.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gca::spec::regs {

// Address of a head's register block.
constexpr std::uint64_t kHeadStride = 0x40000;  // 256 KiB per head
constexpr std::uint64_t kMaxHeadsPerLayer = 1024;
constexpr std::uint64_t kLayerStride = kHeadStride * kMaxHeadsPerLayer;  // 256 MiB per layer
constexpr std::uint64_t head_base(int layer, int head) {
  return std::uint64_t(layer) * kLayerStride + std::uint64_t(head) * kHeadStride;
}

// Control and status registers: 64-bit, little-endian, one access of 8 bytes each.
constexpr std::uint64_t kId = 0x0000;             // RO: kIdValue
constexpr std::uint64_t kCtrl = 0x0008;           // WO: kCtrlStart | kCtrlReset
constexpr std::uint64_t kStatus = 0x0010;         // RO: kStatusBusy | kStatusOutValid | kStatusFull
constexpr std::uint64_t kTokenCount = 0x0018;     // RO: tokens started since reset
constexpr std::uint64_t kWritePtr = 0x0020;       // RO: slot the next token is written to
constexpr std::uint64_t kDHead = 0x0028;          // RO: features per token (d_head)
constexpr std::uint64_t kWindow = 0x0030;         // RO: window M (slots)
constexpr std::uint64_t kLastLatencyPs = 0x0038;  // RO: START-to-done time of the last token
constexpr std::uint64_t kOutPending = 0x0040;     // RO: results waiting in the output FIFO
constexpr std::uint64_t kOutToken = 0x0048;       // RO: token index of the result at the FIFO head
constexpr std::uint64_t kRegisterEnd = 0x0050;

constexpr std::uint64_t kIdValue = 0x4743'4154'4c4d'0001ULL;  // "GCATLM" v1
constexpr std::uint64_t kCtrlStart = 1u << 0;       // consume K, V, Q buffers as the next token
constexpr std::uint64_t kCtrlReset = 1u << 1;       // empty the window and the output FIFO
constexpr std::uint64_t kStatusBusy = 1u << 0;      // a token is in flight
constexpr std::uint64_t kStatusOutValid = 1u << 1;  // a result is ready to read
constexpr std::uint64_t kStatusFull = 1u << 2;      // input latch full: a START now waits
constexpr std::size_t kOutFifoDepth = 16;           // results a head holds until read

// Data buffers: d_head IEEE-754 binary64 values each, little-endian; an access covers
// whole values inside [0, 8 * d_head) of the buffer.
constexpr std::uint64_t kBufferSpan = 0x8000;  // room for 4096 features
constexpr std::uint64_t kKBuf = 0x08000;       // RW: key of the next token, volts
constexpr std::uint64_t kVBuf = 0x10000;       // RW: value of the next token, volts
constexpr std::uint64_t kQBuf = 0x18000;       // RW: query, pulse width / T_max
constexpr std::uint64_t kOutBuf = 0x20000;     // RO: output of the oldest unread token;
                                               // a read that ends at the buffer's end pops it
constexpr std::uint64_t kHeadEnd = 0x28000;    // [kHeadEnd, kHeadStride) is unmapped

// Accelerator-wide registers, above every layer's block: the interrupt. Bit l of each mask is
// layer l (interrupts serve models of at most kMaxIrqLayers layers; larger ones poll).
constexpr std::uint64_t kGlobalBase = 1ULL << 44;
constexpr std::uint64_t kGlobalId = 0x00;        // RO: kIdValue
constexpr std::uint64_t kLayerReady = 0x08;      // RO: layers whose every head holds a result
constexpr std::uint64_t kIrqStatus = 0x10;       // RO: kLayerReady & kIrqEnable (irq = any bit)
constexpr std::uint64_t kIrqEnable = 0x18;       // RO: enabled layers
constexpr std::uint64_t kIrqEnableSet = 0x20;    // WO: enable the layers of the written bits
constexpr std::uint64_t kIrqEnableClear = 0x28;  // WO: disable the layers of the written bits
constexpr std::uint64_t kGlobalEnd = 0x30;
constexpr int kMaxIrqLayers = 64;

}  // namespace gca::spec::regs
