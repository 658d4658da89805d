#include "gca/sc/attention_head.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "gca/sc/numerics_ahead.hpp"
#include "gca/spec/error.hpp"

namespace gca::sc {

using sc_core::sc_time_stamp;

AttentionHead::AttentionHead(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                             PowerFactory& power, spec::TaskPool* pool, int head_index)
    : sc_module(name),
      TraceSource("out"),
      control("control", spec,
              power.child(this->name(), "control", power::Group::digital,
                          {power::Action::digital_active}, power.static_power().control_mw)),
      write_port("write_port", power),
      q_pulses("q_pulses", std::make_shared<spec::CircuitModel>(spec),
               power.child(this->name(), "q_pulses", power::Group::dac,
                           {power::Action::dac_q_pulse}, power.static_power().q_pulses_mw)),
      adder("adder", power.child(this->name(), "adder", power::Group::digital,
                                 {power::Action::digital_add})),
      spec_(&spec),
      d_(spec.model.d_head),
      head_index_(head_index),
      pool_(pool),
      model_(std::make_unique<spec::HeadModel>(spec, head_index)),
      power_(&power),
      k_in_(d_, 0.0),
      v_in_(d_, 0.0),
      q_in_(d_, 0.0),
      head_actions_(power::head_actions(spec)),
      subtile_actions_(static_cast<std::size_t>(spec.subtiles_per_head())) {
  queue_depth_ = static_cast<std::size_t>(std::max(1, spec.registers.command_queue));
  for (Stage* s : {&analog_, &digital_}) sized(*s, d_);
  build_subtiles();
  control.attach(*this);
}

void AttentionHead::sized(Stage& s, int d) {
  s.q.assign(d, 0.0);
  s.k.assign(d, 0.0);
  s.v.assign(d, 0.0);
  s.out.assign(d, 0.0);
}

void AttentionHead::build_subtiles() {
  const spec::WindowTiling& tiling = model_->tiling();
  subtiles.reserve(tiling.subtiles);
  for (int s = 0; s < tiling.subtiles; ++s) {
    const std::string n = "subtile" + std::to_string(s);
    subtiles.push_back(std::make_unique<SubTile>(n.c_str(), d_, tiling.width(s), *power_));
  }
  std::vector<const SubTile*> tiles;
  for (const auto& s : subtiles) tiles.push_back(s.get());
  bookings_ = SubTileBookings(tiles, power_->tracker());
}

void AttentionHead::start_of_simulation() {
  subtiles_traced_ = false;
  for (const auto& s : subtiles) subtiles_traced_ = subtiles_traced_ || s->traced();
  model_->keep_views(views_needed());
}

double* AttentionHead::input(InputBuffer which) {
  return const_cast<double*>(static_cast<const AttentionHead*>(this)->input(which));
}

const double* AttentionHead::input(InputBuffer which) const {
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

bool AttentionHead::start() {
  if (input_full()) return false;
  Stage entry;
  if (!spare_stages_.empty()) {
    entry = std::move(spare_stages_.back());
    spare_stages_.pop_back();
  } else {
    sized(entry, d_);
  }
  std::copy(k_in_.begin(), k_in_.end(), entry.k.begin());
  std::copy(v_in_.begin(), v_in_.end(), entry.v.begin());
  std::copy(q_in_.begin(), q_in_.end(), entry.q.begin());
  entry.token = started_++;
  entry.times = TokenTimes{};
  entry.times.token = entry.token;
  entry.times.arrival = sc_time_stamp();
  queue_.push_back(std::move(entry));
  input_latched_.notify(sc_core::SC_ZERO_TIME);
  return true;
}

long AttentionHead::take_input() {
  std::swap(queue_.front(), analog_);
  spare_stages_.push_back(std::move(queue_.front()));
  queue_.pop_front();
  input_space_.notify(sc_core::SC_ZERO_TIME);
  analog_.times.write_start = sc_time_stamp();
  write_port.write(head_actions_);
  if (ahead_) {
    ahead_->taken(head_index_, analog_.token);
    return analog_.token;
  }
  // The token's numerics (write of its column, reads of every sub-tile) run now, off the
  // simulation thread; they are joined at the end of the Q phase, before anything uses them.
  // The token is written and read at this time (the few ns between write and read are
  // negligible against a retention time of milliseconds).
  const double now_ns = sc_time_stamp().to_seconds() * 1e9;
  Stage& a = analog_;
  spec::HeadModel& m = *model_;
  auto work = [&a, &m, now_ns] {
    m.step(a.q.data(), a.k.data(), a.v.data(), a.out.data(), now_ns);
  };
  if (pool_) {
    numerics_ = pool_->fork(work);
  } else {
    work();
  }
  return analog_.token;
}

void AttentionHead::q_phase_begins(long) {
  analog_.times.q_start = sc_time_stamp();
  q_pulses.generate(analog_.q.data(), d_, head_actions_[power::index(power::Action::dac_q_pulse)]);
}

bool AttentionHead::numerics_ahead_possible() const {
  if (capture_ || model_->circuits().retention.enabled()) return false;
  for (const auto& s : subtiles)
    if (s->traced()) return false;
  return true;
}

void AttentionHead::ahead_inputs(long token, double** q, double** k, double** v) {
  AheadRecord& r = ahead_records_[token & 1];
  for (auto* x : {&r.q, &r.k, &r.v, &r.out}) x->resize(std::size_t(d_));
  *q = r.q.data(), *k = r.k.data(), *v = r.v.data();
}

void AttentionHead::compute_ahead(long token, const double* q, const double* k, const double* v) {
  AheadRecord& r = ahead_records_[token & 1];  // sized by ahead_inputs, called first
  model_->step(q, k, v, r.out.data());         // time does not enter: the nominal clock
  r.activity.resize(subtiles.size());
  for (std::size_t s = 0; s < subtiles.size(); ++s)
    r.activity[s] = model_->subtile_activity(static_cast<int>(s));
  r.refresh = model_->refresh_activity();
  r.token = token;
}

void AttentionHead::numerics_joined() {
  if (!ahead_) {
    if (pool_) pool_->join(numerics_);
    numerics_.reset();
    activity_ = &model_->subtile_activity(0);
    refresh_ = &model_->refresh_activity();
    return;
  }
  ahead_->wait(head_index_, analog_.token);
  const AheadRecord& r = ahead_records_[analog_.token & 1];
  const std::size_t bytes = sizeof(double) * std::size_t(d_);
  if (r.token != analog_.token || std::memcmp(r.q.data(), analog_.q.data(), bytes) != 0 ||
      std::memcmp(r.k.data(), analog_.k.data(), bytes) != 0 ||
      std::memcmp(r.v.data(), analog_.v.data(), bytes) != 0) {
    throw Error(name(), "numerics ahead",
                "token " + std::to_string(analog_.token) +
                    ": the inputs the registers latched differ from those computed ahead (the "
                    "platform's input function is not the host's)");
  }
  std::copy(r.out.begin(), r.out.end(), analog_.out.begin());
  activity_ = r.activity.data();
  refresh_ = &r.refresh;
}

void AttentionHead::q_phase_ends(long) {
  numerics_joined();
  // What each sub-tile's modules book for this token: the one mapping of power/.
  analog_.adds = 0.0;
  const double now_ns = bookings_.now_ns();
  for (std::size_t s = 0; s < subtiles.size(); ++s) {
    if (!subtile_active(s)) continue;
    subtile_actions_[s] = power::subtile_actions(activity_[s], *spec_);
    analog_.adds += subtile_actions_[s][power::index(power::Action::digital_add)];
    bookings_.q_phase_done(s, subtile_actions_[s], now_ns);
  }
}

void AttentionHead::phi_phase_begins(long) {
  analog_.times.phi_start = sc_time_stamp();
  if (!subtiles_traced_) return;
  const int cols = model_->tiling().cols;
  for (std::size_t s = 0; s < subtiles.size(); ++s) {
    const int i = static_cast<int>(s);
    if (model_->subtile_active(i) && subtiles[s]->hard_sigmoid.traced())
      subtiles[s]->phi_phase_starts(model_->phi().data() + i * cols);
  }
}

void AttentionHead::phi_phase_ends(long) {
  const double now_ns = bookings_.now_ns();
  for (std::size_t s = 0; s < subtiles.size(); ++s) {
    if (subtile_active(s)) bookings_.phi_phase_done(s, subtile_actions_[s], now_ns);
  }
}

void AttentionHead::count_phase_begins(long) {
  analog_.times.count_start = sc_time_stamp();
}

void AttentionHead::count_phase_ends(long) {
  analog_.times.count_end = sc_time_stamp();
  const double now_ns = bookings_.now_ns();
  for (std::size_t s = 0; s < subtiles.size(); ++s) {
    if (!subtile_active(s)) continue;
    bookings_.count_phase_done(s, subtile_actions_[s], now_ns);
    if (subtiles_traced_) subtiles[s]->counted(model_->subtile_output(static_cast<int>(s)));
  }
}

void AttentionHead::hand_to_digital(long token) {
  if (ahead_) ahead_->released(head_index_, token);
  std::swap(analog_, digital_);
  if (capture_) {
    digital_.scores = model_->scores();
    digital_.phi = model_->phi();
  }
}

void AttentionHead::digital_phase_begins(long) {
  digital_.times.digital_start = sc_time_stamp();
}

void AttentionHead::digital_phase_ends(long token) {
  adder.sum(digital_.adds);
  if (token == fault_.token && fault_.feature >= 0 && fault_.feature < d_)
    digital_.out[static_cast<std::size_t>(fault_.feature)] += fault_.delta;
}

void AttentionHead::deliver(long) {
  HeadResult r;
  if (!spare_.empty()) {
    r = std::move(spare_.back());
    spare_.pop_back();
  }
  r.token = digital_.token;
  r.times = digital_.times;
  r.times.done = sc_time_stamp();
  r.out.assign(digital_.out.begin(), digital_.out.end());
  if (capture_) {
    r.scores.swap(digital_.scores);
    r.phi.swap(digital_.phi);
  }
  last_times_ = r.times;
  trace_values(r.out.data(), d_);
  results_.push_back(std::move(r));
  result_ready_.notify(sc_core::SC_ZERO_TIME);
  if (results_.size() == 1 && on_output_change) on_output_change();
}

void AttentionHead::pop() {
  if (results_.empty()) return;
  if (result_observer) result_observer(results_.front());
  spare_.push_back(std::move(results_.front()));
  results_.pop_front();
  output_space_.notify(sc_core::SC_ZERO_TIME);
  if (results_.empty() && on_output_change) on_output_change();
}

// Refresh (docs/retention.md): the columns the policy rewrote from the shadow copy go through the
// write port after the count phase, one write time each.
double AttentionHead::refresh_ns() const {
  return refresh_->columns * spec_->timing.write_ns;
}

void AttentionHead::refresh_done(long) {
  const double cells = static_cast<double>(refresh_->cells);
  write_port.k_dac.convert(0.5 * cells, 0.5 * cells);
  write_port.v_dac.convert(0.5 * cells, 0.5 * cells);
}

bool AttentionHead::delivery_due_now() const {
  if (!control.digital_busy() || output_full()) return false;
  const sc_core::sc_time due = digital_.times.digital_start +
                               sc_core::sc_time(spec_->timing.phase_digital_ns, sc_core::SC_NS);
  return due <= sc_time_stamp();
}

void AttentionHead::reset() {
  // Ahead, the model has already taken the next token: a reset cannot take it back.
  if (ahead_) throw Error(name(), "reset", "a head whose numerics run ahead cannot be reset");
  if (pool_) pool_->join(numerics_);  // the abandoned token's numerics may still run
  numerics_.reset();
  while (!queue_.empty()) {
    spare_stages_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  control.abort();  // after the queue is empty: the restarted stages find nothing to take
  const bool had_results = !results_.empty();
  while (!results_.empty()) {
    spare_.push_back(std::move(results_.front()));
    results_.pop_front();
  }
  model_ = std::make_unique<spec::HeadModel>(*spec_, head_index_);
  model_->keep_views(views_needed());
  started_ = 0;
  ++resets_;
  overflow_ = false;
  last_times_ = TokenTimes{};
  input_space_.notify(sc_core::SC_ZERO_TIME);
  output_space_.notify(sc_core::SC_ZERO_TIME);
  reset_done_.notify(sc_core::SC_ZERO_TIME);
  if (had_results && on_output_change) on_output_change();
}

}  // namespace gca::sc
