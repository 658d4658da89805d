// What the hardware does, as the power model counts it: the four module groups of the
// paper's Fig. 5e and every action a module reports, with the module that books it, the phase
// at which it books it and what one unit of its amount is.
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace gca::power {

// The four module groups of the paper's Fig. 5e. Energy goes to the group of the module that
// books it (PowerTracker::register_module).
enum class Group : int { qk = 0, av = 1, digital = 2, dac = 3 };
constexpr std::size_t kGroupCount = 4;
constexpr std::array<Group, kGroupCount> kGroups = {Group::qk, Group::av, Group::digital,
                                                    Group::dac};
const char* group_name(Group g);  // "qk", "av", "digital", "dac"
// Parses a group name; throws gca::Error naming `what` otherwise.
Group parse_group(const std::string& name, const std::string& what = "group");

// Everything a module can report. token_actions() (energy_table.hpp) gives the amounts of one
// head's token; "per token" below means per head per token.
enum class Action : int {
  // K array of each active sub-tile (group qk), Q phase: charge its cells drew, in charge units
  // at charge_to_pulse.t_ref_ns: sum over cells of Q width x |g(k)|
  // (SubTileActivity::qk_read_charge).
  qk_cell_read = 0,
  // HardSigmoid bank of each active sub-tile (group qk), phi phase: K columns precharged,
  // converted and driving their V-array line (valid columns).
  qk_ctp,
  // HardSigmoid bank of each active sub-tile (group qk), phi phase: time its converters run,
  // in full-scale pulses (sum of the pulse widths in units of T_max): each converter's
  // reference current and comparator bias are switched off when its pulse ends.
  qk_ctp_pulse,
  // V array of each active sub-tile (group av), phi phase: charge its cells drew, as above
  // with the HardSigmoid widths (SubTileActivity::av_read_charge).
  av_cell_read,
  // Signed converter bank of each active sub-tile (group av), count phase: V output lines
  // precharged and converted (d per active sub-tile).
  av_ctp,
  // Signed converter bank of each active sub-tile (group av), count phase: time its converters
  // run, in full-scale pulses (sum of |output|), as for qk_ctp_pulse.
  av_ctp_pulse,
  // Counter bank of each active sub-tile (group digital), count phase: full-scale counts,
  // sum over outputs of |output| (each unit is counter_levels - 1 increments).
  counter_count,
  // Counter bank of each active sub-tile (group digital), count phase: counters clocked through
  // one count phase and loaded into their output register (d per active sub-tile).
  counter_clock,
  // Peripheral control of each head (group digital), at the digital phase: one per token (its
  // input registers load, the write pointer advances, the sequencer times the token's cycles).
  digital_active,
  // Adder tree of each head (group digital), digital phase: sub-tile outputs routed to the tree
  // and added (d per active sub-tile).
  digital_add,
  // Write DAC of K and of V (group dac), write phase: values converted and driven onto a write
  // bit line (d each: 2 d per token).
  dac_kv_conversion,
  // Q pulse generators of each head (group dac), Q phase: pulses generated and driven along a
  // read word line through every sub-tile (d per token).
  dac_q_pulse,
  // Write DAC of K and of V (group dac), write phase: gain cells written (2 d per token).
  cell_write,
  // Any module: static energy booked explicitly, mW x ns (1 mW for 1 ns = 1 pJ).
  static_time,
};
constexpr std::size_t kActionCount = 14;
const char* action_name(Action a);
// All actions in enum order.
const std::array<Action, kActionCount>& all_actions();

inline constexpr std::size_t index(Group g) {
  return static_cast<std::size_t>(g);
}
inline constexpr std::size_t index(Action a) {
  return static_cast<std::size_t>(a);
}

// Action amounts, indexed by index(Action).
using ActionCounts = std::array<double, kActionCount>;

}  // namespace gca::power
