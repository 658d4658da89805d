// The accelerator's register map for C++ (rtl_spec/REGISTER_MAP.md explains it). Every offset
// is that of the generated C header, gca/spec/gca_regs.h, so firmware and model share one
// definition (rtl_spec/regmap/register_map.json). Offsets are relative to the accelerator's base
// address; the accelerator's decoder finds layer and head from them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gca/spec/gca_regs.h"

namespace gca::spec::regs {

constexpr std::uint64_t kSpan = GCA_SPAN;
constexpr std::uint64_t kHeadStride = GCA_HEAD_STRIDE;
constexpr std::uint64_t kLayerStride = GCA_LAYER_STRIDE;
constexpr int kMaxHeadsPerLayer = static_cast<int>(GCA_MAX_HEADS);
constexpr int kMaxLayers = static_cast<int>(GCA_MAX_LAYERS);
constexpr std::uint64_t head_base(int layer, int head) {
  return std::uint64_t(layer) * kLayerStride + std::uint64_t(head) * kHeadStride;
}
constexpr std::uint64_t kRegisterBytes = 4;  // every register is 32-bit
constexpr std::uint32_t kIdValue = GCA_ID_VALUE;
constexpr std::size_t kOutFifoDepth = GCA_OUT_FIFO_DEPTH;

// A head's window.
constexpr std::uint64_t kId = GCA_HEAD_ID;
constexpr std::uint64_t kDHead = GCA_HEAD_D_HEAD;
constexpr std::uint64_t kCtrl = GCA_HEAD_CTRL;
constexpr std::uint64_t kStatus = GCA_HEAD_STATUS;
constexpr std::uint64_t kWindow = GCA_HEAD_WINDOW;
constexpr std::uint64_t kCmdDepth = GCA_HEAD_CMD_DEPTH;
constexpr std::uint64_t kCmdPending = GCA_HEAD_CMD_PENDING;
constexpr std::uint64_t kTokenCount = GCA_HEAD_TOKEN_COUNT;
constexpr std::uint64_t kWritePtr = GCA_HEAD_WRITE_PTR;
constexpr std::uint64_t kOutPending = GCA_HEAD_OUT_PENDING;
constexpr std::uint64_t kOutToken = GCA_HEAD_OUT_TOKEN;
constexpr std::uint64_t kLastLatencyPs = GCA_HEAD_LAST_LATENCY_PS;
constexpr std::uint64_t kRegisterEnd = GCA_REG_AREA;

constexpr std::uint32_t kCtrlStart = GCA_HEAD_CTRL_START;
constexpr std::uint32_t kCtrlReset = GCA_HEAD_CTRL_RESET;
constexpr std::uint32_t kCtrlClearOverflow = GCA_HEAD_CTRL_CLEAR_OVERFLOW;
constexpr std::uint32_t kStatusBusy = GCA_HEAD_STATUS_BUSY;
constexpr std::uint32_t kStatusOutValid = GCA_HEAD_STATUS_OUT_VALID;
constexpr std::uint32_t kStatusFull = GCA_HEAD_STATUS_FULL;
constexpr std::uint32_t kStatusOverflow = GCA_HEAD_STATUS_OVERFLOW;

// Data buffers (binary64: 8 bytes per value; codes: packed, see REGISTER_MAP.md).
constexpr std::uint64_t kBufferSpan = GCA_BUF_SPAN;
constexpr std::uint64_t kKBuf = GCA_HEAD_K_BUF;
constexpr std::uint64_t kVBuf = GCA_HEAD_V_BUF;
constexpr std::uint64_t kQBuf = GCA_HEAD_Q_BUF;
constexpr std::uint64_t kOutBuf = GCA_HEAD_OUT_BUF;
constexpr std::uint64_t kHeadEnd = GCA_HEAD_OUT_BUF + GCA_BUF_SPAN;  // then reserved
// Which buffer an offset in a head's window falls in (kHeadEnd: none).
constexpr std::uint64_t buffer_of(std::uint64_t offset) {
  for (std::uint64_t b : {kKBuf, kVBuf, kQBuf, kOutBuf})
    if (offset >= b && offset < b + kBufferSpan) return b;
  return kHeadEnd;
}
enum class BufferFormat : std::uint32_t {
  binary64 = GCA_FORMAT_BINARY64,
  codes = GCA_FORMAT_CODES
};

// The accelerator-wide block, at kGlobalBase from the base address.
constexpr std::uint64_t kGlobalBase = GCA_GLOBAL_OFFSET;
constexpr std::uint64_t kGlobalId = GCA_GLB_ID;
constexpr std::uint64_t kNLayers = GCA_GLB_N_LAYERS;
constexpr std::uint64_t kNHeads = GCA_GLB_N_HEADS;
constexpr std::uint64_t kGlobalCtrl = GCA_GLB_CTRL;
constexpr std::uint64_t kBufFormat = GCA_GLB_BUF_FORMAT;
constexpr std::uint64_t kIrqCause = GCA_GLB_IRQ_CAUSE;
constexpr std::uint64_t kOverflowIrqEnable = GCA_GLB_OVERFLOW_IRQ_ENABLE;
// 64-bit layer masks as LO/HI pairs: an 8-byte access at LO reads or writes the whole mask.
constexpr std::uint64_t kLayerReady = GCA_GLB_LAYER_READY_LO;
constexpr std::uint64_t kIrqStatus = GCA_GLB_IRQ_STATUS_LO;
constexpr std::uint64_t kIrqEnable = GCA_GLB_IRQ_ENABLE_LO;
constexpr std::uint64_t kIrqEnableSet = GCA_GLB_IRQ_ENABLE_SET_LO;
constexpr std::uint64_t kIrqEnableClear = GCA_GLB_IRQ_ENABLE_CLEAR_LO;
constexpr std::uint64_t kOverflowLayers = GCA_GLB_OVERFLOW_LO;
constexpr std::uint64_t kGlobalEnd = GCA_GLB_OVERFLOW_HI + 4;
constexpr std::uint32_t kGlobalCtrlSoftReset = GCA_GLB_CTRL_SOFT_RESET;
constexpr std::uint32_t kIrqCauseReady = GCA_GLB_IRQ_CAUSE_READY;
constexpr std::uint32_t kIrqCauseOverflow = GCA_GLB_IRQ_CAUSE_OVERFLOW;
constexpr int kMaxIrqLayers = 64;

static_assert(kGlobalBase == std::uint64_t(kMaxLayers) * kLayerStride, "global block in slot 255");
static_assert(kSpan == kGlobalBase + kLayerStride, "the span ends after the global block");
static_assert(kHeadEnd <= kHeadStride, "a head's buffers fit its window");
static_assert(std::uint64_t(kMaxHeadsPerLayer) * kHeadStride == kLayerStride, "layer stride");

}  // namespace gca::spec::regs
