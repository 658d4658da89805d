// The host's memory manager: transactions of the approximately-timed protocol are pooled,
// reference-counted payloads (TLM-2.0 base protocol rules), each carrying what the host needs to
// know of its progress.
#pragma once

#include <memory>
#include <systemc>
#include <tlm>
#include <vector>

namespace gca::tlm {

// A pooled payload with the host's view of its phases.
struct Request : ::tlm::tlm_generic_payload {
  explicit Request(::tlm::tlm_mm_interface* mm) : ::tlm::tlm_generic_payload(mm) {}
  bool end_request = false;  // END_REQ seen (or implied by the response)
  bool responded = false;    // BEGIN_RESP seen
  bool detached = false;     // nobody waits for the response: released when it comes
  sc_core::sc_time end_request_at, responded_at;
  sc_core::sc_event progress;  // any of the above changed
  void clear_progress() {
    end_request = responded = detached = false;
    end_request_at = responded_at = sc_core::SC_ZERO_TIME;
  }
};

class RequestPool : public ::tlm::tlm_mm_interface {
 public:
  // A request with one reference (the caller's).
  Request* allocate() {
    Request* r;
    if (free_.empty()) {
      all_.push_back(std::make_unique<Request>(this));
      r = all_.back().get();
    } else {
      r = free_.back();
      free_.pop_back();
    }
    r->clear_progress();
    r->acquire();
    return r;
  }
  void free(::tlm::tlm_generic_payload* p) override {
    auto* r = static_cast<Request*>(p);
    r->reset();
    free_.push_back(r);
  }
  std::size_t allocated() const { return all_.size(); }

 private:
  std::vector<std::unique_ptr<Request>> all_;
  std::vector<Request*> free_;
};

}  // namespace gca::tlm
