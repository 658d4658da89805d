// The register map of rtl_spec/REGISTER_MAP.md through the accelerator's one target socket:
// reads, writes, a token started and read back (checked against the oracle), back-pressure,
// debug accesses without side effects, the interrupt registers, and the error responses.
#include <tlm_utils/simple_initiator_socket.h>
#include <cstring>

#include "gca/spec/oracle_head.hpp"
#include "gca/spec/register_map.hpp"
#include "gca/tlm/system.hpp"
#include "sc_test_main.hpp"

namespace spec = gca::spec;
namespace sc = gca::sc;
namespace gtlm = gca::tlm;
namespace regs = gca::spec::regs;

namespace {

struct Initiator : sc_core::sc_module {
  SC_HAS_PROCESS(Initiator);
  explicit Initiator(sc_core::sc_module_name n, std::function<void(Initiator&)> body)
      : sc_module(n), socket("socket"), body_(std::move(body)) {
    SC_THREAD(run);
  }
  tlm_utils::simple_initiator_socket<Initiator> socket;
  sc_core::sc_time local = sc_core::SC_ZERO_TIME;

  ::tlm::tlm_response_status access(::tlm::tlm_command cmd, std::uint64_t addr, void* data,
                                    unsigned len) {
    ::tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(addr);
    p.set_data_ptr(static_cast<unsigned char*>(data));
    p.set_data_length(len);
    p.set_streaming_width(len);
    p.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(p, local);
    return p.get_response_status();
  }
  std::uint64_t read64(std::uint64_t addr) {
    std::uint64_t v = 0;
    EXPECT_EQ(access(::tlm::TLM_READ_COMMAND, addr, &v, 8), ::tlm::TLM_OK_RESPONSE)
        << std::hex << addr;
    return v;
  }

 private:
  void run() {
    body_(*this);
    sc_core::sc_stop();
  }
  std::function<void(Initiator&)> body_;
};

struct Bench {
  explicit Bench(std::vector<std::string> overrides, std::function<void(Initiator&)> body)
      : spec(spec::load_spec(spec::default_spec_path(), overrides)),
        acc("accelerator", spec),
        init("initiator", std::move(body)) {
    init.socket.bind(acc.socket);
    acc.irq.bind(irq);
  }
  spec::HardwareSpec spec;
  sc::Accelerator acc;
  Initiator init;
  sc_core::sc_signal<bool> irq{"irq"};
};

unsigned debug_read(Bench& b, std::uint64_t addr, void* data, unsigned len) {
  ::tlm::tlm_generic_payload p;
  p.set_command(::tlm::TLM_READ_COMMAND);
  p.set_address(addr);
  p.set_data_ptr(static_cast<unsigned char*>(data));
  p.set_data_length(len);
  p.set_streaming_width(len);
  return b.init.socket->transport_dbg(p);
}

// The digital phase is pinned to 15 ns (the 65 ns below); its derivation from the adder tree
// is tested in tests/power.
const std::vector<std::string> kSmall{"window=3",        "array.cols=2",
                                      "model.d_head=4",  "model.n_layers=2",
                                      "model.n_heads=2", "timing.phase_digital_ns=15"};

TEST(Registers, IdentityAndShape) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench b(kSmall, [](Initiator& i) {
    const std::uint64_t base = regs::head_base(1, 1);
    EXPECT_EQ(i.read64(base + regs::kId), 0x474341544c4d0001ULL);
    EXPECT_EQ(i.read64(base + regs::kDHead), 4u);
    EXPECT_EQ(i.read64(base + regs::kWindow), 3u);
    EXPECT_EQ(i.read64(base + regs::kTokenCount), 0u);
    EXPECT_EQ(i.read64(base + regs::kStatus), 0u);
  });
  sc_core::sc_start();
}

TEST(Registers, TokenThroughTheRegistersEqualsTheOracle) {
  GCA_REQUIRE_FRESH_KERNEL();
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), kSmall);
  spec::OracleHead ref(s);
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(1, 0);
    for (int t = 0; t < 5; ++t) {
      double q[4], k[4], v[4], out[4];
      for (int f = 0; f < 4; ++f)
        q[f] = 0.1 * (t + f), k[f] = 0.9 - 0.1 * f, v[f] = 0.15 * (f + t % 3);
      EXPECT_EQ(i.read64(base + regs::kWritePtr), std::uint64_t(t % 3));  // circular buffer
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
      std::uint64_t start = regs::kCtrlStart;
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kCtrl, &start, 8),
                ::tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(i.read64(base + regs::kStatus) & regs::kStatusBusy, regs::kStatusBusy);
      EXPECT_EQ(i.read64(base + regs::kOutPending), 0u);  // computing: no result yet
      const sc_core::sc_time before = sc_core::sc_time_stamp() + i.local;
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
                ::tlm::TLM_OK_RESPONSE);
      // The read waits for the result: 65 ns after the START.
      EXPECT_EQ(sc_core::sc_time_stamp() + i.local - before, sc_core::sc_time(65, sc_core::SC_NS));
      const spec::OracleToken r = ref.step(q, k, v, 65.0 * t);  // no leakage: time is not used
      for (int f = 0; f < 4; ++f)
        EXPECT_NEAR(out[f], r.out[f], r.allowance[f]) << "t=" << t << " f=" << f;
      EXPECT_EQ(i.read64(base + regs::kOutPending), 0u);
      EXPECT_EQ(i.read64(base + regs::kLastLatencyPs), 65000u);
    }
    EXPECT_EQ(i.read64(base + regs::kTokenCount), 5u);
    EXPECT_EQ(i.read64(regs::head_base(0, 0) + regs::kTokenCount), 0u);  // other heads untouched
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
    // Unmapped: a third head, a third layer, holes in a head's block, beyond d_head values.
    EXPECT_EQ(rd(regs::head_base(0, 2) + regs::kId, &v, 8), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(2, 0) + regs::kId, &v, 8), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + 0x1000, &v, 8), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kHeadEnd, &v, 8), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kKBuf + 32, &v, 8),
              ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // Wrong lengths.
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kId, &v, 4), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kKBuf, buf, 12), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kKBuf, buf, 40), ::tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kKBuf + 4, buf, 8), ::tlm::TLM_BURST_ERROR_RESPONSE);
    // Wrong command.
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kId, &v, 8), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kCtrl, &v, 8), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 0) + regs::kOutBuf, buf, 32),
              ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    // Accelerator-wide block: read-only registers refuse writes, holes are unmapped.
    EXPECT_EQ(wr(regs::kGlobalBase + regs::kIrqStatus, &v, 8), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::kGlobalBase + regs::kIrqEnableSet, &v, 8),
              ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(rd(regs::kGlobalBase + regs::kGlobalEnd, &v, 8), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // RESET while a token is in flight is refused; once idle it empties the window and FIFO.
    std::uint64_t start = regs::kCtrlStart, reset = regs::kCtrlReset;
    EXPECT_EQ(wr(regs::head_base(0, 1) + regs::kCtrl, &start, 8), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(wr(regs::head_base(0, 1) + regs::kCtrl, &reset, 8),
              ::tlm::TLM_GENERIC_ERROR_RESPONSE);
    i.local += sc_core::sc_time(100, sc_core::SC_NS);
    EXPECT_EQ(i.read64(regs::head_base(0, 1) + regs::kOutPending), 1u);
    EXPECT_EQ(wr(regs::head_base(0, 1) + regs::kCtrl, &reset, 8), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read64(regs::head_base(0, 1) + regs::kOutPending), 0u);
    EXPECT_EQ(i.read64(regs::head_base(0, 1) + regs::kTokenCount), 0u);
  });
  sc_core::sc_start();
}

// START while the input latch is full waits (back-pressure) instead of failing: three STARTs in
// a row at time 0 are taken at 0 (latched, then into the analog stage at once), 0 (latched) and
// 50 ns (when the first token has left the analog phases and the second leaves the latch).
TEST(Registers, StartWaitsWhileTheInputLatchIsFull) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench b(kSmall, [](Initiator& i) {
    const std::uint64_t base = regs::head_base(0, 0);
    std::uint64_t start = regs::kCtrlStart;
    std::vector<double> accepted;
    for (int t = 0; t < 3; ++t) {
      ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kCtrl, &start, 8),
                ::tlm::TLM_OK_RESPONSE);
      accepted.push_back((sc_core::sc_time_stamp() + i.local).to_seconds() * 1e9);
      if (t == 1) {
        EXPECT_EQ(i.read64(base + regs::kStatus) & regs::kStatusFull, regs::kStatusFull);
      }
    }
    EXPECT_NEAR(accepted[0], 0.0, 1e-9);
    EXPECT_NEAR(accepted[1], 0.0, 1e-9);
    EXPECT_NEAR(accepted[2], 50.0, 1e-9);
    // Results come 65, 115 and 165 ns after time 0: each read waits for its own.
    double out[4];
    for (double want : {65.0, 115.0, 165.0}) {
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
                ::tlm::TLM_OK_RESPONSE);
      EXPECT_NEAR((sc_core::sc_time_stamp() + i.local).to_seconds() * 1e9, want, 1e-9);
    }
  });
  sc_core::sc_start();
}

// Debug transport sees registers and results without changing anything.
TEST(Registers, DebugAccessHasNoSideEffects) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench* bench = nullptr;
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(1, 0);
    std::uint64_t start = regs::kCtrlStart, v = 0;
    double out[4], peek[4];
    EXPECT_EQ(debug_read(*bench, base + regs::kOutBuf, peek, 32), 0u);  // nothing yet
    ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, base + regs::kCtrl, &start, 8),
              ::tlm::TLM_OK_RESPONSE);
    i.local += sc_core::sc_time(80, sc_core::SC_NS);
    wait(i.local);
    i.local = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(debug_read(*bench, base + regs::kOutBuf, peek, 32), 32u);
    EXPECT_EQ(debug_read(*bench, base + regs::kOutPending, &v, 8), 8u);
    EXPECT_EQ(v, 1u);  // the debug read did not pop
    ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
              ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(std::memcmp(out, peek, 32), 0);
    EXPECT_EQ(i.read64(base + regs::kOutPending), 0u);
  });
  bench = &b;
  sc_core::sc_start();
}

// The interrupt: high while an enabled layer holds a result in every head.
TEST(Registers, InterruptFollowsLayerReadiness) {
  GCA_REQUIRE_FRESH_KERNEL();
  Bench* bench = nullptr;
  Bench b(kSmall, [&](Initiator& i) {
    std::uint64_t start = regs::kCtrlStart, layer1 = 2;
    ASSERT_EQ(
        i.access(::tlm::TLM_WRITE_COMMAND, regs::kGlobalBase + regs::kIrqEnableSet, &layer1, 8),
        ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kIrqEnable), 2u);
    ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, regs::head_base(1, 0) + regs::kCtrl, &start, 8),
              ::tlm::TLM_OK_RESPONSE);
    wait(sc_core::sc_time(100, sc_core::SC_NS));
    EXPECT_FALSE(bench->irq.read());  // head 1 of layer 1 has no result
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kLayerReady), 0u);
    ASSERT_EQ(i.access(::tlm::TLM_WRITE_COMMAND, regs::head_base(1, 1) + regs::kCtrl, &start, 8),
              ::tlm::TLM_OK_RESPONSE);
    wait(bench->irq.posedge_event());
    EXPECT_NEAR(sc_core::sc_time_stamp().to_seconds() * 1e9, 165.0, 1e-9);
    EXPECT_EQ(i.read64(regs::kGlobalBase + regs::kIrqStatus), 2u);
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

}  // namespace

GCA_SC_MAIN
