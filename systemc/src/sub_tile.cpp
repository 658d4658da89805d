#include "gca/sc/sub_tile.hpp"

namespace gca::sc {

SubTile::SubTile(sc_core::sc_module_name name, int features, int columns, PowerFactory& power)
    : sc_module(name),
      k_array("k_array",
              power.child(this->name(), "k_array", power::Group::qk, {power::Action::qk_cell_read},
                          power.static_power().k_array_mw)),
      v_array("v_array",
              power.child(this->name(), "v_array", power::Group::av, {power::Action::av_cell_read},
                          power.static_power().v_array_mw)),
      hard_sigmoid("hard_sigmoid",
                   power.child(this->name(), "hard_sigmoid", power::Group::qk,
                               {power::Action::qk_ctp, power::Action::qk_ctp_pulse})),
      // The counters are digital logic: their energy belongs to the digital group.
      signed_ctp("signed_ctp",
                 power.child(this->name(), "signed_ctp", power::Group::av,
                             {power::Action::av_ctp, power::Action::av_ctp_pulse}),
                 power.child(this->name(), "signed_ctp.counter", power::Group::digital,
                             {power::Action::counter_count, power::Action::counter_clock},
                             power.static_power().counters_mw)),
      features_(features),
      columns_(columns) {}

bool SubTile::accounts(SubTileAccounts& out) const {
  using power::Action;
  const PowerPort* counter = &signed_ctp.counter.power();
  const power::PowerTracker::Account* a[] = {k_array.power().account(Action::qk_cell_read),
                                             hard_sigmoid.power().account(Action::qk_ctp),
                                             hard_sigmoid.power().account(Action::qk_ctp_pulse),
                                             v_array.power().account(Action::av_cell_read),
                                             signed_ctp.power().account(Action::av_ctp),
                                             signed_ctp.power().account(Action::av_ctp_pulse),
                                             counter->account(Action::counter_count),
                                             counter->account(Action::counter_clock)};
  for (const auto* p : a)
    if (!p) return false;
  out = SubTileAccounts{*a[0], *a[1], *a[2], *a[3], *a[4], *a[5], *a[6], *a[7]};
  return true;
}

SubTileBookings::SubTileBookings(const std::vector<const SubTile*>& subtiles,
                                 power::PowerTracker* tracker) {
  if (!tracker) return;
  accounts_.resize(subtiles.size());
  for (std::size_t s = 0; s < subtiles.size(); ++s) {
    if (!subtiles[s]->accounts(accounts_[s])) {
      accounts_.clear();
      return;
    }
  }
  tracker_ = tracker;
  ns_per_tick_ = PowerPort::ns_per_tick();
}

}  // namespace gca::sc
