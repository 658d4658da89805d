#include "gca/power/power_tracker.hpp"

#include <algorithm>
#include <cmath>

#include "gca/spec/error.hpp"

namespace gca::power {

namespace {
// Bins beyond this many windows mean a time far outside any run (or a unit mistake).
constexpr std::size_t kMaxBins = 4096;  // power windows kept; wider windows beyond
}  // namespace

double EnergySnapshot::total_pj() const {
  double t = 0.0;
  for (double e : group_pj) t += e;
  return t;
}

GroupEnergies operator-(const EnergySnapshot& a, const EnergySnapshot& b) {
  GroupEnergies d{};
  for (std::size_t g = 0; g < kGroupCount; ++g) d[g] = a.group_pj[g] - b.group_pj[g];
  return d;
}

PowerTracker::PowerTracker(const EnergyTable& table, double window_ns, double reserve_ns)
    : table_(table), window_ns_(window_ns), inv_window_(0.0) {
  if (!(window_ns > 0.0) || !std::isfinite(window_ns)) {
    throw gca::Error("", "power.window_ns", "must be a positive number of ns");
  }
  inv_window_ = 1.0 / window_ns_;
  for (Action a : all_actions()) per_unit_pj_[index(a)] = table_.energy_pj(a);
  const double n = reserve_ns > 0.0 ? std::ceil(reserve_ns / window_ns_) + 1.0 : 1.0;
  bins_.reserve(static_cast<std::size_t>(std::min(n, double(kMaxBins))));
  bins_.resize(1);
}

int PowerTracker::register_module(std::string path, Group group) {
  std::array<std::int8_t, kActionCount> slot{};
  for (std::size_t a = 0; a < kActionCount; ++a) slot[a] = static_cast<std::int8_t>(a);
  return add_module(std::move(path), group, slot, static_cast<int>(kActionCount));
}

int PowerTracker::register_module(std::string path, Group group,
                                  std::initializer_list<Action> books) {
  std::array<std::int8_t, kActionCount> slot;
  slot.fill(-1);
  int booked = 0;
  for (Action a : books) {
    if (slot[index(a)] < 0) slot[index(a)] = static_cast<std::int8_t>(booked++);
  }
  return add_module(std::move(path), group, slot, booked);
}

int PowerTracker::add_module(std::string path, Group group,
                             const std::array<std::int8_t, kActionCount>& slot, int booked) {
  if (path.empty()) throw gca::Error("", "module", "empty module path");
  const int id = static_cast<int>(modules_.size());
  if (!ids_.emplace(path, id).second) throw gca::Error("", path, "module registered twice");
  Module m;
  m.path = std::move(path);
  m.group = group;
  m.book = static_cast<std::uint32_t>(dense_.size());
  m.slot = slot;
  m.static_since_ns = now_ns_;
  dense_.resize(dense_.size() + kFirstAmountWord + static_cast<std::size_t>(booked), 0.0);
  modules_.push_back(std::move(m));
  return id;
}

PowerTracker::Account PowerTracker::account(int id, Action a) const {
  const Module& m = module(id);
  const int s = m.slot[index(a)];
  if (s < 0) {
    throw gca::Error("", m.path,
                     std::string("books no ") + action_name(a) + " (registered without it)");
  }
  Account acc;
  acc.amount = m.book + kFirstAmountWord + static_cast<std::uint32_t>(s);
  acc.is_static = a == Action::static_time;
  acc.energy = m.book + (acc.is_static ? kStaticWord : kDynamicWord);
  acc.events = m.book + kEventsWord;
  acc.action = static_cast<std::uint8_t>(index(a));
  acc.group = static_cast<std::uint8_t>(index(m.group));
  return acc;
}

int PowerTracker::find_module(const std::string& path) const {
  const auto it = ids_.find(path);
  return it == ids_.end() ? -1 : it->second;
}

void PowerTracker::bad_module(int module) const {
  throw gca::Error("", "module",
                   "id " + std::to_string(module) + " is not registered (" +
                       std::to_string(modules_.size()) + " modules)");
}

const PowerTracker::Module& PowerTracker::module(int id) const {
  check_module(id);
  return modules_[static_cast<std::size_t>(id)];
}

std::size_t PowerTracker::grow_bins(std::size_t i) {
  // Memory must not grow with the length of a run: past kMaxBins windows, neighbouring windows
  // merge and the window length doubles (report.json gives the final length).
  while (i >= kMaxBins) {
    auto merge = [](std::vector<GroupEnergies>& b) {
      const std::size_t n = (b.size() + 1) / 2;
      for (std::size_t k = 0; k < n; ++k) {
        GroupEnergies e = b[2 * k];
        if (2 * k + 1 < b.size()) {
          for (std::size_t g = 0; g < kGroupCount; ++g) e[g] += b[2 * k + 1][g];
        }
        b[k] = e;
      }
      b.resize(n);
    };
    merge(bins_);
    merge(static_bins_);
    window_ns_ *= 2.0;
    inv_window_ = 1.0 / window_ns_;
    i /= 2;
  }
  if (i >= bins_.capacity())
    bins_.reserve(std::min(kMaxBins, std::max(i + 1, 2 * bins_.capacity())));
  bins_.resize(i + 1);
  return i;
}

void PowerTracker::spread_static(std::vector<GroupEnergies>& bins, Group g, double mw,
                                 double from_ns, double to_ns) const {
  if (!(mw != 0.0) || !(to_ns > from_ns)) return;
  std::size_t first = from_ns > 0.0 ? static_cast<std::size_t>(from_ns * inv_window_) : 0;
  std::size_t last = to_ns > 0.0 ? static_cast<std::size_t>(to_ns * inv_window_) : 0;
  if (last >= kMaxBins) last = kMaxBins - 1;
  if (bins.size() <= last) bins.resize(last + 1);
  for (std::size_t i = first; i <= last; ++i) {
    const double lo = std::max(from_ns, double(i) * window_ns_);
    const double hi = std::min(to_ns, double(i + 1) * window_ns_);
    if (hi > lo) bins[i][index(g)] += mw * (hi - lo);
  }
}

void PowerTracker::set_static_power(int module, double mw) {
  check_module(module);
  if (!std::isfinite(mw) || mw < 0.0) {
    throw gca::Error("", modules_[std::size_t(module)].path,
                     "static power must be a finite number of mW >= 0");
  }
  Module& m = modules_[static_cast<std::size_t>(module)];
  const std::size_t g = index(m.group);
  // Close the running segment at now.
  const double closed = m.static_mw * (now_ns_ - m.static_since_ns);
  m.static_closed_pj += closed;
  group_static_closed_pj_[g] += closed;
  spread_static(static_bins_, m.group, m.static_mw, m.static_since_ns, now_ns_);
  group_static_mw_[g] += mw - m.static_mw;
  group_static_mw_since_[g] += mw * now_ns_ - m.static_mw * m.static_since_ns;
  m.static_mw = mw;
  m.static_since_ns = now_ns_;
}

void PowerTracker::advance_to(double time_ns) {
  if (time_ns > now_ns_) now_ns_ = time_ns;
}

const std::string& PowerTracker::module_path(int id) const {
  return module(id).path;
}
Group PowerTracker::module_group(int id) const {
  return module(id).group;
}
long PowerTracker::module_events(int id) const {
  return static_cast<long>(dense_[module(id).book + kEventsWord]);
}
double PowerTracker::module_count(int id, Action a) const {
  const Module& m = module(id);
  const int s = m.slot[index(a)];
  return s < 0 ? 0.0 : dense_[m.book + kFirstAmountWord + static_cast<std::uint32_t>(s)];
}
double PowerTracker::module_dynamic_pj(int id) const {
  return dense_[module(id).book + kDynamicWord];
}
double PowerTracker::module_static_power_mw(int id) const {
  return module(id).static_mw;
}

double PowerTracker::module_static_pj(int id) const {
  const Module& m = module(id);
  return dense_[m.book + kStaticWord] + m.static_closed_pj +
         m.static_mw * (now_ns_ - m.static_since_ns);
}

double PowerTracker::group_energy_pj(Group g) const {
  const std::size_t i = index(g);
  return group_dynamic_pj_[i] + group_static_recorded_pj_[i] + group_static_closed_pj_[i] +
         (group_static_mw_[i] * now_ns_ - group_static_mw_since_[i]);
}

EnergySnapshot PowerTracker::snapshot() const {
  EnergySnapshot s;
  s.time_ns = now_ns_;
  for (Group g : kGroups) s.group_pj[index(g)] = group_energy_pj(g);
  return s;
}

EnergyTotals PowerTracker::totals() const {
  EnergyTotals t;
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    const int id = static_cast<int>(i);
    const std::size_t g = index(modules_[i].group);
    const double dyn = module_dynamic_pj(id), st = module_static_pj(id);
    t.dynamic_pj[g] += dyn;
    t.static_pj[g] += st;
    t.group_pj[g] += dyn + st;
    t.dynamic_total_pj += dyn;
    t.static_total_pj += st;
    t.total_pj += module_energy_pj(id);
  }
  return t;
}

ActionCounts PowerTracker::action_counts() const {
  ActionCounts c{};
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    for (Action a : all_actions()) c[index(a)] += module_count(static_cast<int>(i), a);
  }
  return c;
}

std::vector<PowerWindow> PowerTracker::windows() const {
  std::vector<GroupEnergies> bins = bins_;
  const std::size_t last = now_ns_ > 0.0 ? static_cast<std::size_t>(now_ns_ * inv_window_) : 0;
  if (bins.size() <= last) bins.resize(last + 1);
  for (std::size_t i = 0; i < static_bins_.size(); ++i) {
    if (bins.size() <= i) bins.resize(i + 1);
    for (std::size_t g = 0; g < kGroupCount; ++g) bins[i][g] += static_bins_[i][g];
  }
  for (const Module& m : modules_)
    spread_static(bins, m.group, m.static_mw, m.static_since_ns, now_ns_);
  // A run that ends exactly on a window boundary has no time in the next window; drop it if
  // nothing was booked there.
  while (bins.size() > 1 && double(bins.size() - 1) * window_ns_ >= now_ns_) {
    const GroupEnergies& b = bins.back();
    bool empty = true;
    for (double e : b) empty = empty && e == 0.0;
    if (!empty) break;
    bins.pop_back();
  }
  std::vector<PowerWindow> out(bins.size());
  for (std::size_t i = 0; i < bins.size(); ++i) {
    PowerWindow& w = out[i];
    w.start_ns = double(i) * window_ns_;
    w.length_ns = window_ns_;
    w.energy_pj = bins[i];
    for (std::size_t g = 0; g < kGroupCount; ++g) {
      w.avg_mw[g] = w.energy_pj[g] / window_ns_;
      w.total_energy_pj += w.energy_pj[g];
    }
    w.total_avg_mw = w.total_energy_pj / window_ns_;
  }
  return out;
}

}  // namespace gca::power
