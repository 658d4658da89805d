// The register map of rtl_spec/REGISTER_MAP.md through the accelerator's one target socket:
// 32-bit registers with 4- and 8-byte accesses, a token started and read back (checked against
// the oracle, in both buffer formats), the command queue and its overflow, the payload rules
// (ignore command, byte enables, debug transport), temporal decoupling, the interrupt, the base
// address and both resets.
#include <tlm_utils/simple_initiator_socket.h>
#include <cstring>

#include "gca/spec/buffer_codes.hpp"
#include "gca/spec/oracle_head.hpp"
#include "gca/spec/register_map.hpp"
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace sc = gca::sc;
namespace regs = gca::spec::regs;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

struct Initiator : sc_core::sc_module {
  SC_HAS_PROCESS(Initiator);
  explicit Initiator(sc_core::sc_module_name n, std::function<void(Initiator&)> body)
      : sc_module(n), socket("socket"), body_(std::move(body)) {
    SC_THREAD(run);
  }
  tlm_utils::simple_initiator_socket<Initiator> socket;
  sc_time local = sc_core::SC_ZERO_TIME;
  std::uint64_t base = 0;  // the accelerator's base address

  ::tlm::tlm_response_status access(::tlm::tlm_command cmd, std::uint64_t addr, void* data,
                                    unsigned len, unsigned char* byte_enables = nullptr,
                                    unsigned be_len = 0) {
    ::tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(base + addr);
    p.set_data_ptr(static_cast<unsigned char*>(data));
    p.set_data_length(len);
    p.set_streaming_width(len);
    p.set_byte_enable_ptr(byte_enables);
    p.set_byte_enable_length(be_len);
    p.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(p, local);
    return p.get_response_status();
  }
  ::tlm::tlm_response_status write32(std::uint64_t addr, std::uint32_t v) {
    return access(::tlm::TLM_WRITE_COMMAND, addr, &v, 4);
  }
  std::uint32_t read32(std::uint64_t addr) {
    std::uint32_t v = 0;
    EXPECT_EQ(access(::tlm::TLM_READ_COMMAND, addr, &v, 4), ::tlm::TLM_OK_RESPONSE)
        << std::hex << addr;
    return v;
  }
  std::uint64_t read64(std::uint64_t addr) {
    std::uint64_t v = 0;
    EXPECT_EQ(access(::tlm::TLM_READ_COMMAND, addr, &v, 8), ::tlm::TLM_OK_RESPONSE)
        << std::hex << addr;
    return v;
  }
  double now_ns() const { return (sc_core::sc_time_stamp() + local).to_seconds() * 1e9; }

 private:
  void run() {
    body_(*this);
    sc_core::sc_stop();
  }
  std::function<void(Initiator&)> body_;
};

struct Bench {
  explicit Bench(std::vector<std::string> overrides, std::function<void(Initiator&)> body,
                 sc::AcceleratorOptions options = {})
      : spec(spec::load_spec(spec::default_spec_path(), overrides)),
        acc("accelerator", spec, options),
        init("initiator", std::move(body)) {
    init.base = options.base_address;
    init.socket.bind(acc.socket);
    acc.irq.bind(irq);
    acc.reset.bind(reset);
  }
  spec::HardwareSpec spec;
  sc::Accelerator acc;
  Initiator init;
  sc_core::sc_signal<bool> irq{"irq"}, reset{"reset"};
};

unsigned debug_access(Bench& b, ::tlm::tlm_command cmd, std::uint64_t addr, void* data,
                      unsigned len, unsigned streaming_width) {
  ::tlm::tlm_generic_payload p;
  p.set_command(cmd);
  p.set_address(addr);
  p.set_data_ptr(static_cast<unsigned char*>(data));
  p.set_data_length(len);
  p.set_streaming_width(streaming_width);
  return b.init.socket->transport_dbg(p);
}
unsigned debug_read(Bench& b, std::uint64_t addr, void* data, unsigned len) {
  return debug_access(b, ::tlm::TLM_READ_COMMAND, addr, data, len, len);
}

// The digital phase is pinned to 15 ns (the 65 ns below); its derivation from the adder tree
// is tested in tests/power.
const std::vector<std::string> kSmall{"window=3",        "array.cols=2",
                                      "model.d_head=4",  "model.n_layers=2",
                                      "model.n_heads=2", "timing.phase_digital_ns=15"};

TEST(Registers, IdentityAndShape) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench b(kSmall, [](Initiator& i) {
    // Layer 0 head 0's ID sits at offset 0; a 32-bit core reads it with 4 bytes.
    EXPECT_EQ(i.read32(0x0), 0x47434132u);
    const std::uint64_t base = regs::head_base(1, 1);
    EXPECT_EQ(base, 0x41000u);  // layer stride 256 KiB, head stride 4 KiB
    EXPECT_EQ(i.read32(base + regs::kId), 0x47434132u);
    EXPECT_EQ(i.read32(base + regs::kDHead), 4u);
    EXPECT_EQ(i.read64(base + regs::kId), (std::uint64_t(4) << 32) | 0x47434132u);  // ID, D_HEAD
    EXPECT_EQ(i.read32(base + regs::kWindow), 3u);
    EXPECT_EQ(i.read32(base + regs::kCmdDepth), 4u);  // registers.command_queue
    EXPECT_EQ(i.read32(base + regs::kTokenCount), 0u);
    EXPECT_EQ(i.read32(base + regs::kStatus), 0u);
    EXPECT_EQ(i.read32(base + regs::kOutToken), 0xFFFFFFFFu);
    EXPECT_EQ(i.read32(0x03FC0000 + GCA_GLB_ID), 0x47434132u);
    EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kNLayers), 2u);
    EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kNHeads), 2u);
    EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kBufFormat), GCA_FORMAT_BINARY64);
  });
  sc_core::sc_start();
}

void token_values(int t, double* q, double* k, double* v) {
  for (int f = 0; f < 4; ++f) q[f] = 0.1 * (t + f), k[f] = 0.9 - 0.1 * f, v[f] = 0.15 * (f + t % 3);
}

TEST(Registers, TokenThroughTheRegistersEqualsTheOracle) {
  GCA_REQUIRE_FRESH_KERNEL();
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), kSmall);
  spec::OracleHead ref(s);
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(1, 0);
    for (int t = 0; t < 5; ++t) {
      double q[4], k[4], v[4], out[4];
      token_values(t, q, k, v);
      EXPECT_EQ(i.read32(base + regs::kWritePtr), std::uint32_t(t % 3));  // circular buffer
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kKBuf, k, 32),
                ::tlm::TLM_OK_RESPONSE);
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kVBuf, v, 32),
                ::tlm::TLM_OK_RESPONSE);
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kQBuf, q, 32),
                ::tlm::TLM_OK_RESPONSE);
      double back[4];
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kKBuf, back, 32),
                ::tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(std::memcmp(back, k, 32), 0);
      ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(i.read32(base + regs::kStatus) & regs::kStatusBusy, regs::kStatusBusy);
      EXPECT_EQ(i.read32(base + regs::kOutPending), 0u);  // computing: no result yet
      const double before = i.now_ns();
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
                ::tlm::TLM_OK_RESPONSE);
      EXPECT_NEAR(i.now_ns() - before, 65.0, 1e-9);             // the read waits for the result
      const spec::OracleToken r = ref.step(q, k, v, 65.0 * t);  // no leakage: time is not used
      for (int f = 0; f < 4; ++f)
        EXPECT_NEAR(out[f], r.out[f], r.allowance[f]) << "t=" << t << " f=" << f;
      EXPECT_EQ(i.read32(base + regs::kOutPending), 0u);
      EXPECT_EQ(i.read32(base + regs::kLastLatencyPs), 65000u);
    }
    EXPECT_EQ(i.read32(base + regs::kTokenCount), 5u);
    EXPECT_EQ(i.read32(regs::head_base(0, 0) + regs::kTokenCount), 0u);  // other heads untouched
  });
  sc_core::sc_start();
}

// The codes format: the host packs the converters' codes (3-bit K, V; 4-bit Q: the gpt2.json
// converters), reads signed counter sums, and gets the oracle's outputs.
TEST(Registers, CodesFormatCarriesTheConvertersCodes) {
  GCA_REQUIRE_FRESH_KERNEL();
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), kSmall);
  spec::OracleHead ref(s);
  const spec::BufferCodes codes(s);
  ASSERT_TRUE(codes.available());
  EXPECT_EQ(codes.bits(spec::BufferKind::k), 3);
  EXPECT_EQ(codes.bits(spec::BufferKind::q), 4);
  Bench b(kSmall, [&](Initiator& i) {
    ASSERT_EQ(i.write32(regs::kGlobalBase + regs::kBufFormat, GCA_FORMAT_CODES),
              ::tlm::TLM_OK_RESPONSE);
    const std::uint64_t base = regs::head_base(0, 1);
    for (int t = 0; t < 3; ++t) {
      double q[4], k[4], v[4], out[4];
      token_values(t, q, k, v);
      std::uint8_t kc[2] = {}, vc[2] = {}, qc[2] = {}, oc[16] = {};
      codes.encode_input(spec::BufferKind::k, k, 4, kc);  // 4 x 3 bits: 2 bytes
      codes.encode_input(spec::BufferKind::v, v, 4, vc);
      codes.encode_input(spec::BufferKind::q, q, 4, qc);  // 4 x 4 bits: 2 bytes
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kKBuf, kc, 2),
                ::tlm::TLM_OK_RESPONSE);
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kVBuf, vc, 2),
                ::tlm::TLM_OK_RESPONSE);
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kQBuf, qc, 2),
                ::tlm::TLM_OK_RESPONSE);
      // Beyond the packed bytes: unmapped.
      EXPECT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kKBuf + 2, kc, 1),
                ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
      ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
      const unsigned out_bytes = static_cast<unsigned>(codes.bytes(spec::BufferKind::out, 4));
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, oc, out_bytes),
                ::tlm::TLM_OK_RESPONSE);
      codes.decode_output(oc, 4, out);
      const spec::OracleToken r = ref.step(q, k, v, 65.0 * t);
      for (int f = 0; f < 4; ++f)
        EXPECT_NEAR(out[f], r.out[f], r.allowance[f] + 1e-12) << "t=" << t << " f=" << f;
    }
  });
  sc_core::sc_start();
}

TEST(Registers, ErrorResponses) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench b(kSmall, [](Initiator& i) {
    std::uint64_t v = 0;
    double buf[8] = {};
    auto rd = [&](std::uint64_t a, void* d, unsigned n) {
      return i.access(::tlm::TLM_READ_COMMAND, a, d, n);
    };
    auto wr = [&](std::uint64_t a, void* d, unsigned n) {
      return i.access(::tlm::TLM_WRITE_COMMAND, a, d, n);
    };
    // Unmapped: a third head, a third layer, holes in a head's window, beyond d_head values,
    // beyond the accelerator's span.
    EXPECT_EQ(rd(regs::head_base(0, 2) + regs::kId, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(2, 0) + regs::kId, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + 0x30, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kHeadEnd, &v, 8), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kKBuf + 32, &v, 8),
              ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::kSpan, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // Wrong lengths and alignments.
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kId, &v, 2), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kDHead, &v, 8), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kKBuf, buf, 12), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kKBuf, buf, 40), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kKBuf + 4, buf, 8), ::tlm::TLM_BURST_ERROR_RESPONSE);
    // Wrong command; an 8-byte write over CTRL and STATUS is refused as a whole.
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kId, &v, 4), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kCtrl, &v, 4), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    v = regs::kCtrlStart;
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kCtrl, &v, 8), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(i.read32(regs::head_base(0, 0) + regs::kTokenCount), 0u);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kOutBuf, buf, 32),
              ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    // Accelerator-wide block: read-only registers refuse writes, holes are unmapped.
    EXPECT_EQ(wr(regs::kGlobalBase + regs::kIrqStatus, &v, 8), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::kGlobalBase + regs::kIrqEnableSet, &v, 8),
              ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::kGlobalBase + 0x1C, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::kGlobalBase + regs::kGlobalEnd, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(i.write32(regs::kGlobalBase + regs::kBufFormat, 7),
              ::tlm::TLM_GENERIC_ERROR_RESPONSE);  // no such format
  });
  sc_core::sc_start();
}

// A START beyond the command queue is refused at once with an error and the overflow flag (and
// interrupt cause); the STARTs before it were accepted at once. Queue of 2: at time 0 the first
// two STARTs fill it (the analog stage takes the first one a delta cycle later), the third is
// refused, at time 0: nothing holds the bus.
TEST(Registers, CommandQueueOverflowIsAnErrorNotAStall) {
  GCA_REQUIRE_FRESH_KERNEL();
  std::vector<std::string> o = kSmall;
  o.push_back("registers.command_queue=2");
  Bench* bench = nullptr;
  Bench b(o, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(0, 0);
    ASSERT_EQ(i.write32(regs::kGlobalBase + regs::kOverflowIrqEnable, 1), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read32(base + regs::kCmdDepth), 2u);
    ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read32(base + regs::kCmdPending), 2u);
    EXPECT_EQ(i.read32(base + regs::kStatus) & regs::kStatusFull, regs::kStatusFull);
    EXPECT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_NEAR(i.now_ns(), 0.0, 1e-9);
    EXPECT_EQ(i.read32(base + regs::kTokenCount), 2u);  // the refused START queued nothing
    EXPECT_EQ(i.read32(base + regs::kStatus) & regs::kStatusOverflow, regs::kStatusOverflow);
    wait(sc_core::SC_ZERO_TIME);
    wait(sc_core::SC_ZERO_TIME);
    EXPECT_TRUE(bench->irq.read());
    EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kIrqCause), regs::kIrqCauseOverflow);
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kOverflowLayers), 1u);  // layer 0
    ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlClearOverflow), ::tlm::TLM_OK_RESPONSE);
    wait(sc_core::SC_ZERO_TIME);
    wait(sc_core::SC_ZERO_TIME);
    EXPECT_FALSE(bench->irq.read());
    EXPECT_EQ(i.read32(base + regs::kStatus) & regs::kStatusOverflow, 0u);
    // The two accepted tokens: results at 65 and 115 ns; each read waits for its own.
    double out[4];
    for (double want : {65.0, 115.0}) {
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
                ::tlm::TLM_OK_RESPONSE);
      EXPECT_NEAR(i.now_ns(), want, 1e-9);
    }
  });
  bench = &b;
  sc_core::sc_start();
}

// IEEE 1666-2011 section 14: the ignore command touches nothing; byte enables covering whole
// registers are accepted; debug transport takes a streaming width of 0 and has no side effects.
TEST(Registers, PayloadRules) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench* bench = nullptr;
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(1, 0);
    std::uint32_t start = regs::kCtrlStart, v = 0;
    ASSERT_EQ(i.access(::tlm::TLM_IGNORE_COMMAND, base + regs::kCtrl, &start, 4),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read32(base + regs::kTokenCount), 0u);  // not started
    EXPECT_EQ(i.access(::tlm::TLM_IGNORE_COMMAND, base + 0x30, &v, 4),
              ::tlm::TLM_ADDRESS_ERROR_RESPONSE);  // the address checks still apply
    ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    i.local += sc_time(80, SC_NS);
    EXPECT_EQ(i.read32(base + regs::kOutPending), 1u);
    double out[4], peek[4];
    ASSERT_EQ(i.access(::tlm::TLM_IGNORE_COMMAND, base + regs::kOutBuf, out, 32),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read32(base + regs::kOutPending), 1u);  // not popped
    // Byte enables: all 0xFF (also a shorter mask, repeated) is no mask; anything else refused.
    unsigned char all[4] = {0xFF, 0xFF, 0xFF, 0xFF}, part[4] = {0xFF, 0xFF, 0x00, 0xFF};
    EXPECT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kId, &v, 4, all, 4),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 0x47434132u);
    std::uint64_t both = 0;
    EXPECT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kId, &both, 8, all, 4),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kId, &v, 4, part, 4),
              ::tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    // Debug: streaming width 0 accepted; reads do not pop; writes refused.
    wait(i.local);
    i.local = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(debug_access(*bench, ::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, peek, 32, 0),
              32u);
    EXPECT_EQ(debug_access(*bench, ::tlm::TLM_READ_COMMAND, base + regs::kOutPending, &v, 4, 0),
              4u);
    EXPECT_EQ(v, 1u);
    EXPECT_EQ(debug_access(*bench, ::tlm::TLM_WRITE_COMMAND, base + regs::kCtrl, &start, 4, 4), 0u);
    EXPECT_EQ(i.read32(base + regs::kTokenCount), 1u);
    ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(std::memcmp(out, peek, 32), 0);
    EXPECT_EQ(i.read32(base + regs::kOutPending), 0u);
    EXPECT_EQ(debug_read(*bench, base + regs::kOutBuf, peek, 32), 0u);  // nothing to show
  });
  bench = &b;
  sc_core::sc_start();
}

// Loosely timed with temporal decoupling: accesses whose answer cannot change return with their
// annotated delay, the kernel's time untouched; START and a read of a result not yet there
// synchronise.
TEST(Registers, LooselyTimedAccessesKeepTheirAnnotatedDelay) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(0, 1);
    double k[4] = {0.1, 0.2, 0.3, 0.4};
    i.local = sc_time(500, SC_NS);
    ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kKBuf, k, 32),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read32(base + regs::kStatus), 0u);  // idle: cannot change
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
    EXPECT_EQ(i.local, sc_time(500, SC_NS));
    ASSERT_EQ(i.write32(base + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(500, SC_NS));  // START synchronised
    EXPECT_EQ(i.local, sc_core::SC_ZERO_TIME);
    double out[4];
    ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_NEAR(i.now_ns(), 565.0, 1e-9);
  });
  sc_core::sc_start();
}

// The interrupt: high while an enabled layer holds a result in every head.
TEST(Registers, InterruptFollowsLayerReadiness) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench* bench = nullptr;
  Bench b(kSmall, [&](Initiator& i) {
    std::uint64_t layer1 = 2;
    ASSERT_EQ(
        i.access(::tlm::TLM_WRITE_COMMAND, regs::kGlobalBase + regs::kIrqEnableSet, &layer1, 8),
        ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kIrqEnable), 2u);
    ASSERT_EQ(i.write32(regs::head_base(1, 0) + regs::kCtrl, regs::kCtrlStart),
              ::tlm::TLM_OK_RESPONSE);
    wait(sc_time(100, SC_NS));
    EXPECT_FALSE(bench->irq.read());  // head 1 of layer 1 has no result
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kLayerReady), 0u);
    ASSERT_EQ(i.write32(regs::head_base(1, 1) + regs::kCtrl, regs::kCtrlStart),
              ::tlm::TLM_OK_RESPONSE);
    wait(bench->irq.posedge_event());
    EXPECT_NEAR(sc_core::sc_time_stamp().to_seconds() * 1e9, 165.0, 1e-9);
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kIrqStatus), 2u);
    EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kIrqCause), regs::kIrqCauseReady);
    ASSERT_EQ(
        i.access(::tlm::TLM_WRITE_COMMAND, regs::kGlobalBase + regs::kIrqEnableClear, &layer1, 8),
        ::tlm::TLM_OK_RESPONSE);
    wait(sc_core::SC_ZERO_TIME);
    wait(sc_core::SC_ZERO_TIME);
    EXPECT_FALSE(bench->irq.read());
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kLayerReady), 2u);  // still ready, masked
  });
  bench = &b;
  sc_core::sc_start();
}

// Resets: a head's RESET abandons its token in flight; the global soft reset and the reset
// input return every head, the interrupt enables and the irq line to their reset values.
TEST(Registers, ResetsReturnEverythingToResetValues) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench* bench = nullptr;
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t h01 = regs::head_base(0, 1), h10 = regs::head_base(1, 0);
    ASSERT_EQ(i.write32(h01 + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(i.write32(h01 + regs::kCtrl, regs::kCtrlReset), ::tlm::TLM_OK_RESPONSE);  // in flight
    i.local += sc_time(100, SC_NS);
    EXPECT_EQ(i.read32(h01 + regs::kStatus), 0u);
    EXPECT_EQ(i.read32(h01 + regs::kOutPending), 0u);  // the abandoned token delivers nothing
    EXPECT_EQ(i.read32(h01 + regs::kTokenCount), 0u);
    // Two heads of layer 1 hold results, the layer's interrupt is enabled: irq high.
    ASSERT_EQ(i.write32(regs::kGlobalBase + regs::kIrqEnableSet, 2), ::tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(i.write32(h10 + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(i.write32(regs::head_base(1, 1) + regs::kCtrl, regs::kCtrlStart),
              ::tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(i.write32(h01 + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    wait(sc_time(100, SC_NS) + i.local);
    i.local = sc_core::SC_ZERO_TIME;
    EXPECT_TRUE(bench->irq.read());
    ASSERT_EQ(i.write32(regs::kGlobalBase + regs::kGlobalCtrl, regs::kGlobalCtrlSoftReset),
              ::tlm::TLM_OK_RESPONSE);
    wait(sc_core::SC_ZERO_TIME);
    wait(sc_core::SC_ZERO_TIME);
    EXPECT_FALSE(bench->irq.read());
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kIrqEnable), 0u);
    for (std::uint64_t h : {h01, h10}) {
      EXPECT_EQ(i.read32(h + regs::kStatus), 0u);
      EXPECT_EQ(i.read32(h + regs::kTokenCount), 0u);
    }
    // The reset input does the same.
    ASSERT_EQ(i.write32(h10 + regs::kCtrl, regs::kCtrlStart), ::tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(i.write32(regs::kGlobalBase + regs::kBufFormat, GCA_FORMAT_CODES),
              ::tlm::TLM_OK_RESPONSE);
    bench->reset.write(true);
    wait(sc_time(1, SC_NS));
    bench->reset.write(false);
    wait(sc_time(1, SC_NS));
    EXPECT_EQ(i.read32(h10 + regs::kStatus), 0u);
    EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kBufFormat), GCA_FORMAT_BINARY64);
  });
  bench = &b;
  sc_core::sc_start();
}

// A base address: the accelerator answers at base + offset only.
TEST(Registers, BaseAddressMovesTheWholeMap) {
  GCA_REQUIRE_FRESH_KERNEL();
  sc::AcceleratorOptions opt;
  opt.base_address = 0x4000'0000;
  Bench b(
      kSmall,
      [](Initiator& i) {
        EXPECT_EQ(i.read32(regs::head_base(1, 1) + regs::kId), 0x47434132u);
        EXPECT_EQ(i.read32(regs::kGlobalBase + regs::kNLayers), 2u);
        i.base = 0;
        std::uint32_t v = 0;
        EXPECT_EQ(i.access(::tlm::TLM_READ_COMMAND, 0, &v, 4), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
      },
      opt);
  sc_core::sc_start();
}

}  // namespace

GCA_SC_MAIN
