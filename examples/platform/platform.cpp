// A minimal virtual platform around the accelerator: a CPU-like initiator of its own running a
// tiny driver written against the C register map (gca/spec/gca_regs.h), the accelerator at a
// base address of the platform's choosing, the interrupt wired to the CPU and a reset line.
// It loads the accelerator's parameters from the installed package, checks the block's identity
// with 32-bit accesses, runs a few tokens through every head of layer 0 (command-queue credits,
// interrupt completion) and prints one head's outputs. Exit status 0 when all went right.
#include <tlm_utils/simple_initiator_socket.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <systemc>
#include <tlm>
#include <vector>

#include "gca/sc/accelerator.hpp"
#include "gca/spec/gca_regs.h"
#include "gca/spec/params.hpp"

namespace {

constexpr std::uint64_t kAccelBase = 0x4000'0000;  // where this platform maps the accelerator

// The CPU: loosely timed, 32-bit register accesses, temporal decoupling with a local time.
struct Cpu : sc_core::sc_module {
  SC_HAS_PROCESS(Cpu);
  explicit Cpu(sc_core::sc_module_name n) : sc_module(n), bus("bus"), irq("irq") {
    SC_THREAD(firmware);
  }
  tlm_utils::simple_initiator_socket<Cpu> bus;
  sc_core::sc_in<bool> irq;
  int errors = 0;

  bool access(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(addr);
    p.set_data_ptr(static_cast<unsigned char*>(data));
    p.set_data_length(len);
    p.set_streaming_width(len);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    bus->b_transport(p, local_);
    if (!p.is_response_ok()) {
      std::fprintf(stderr, "bus error at 0x%llx: %s\n", static_cast<unsigned long long>(addr),
                   p.get_response_string().c_str());
      ++errors;
      return false;
    }
    return true;
  }
  std::uint32_t read32(std::uint64_t off) {
    std::uint32_t v = 0;
    access(tlm::TLM_READ_COMMAND, kAccelBase + off, &v, 4);
    return v;
  }
  void write32(std::uint64_t off, std::uint32_t v) {
    access(tlm::TLM_WRITE_COMMAND, kAccelBase + off, &v, 4);
  }
  void sync() {
    sc_core::wait(local_);
    local_ = sc_core::SC_ZERO_TIME;
  }

  // The driver.
  void firmware() {
    const std::uint32_t id = read32(GCA_HEAD_OFFSET(0, 0) + GCA_HEAD_ID);
    std::printf("layer 0 head 0 ID: 0x%08x (%s)\n", id, id == GCA_ID_VALUE ? "ok" : "WRONG");
    if (id != GCA_ID_VALUE) ++errors;
    const std::uint32_t layers = read32(GCA_GLOBAL_OFFSET + GCA_GLB_N_LAYERS);
    const std::uint32_t heads = read32(GCA_GLOBAL_OFFSET + GCA_GLB_N_HEADS);
    const std::uint32_t d = read32(GCA_HEAD_OFFSET(0, 0) + GCA_HEAD_D_HEAD);
    const std::uint32_t depth = read32(GCA_HEAD_OFFSET(0, 0) + GCA_HEAD_CMD_DEPTH);
    std::printf("%u layers x %u heads, d_head %u, command queue %u\n", layers, heads, d, depth);
    std::vector<double> k(d), v(d), q(d), out(d);
    for (int t = 0; t < 3; ++t) {
      for (std::uint32_t h = 0; h < heads; ++h) {
        for (std::uint32_t f = 0; f < d; ++f) {
          k[f] = 0.1 + 0.7 * ((f + h + t) % 8) / 7.0;
          v[f] = 0.1 + 0.7 * ((3 * f + t) % 8) / 7.0;
          q[f] = ((f * 5 + h) % 16) / 15.0;
        }
        const std::uint64_t head = GCA_HEAD_OFFSET(0, h);
        access(tlm::TLM_WRITE_COMMAND, kAccelBase + head + GCA_HEAD_K_BUF, k.data(), 8 * d);
        access(tlm::TLM_WRITE_COMMAND, kAccelBase + head + GCA_HEAD_V_BUF, v.data(), 8 * d);
        access(tlm::TLM_WRITE_COMMAND, kAccelBase + head + GCA_HEAD_Q_BUF, q.data(), 8 * d);
        // One token in flight per head (< CMD_DEPTH): the START is never refused.
        write32(head + GCA_HEAD_CTRL, GCA_HEAD_CTRL_START);
      }
      // Completion by interrupt: enable layer 0, wait for the line; the handler reads the cause
      // and disables the layer (the line falls) before reading the results.
      write32(GCA_GLOBAL_OFFSET + GCA_GLB_IRQ_ENABLE_SET_LO, 1u);
      sync();
      while (!irq.read()) sc_core::wait(irq.posedge_event());
      const std::uint32_t cause = read32(GCA_GLOBAL_OFFSET + GCA_GLB_IRQ_CAUSE);
      if (!(cause & GCA_GLB_IRQ_CAUSE_READY)) ++errors;
      write32(GCA_GLOBAL_OFFSET + GCA_GLB_IRQ_ENABLE_CLEAR_LO, 1u);
      sync();
      sc_core::wait(sc_core::SC_ZERO_TIME);  // the line follows the mask two delta cycles later
      sc_core::wait(sc_core::SC_ZERO_TIME);
      for (std::uint32_t h = 0; h < heads; ++h) {
        access(tlm::TLM_READ_COMMAND, kAccelBase + GCA_HEAD_OFFSET(0, h) + GCA_HEAD_OUT_BUF,
               out.data(), 8 * d);
        for (double o : out)
          if (!std::isfinite(o)) ++errors;
        if (h == 0)
          std::printf("t=%d at %s: head 0 out[0..3] = %.4f %.4f %.4f %.4f\n", t,
                      (sc_core::sc_time_stamp() + local_).to_string().c_str(), out[0], out[1],
                      out[2], out[3]);
      }
    }
    std::printf("%s\n", errors == 0 ? "platform: ok" : "platform: FAILED");
    sc_core::sc_stop();
  }

 private:
  sc_core::sc_time local_ = sc_core::SC_ZERO_TIME;
};

}  // namespace

int sc_main(int, char*[]) {
  // The installed parameter files: found next to the installed library (or $GCA_PARAMS_DIR).
  const gca::spec::HardwareSpec spec = gca::spec::load_spec(gca::spec::default_spec_path());
  gca::sc::AcceleratorOptions options;
  options.base_address = kAccelBase;
  gca::sc::Accelerator accelerator("accelerator", spec, options);
  Cpu cpu("cpu");
  sc_core::sc_signal<bool> irq("irq"), reset("reset");
  cpu.bus.bind(accelerator.socket);
  accelerator.irq.bind(irq);
  accelerator.reset.bind(reset);
  cpu.irq.bind(irq);
  sc_core::sc_start();
  return cpu.errors == 0 ? 0 : 1;
}
