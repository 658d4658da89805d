// The register map of rtl_spec/REGISTER_MAP.md through the router: reads, writes, a token
// started and read back, and the error responses.
#include <tlm_utils/simple_initiator_socket.h>
#include <cstring>

#include "gca/spec/head_model.hpp"
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
        router("router", spec.model.n_layers, spec.model.n_heads),
        init("initiator", std::move(body)) {
    init.socket.bind(router.target);
    for (int l = 0; l < spec.model.n_layers; ++l)
      for (int h = 0; h < spec.model.n_heads; ++h) {
        targets.push_back(std::make_unique<gtlm::HeadTarget>(
            ("t" + std::to_string(l) + "_" + std::to_string(h)).c_str(), acc.head(l, h)));
        router.to_head(l, h).bind(targets.back()->socket);
      }
  }
  spec::HardwareSpec spec;
  sc::Accelerator acc;
  gtlm::Router router;
  Initiator init;
  std::vector<std::unique_ptr<gtlm::HeadTarget>> targets;
};

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

TEST(Registers, TokenThroughTheRegistersEqualsTheSpec) {
  GCA_REQUIRE_FRESH_KERNEL();
  spec::HardwareSpec s = spec::load_spec(spec::default_spec_path(), kSmall);
  spec::HeadModel ref(s);
  Bench b(kSmall, [&](Initiator& i) {
    const std::uint64_t base = regs::head_base(1, 0);
    for (int t = 0; t < 5; ++t) {
      double q[4], k[4], v[4], out[4], want[4];
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
      EXPECT_EQ(i.read64(base + regs::kOutPending), 1u);
      const sc_core::sc_time before = i.local;
      ASSERT_EQ(i.access(::tlm::TLM_READ_COMMAND, base + regs::kOutBuf, out, 32),
                ::tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(i.local - before, sc_core::sc_time(65, sc_core::SC_NS));  // read waits for done
      ref.step(q, k, v, want);
      for (int f = 0; f < 4; ++f) EXPECT_DOUBLE_EQ(out[f], want[f]) << "t=" << t << " f=" << f;
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
    // No result to read.
    EXPECT_EQ(rd(regs::head_base(0, 0) + regs::kOutBuf, buf, 32),
              ::tlm::TLM_GENERIC_ERROR_RESPONSE);
    // The output FIFO holds 16 results: the 17th START is refused.
    std::uint64_t start = regs::kCtrlStart;
    for (int t = 0; t < 16; ++t)
      EXPECT_EQ(wr(regs::head_base(0, 1) + regs::kCtrl, &start, 8), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read64(regs::head_base(0, 1) + regs::kStatus) & regs::kStatusFull,
              regs::kStatusFull);
    EXPECT_EQ(wr(regs::head_base(0, 1) + regs::kCtrl, &start, 8),
              ::tlm::TLM_GENERIC_ERROR_RESPONSE);
    // RESET empties the window and the FIFO.
    std::uint64_t reset = regs::kCtrlReset;
    EXPECT_EQ(wr(regs::head_base(0, 1) + regs::kCtrl, &reset, 8), ::tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(i.read64(regs::head_base(0, 1) + regs::kOutPending), 0u);
    EXPECT_EQ(i.read64(regs::head_base(0, 1) + regs::kTokenCount), 0u);
  });
  sc_core::sc_start();
}

}  // namespace

GCA_SC_MAIN
