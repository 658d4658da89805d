#include "gca/sc/attention_head.hpp"

#include <algorithm>
#include <string>

namespace gca::sc {

AttentionHead::AttentionHead(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                             std::shared_ptr<const spec::CircuitModel> circuits,
                             PowerFactory& power, int head_index)
    : sc_module(name),
      TraceSource("out"),
      control(
          "control", spec,
          power.child(this->name(), "control", power::Group::digital, power.digital_static_mw())),
      write_port("write_port", spec.model.d_head, power),
      q_pulses("q_pulses", *circuits, power.child(this->name(), "q_pulses", power::Group::dac)),
      adder("adder", power.child(this->name(), "adder", power::Group::digital)),
      spec_(&spec),
      circuits_(std::move(circuits)),
      tiling_(spec.window, spec.array.cols),
      d_(spec.model.d_head),
      power_(&power),
      k_in_(d_, 0.0),
      v_in_(d_, 0.0),
      q_in_(d_, 0.0),
      q_pulse_(d_),
      scores_(spec.window, 0.0f),
      phi_(spec.window, 0.0f),
      o_(std::size_t(tiling_.subtiles) * d_, 0.0),
      head_index_(head_index) {
  build_subtiles();
}

void AttentionHead::build_subtiles() {
  subtiles.reserve(tiling_.subtiles);
  for (int s = 0; s < tiling_.subtiles; ++s) {
    const std::string n = "subtile" + std::to_string(s);
    subtiles.push_back(
        std::make_unique<SubTile>(n.c_str(), *circuits_, d_, tiling_.width(s), *power_,
                                  spec::ArrayPlace{head_index_, s, s * tiling_.cols}));
  }
}

double* AttentionHead::input(InputBuffer which) {
  switch (which) {
    case InputBuffer::k:
      return k_in_.data();
    case InputBuffer::v:
      return v_in_.data();
    case InputBuffer::q:
      return q_in_.data();
  }
  return nullptr;
}

bool AttentionHead::start(const sc_core::sc_time& arrival) {
  settle();  // the previous token reads the arrays before this one writes them
  if (results_.size() >= kOutputFifoDepth) return false;
  const long t = tokens_++;
  const int slot = tiling_.slot_of_token(t);
  SubTile& target = *subtiles[tiling_.subtile_of_slot(slot)];

  const TokenSchedule sched = control.schedule(t, arrival);
  write_port.write(target, tiling_.column_of_slot(slot), k_in_.data(), v_in_.data(), t,
                   sched.write_start);
  // Refresh policy after the write, at the token's time; rewrites cost DAC conversions and
  // cell writes like a token's write (their time is not modelled yet).
  last_refresh_ = spec::RefreshActivity{};
  for (auto& st : subtiles) last_refresh_.add(st->refresh(sched.write_start.to_seconds() * 1e9, t));
  if (last_refresh_.columns > 0) {
    write_port.k_dac.convert(last_refresh_.columns * d_, sched.write_start);
    write_port.v_dac.convert(last_refresh_.columns * d_, sched.write_start);
  }
  pending_q_sum_ = q_pulses.generate(q_in_.data(), d_, q_pulse_.data(), sched.q_start);

  HeadResult r;
  if (!spare_.empty()) {
    r = std::move(spare_.back());
    spare_.pop_back();
  }
  r.token = t;
  r.schedule = sched;
  r.out.assign(d_, 0.0);
  results_.push_back(std::move(r));
  last_schedule_ = sched;
  last_done_ = sched.done;
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  done_events.notify(sched.done > now ? sched.done - now : sc_core::SC_ZERO_TIME);
  pending_ = true;
  if (!batch_flush_) complete();
  return true;
}

void AttentionHead::complete() {
  if (!pending_) return;
  pending_ = false;
  HeadResult& r = results_.back();
  const TokenSchedule& sched = r.schedule;
  const long t = r.token;
  const float q_sum = pending_q_sum_;
  int active = 0;
  for (int s = 0; s < tiling_.subtiles; ++s) {
    const int base = s * tiling_.cols;
    double* o = o_.data() + std::size_t(s) * d_;
    if (!subtiles[s]->compute(q_pulse_.data(), q_sum, t, sched, scores_.data() + base,
                              phi_.data() + base, o)) {
      continue;
    }
    ++active;
    for (int f = 0; f < d_; ++f) r.out[f] += o[f];
  }
  adder.account(active, d_, sched.digital_start);
  const spec::Affine& out_scaler = circuits_->scalers.out;
  if (!out_scaler.identity()) {
    for (double& x : r.out) x = out_scaler.apply(x);
  }
  if (capture_) {
    r.scores = scores_;
    r.phi = phi_;
  }
}

void AttentionHead::pop() {
  settle();
  const HeadResult& r = results_.front();
  trace_values(r.schedule.done, r.out.data(), d_);
  if (result_observer) result_observer(r);
  spare_.push_back(std::move(results_.front()));
  results_.pop_front();
}

void AttentionHead::reset() {
  settle();
  while (!results_.empty()) pop();
  for (auto& st : subtiles) st->clear();
  tokens_ = 0;
  std::fill(scores_.begin(), scores_.end(), 0.0f);
  std::fill(phi_.begin(), phi_.end(), 0.0f);
}

}  // namespace gca::sc
