#include "gca/traces/vcd_tracer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <system_error>
#include <systemc>
#include <thread>

#include "gca/spec/error.hpp"

namespace gca::traces {

namespace {

using sc_core::sc_object;
using sc_core::sc_time;

constexpr int kPowerSignals = static_cast<int>(power::kGroupCount) + 1;  // groups + total

void check_indices(const std::vector<int>& indices, int count, const char* key, const char* what) {
  std::vector<bool> seen(static_cast<std::size_t>(std::max(count, 0)), false);
  for (int i : indices) {
    const std::string item = std::string(what) + " " + std::to_string(i);
    if (i < 0 || i >= count) {
      throw Error("", key,
                  item + " is out of range 0.." + std::to_string(count - 1) + " (" +
                      std::to_string(count) + " " + what + (count == 1 ? ")" : "s)"));
    }
    if (seen[static_cast<std::size_t>(i)]) throw Error("", key, item + " is listed twice");
    seen[static_cast<std::size_t>(i)] = true;
  }
}

// The values of the model in float (pulse widths) as the shortest decimal that reads back as
// the same float: the trace shows 0.2 rather than 0.2000000029802322.
double as_double(float f) {
  char buf[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return std::strtod(buf, nullptr);
}
double as_double(double d) {
  return d;
}

// A value as a VCD value change without its identifier: "1" (scalar), "b101 ", "r0.25 ".
std::string vcd_value(bool v) {
  return v ? "1" : "0";
}
std::string vcd_value(int v) {
  const auto u = static_cast<std::uint32_t>(v);
  std::string bits;
  for (int b = 31; b >= 0; --b) {
    if (!bits.empty() || ((u >> b) & 1u) != 0) bits += ((u >> b) & 1u) != 0 ? '1' : '0';
  }
  return "b" + (bits.empty() ? std::string("0") : bits) + " ";
}
std::string vcd_value(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "r%.16g ", v);
  return buf;
}

// Traces `obj` if it is a signal of value type T; records how to print its current value.
template <class T>
bool trace_signal(sc_core::sc_trace_file* file, sc_object* obj, const std::string& name,
                  std::vector<std::function<std::string()>>& values) {
  const auto* s = dynamic_cast<const sc_core::sc_signal_in_if<T>*>(obj);
  if (s == nullptr) return false;
  sc_core::sc_trace(file, *s, name);
  values.push_back([s] { return vcd_value(s->read()); });
  return true;
}

// Identifiers of the variables declared in a VCD header, by dotted name below the top scope
// (SystemC's "SystemC").
std::map<std::string, std::string> vcd_identifiers(const std::string& path) {
  std::map<std::string, std::string> ids;
  std::ifstream in(path);
  std::vector<std::string> scopes;
  std::string tok;
  while (in >> tok && tok != "$enddefinitions") {
    if (tok == "$scope") {
      std::string kind, name;
      in >> kind >> name;
      scopes.push_back(name);
    } else if (tok == "$upscope") {
      if (!scopes.empty()) scopes.pop_back();
    } else if (tok == "$var") {
      std::string type, size, id, ref;
      in >> type >> size >> id >> ref;
      std::string name;
      for (std::size_t i = 1; i < scopes.size(); ++i) name += scopes[i] + ".";
      ids[name + ref] = id;
    }
  }
  return ids;
}

// A module exposing traced values, found by the walk.
struct FoundSource {
  sc::TraceSource* source;
  std::string prefix;  // VCD name of the module
  int width;           // values traced
  bool head;           // a head: its outputs also sample the energy
};

// Depth-first walk of a selected head: traces every signal found (the peripheral control's),
// switches on the control's replay, and collects the modules that expose traced values. Skips
// the sub-tiles that are not selected.
class HierarchyWalk {
 public:
  HierarchyWalk(sc_core::sc_trace_file* file, const sc::Accelerator& acc, int columns,
                std::vector<std::string>& names, std::vector<std::function<std::string()>>& values)
      : file_(file),
        strip_(std::string(acc.name()).size() - std::string(acc.basename()).size()),
        columns_(columns),
        d_head_(acc.spec().model.d_head),
        names_(names),
        values_(values) {}

  void visit_head(sc::AttentionHead& head, const std::vector<int>& subtiles) {
    selected_.clear();
    for (int s : subtiles) selected_.push_back(head.subtiles[static_cast<std::size_t>(s)].get());
    visit(&head, d_head_);
  }
  std::vector<FoundSource> sources;

 private:
  // `columns_here`: columns of the enclosing sub-tile (bounds the HardSigmoid widths).
  void visit(sc_object* obj, int columns_here) {
    if (const auto* st = dynamic_cast<const sc::SubTile*>(obj)) {
      if (std::find(selected_.begin(), selected_.end(), st) == selected_.end()) return;
      columns_here = st->columns();
    }
    if (auto* control = dynamic_cast<sc::PeripheralControl*>(obj)) control->enable_trace();
    // VCD name: the hierarchical name from the accelerator down.
    const std::string name = std::string(obj->name()).substr(strip_);
    if (trace_signal<int>(file_, obj, name, values_) ||
        trace_signal<bool>(file_, obj, name, values_) ||
        trace_signal<double>(file_, obj, name, values_)) {
      names_.push_back(name);
      return;
    }
    if (auto* src = dynamic_cast<sc::TraceSource*>(obj)) {
      const int limit = dynamic_cast<const sc::ChargeToPulse*>(obj) ? columns_here : d_head_;
      const bool head = dynamic_cast<const sc::AttentionHead*>(obj) != nullptr;
      sources.push_back(FoundSource{src, name, std::min(columns_, limit), head});
    }
    for (sc_object* child : obj->get_child_objects()) visit(child, columns_here);
  }

  sc_core::sc_trace_file* file_;
  std::size_t strip_;  // length of the accelerator's parent prefix ("system.")
  int columns_;
  int d_head_;
  std::vector<std::string>& names_;
  std::vector<std::function<std::string()>>& values_;
  std::vector<const sc::SubTile*> selected_;
};

std::string strip_vcd_suffix(const std::string& path) {
  const std::string ext = ".vcd";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    return path.substr(0, path.size() - ext.size());
  }
  return path;
}

}  // namespace

void validate(const TraceSelection& sel, const sc::Accelerator& acc) {
  const spec::HardwareSpec& s = acc.spec();
  check_indices(sel.layers, acc.n_layers(), "trace.layers", "layer");
  check_indices(sel.heads, acc.n_heads(), "trace.heads", "head");
  check_indices(sel.subtiles, s.subtiles_per_head(), "trace.subtiles", "sub-tile");
  const int max_columns = std::max(s.model.d_head, s.array.cols);
  if (sel.columns < 0 || sel.columns > max_columns) {
    throw Error("", "trace.columns",
                std::to_string(sel.columns) + " is out of range 0.." + std::to_string(max_columns));
  }
}

// Signals of the values the modules hand to their trace sinks, and the SC_METHOD that writes
// them at the times they were recorded for (the recording happens ahead of kernel time under
// temporal decoupling; a time already past is applied at once).
class VcdTracer::Replay : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Replay);
  // One channel of `widths[c]` signals per entry.
  Replay(sc_core::sc_module_name name, const std::vector<int>& widths) : sc_module(name) {
    channels_.resize(widths.size());
    for (std::size_t c = 0; c < widths.size(); ++c) {
      for (int i = 0; i < widths[c]; ++i) {
        const std::string n = "c" + std::to_string(c) + "_" + std::to_string(i);
        channels_[c].push_back(std::make_unique<sc_core::sc_signal<double>>(n.c_str(), 0.0));
      }
    }
    SC_METHOD(apply);
    sensitive << wake_;
    dont_initialize();
  }
  const sc_core::sc_signal<double>& signal(int channel, int i) const {
    return *channels_[static_cast<std::size_t>(channel)][static_cast<std::size_t>(i)];
  }
  // The energy signals are sampled at the end of the time step in which a head delivers an
  // output, once every module has booked what it spent at that time: cumulative energy shown at
  // time t is then the energy of everything up to t, and never decreases.
  void sample_power_later(int channel, const power::PowerTracker* tracker) {
    power_channel_ = channel;
    power_tracker_ = tracker;
    power_pending_ = true;
    wake_.notify(sc_core::SC_ZERO_TIME);
  }
  template <class T>
  void post(int channel, const sc_time& at, const T* values, int n) {
    std::vector<double> v;
    if (!spare_.empty()) {
      v = std::move(spare_.back());
      spare_.pop_back();
    }
    v.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = as_double(values[i]);
    pending_.emplace(at, Update{channel, std::move(v)});
    const sc_time now = sc_core::sc_time_stamp();
    const sc_time first = pending_.begin()->first;
    wake_.notify(first > now ? first - now : sc_core::SC_ZERO_TIME);
  }

 private:
  struct Update {
    int channel;
    std::vector<double> values;
  };
  void apply() {
    const sc_time now = sc_core::sc_time_stamp();
    if (power_pending_) {
      if (sc_core::sc_pending_activity_at_current_time()) {
        wake_.notify(sc_core::SC_ZERO_TIME);  // more happens at this time: sample after it
      } else {
        power_pending_ = false;
        std::array<double, kPowerSignals> e{};
        for (power::Group g : power::kGroups) {
          e[power::index(g)] = power_tracker_->group_energy_pj(g);
          e[power::kGroupCount] += e[power::index(g)];
        }
        auto& signals = channels_[static_cast<std::size_t>(power_channel_)];
        for (std::size_t i = 0; i < signals.size(); ++i) signals[i]->write(e[i]);
      }
    }
    while (!pending_.empty() && pending_.begin()->first <= now) {
      Update& u = pending_.begin()->second;
      auto& signals = channels_[static_cast<std::size_t>(u.channel)];
      for (std::size_t i = 0; i < u.values.size() && i < signals.size(); ++i) {
        signals[i]->write(u.values[i]);
      }
      spare_.push_back(std::move(u.values));
      pending_.erase(pending_.begin());
    }
    if (!pending_.empty()) wake_.notify(pending_.begin()->first - now);
  }

  std::vector<std::vector<std::unique_ptr<sc_core::sc_signal<double>>>> channels_;
  std::multimap<sc_time, Update> pending_;  // equal times keep their order
  const power::PowerTracker* power_tracker_ = nullptr;
  int power_channel_ = -1;
  bool power_pending_ = false;
  std::vector<std::vector<double>> spare_;  // recycled value buffers
  sc_core::sc_event wake_;
};

// The sink attached to one module: posts its first `width` values to its channel; a head's
// sink also samples the tracker's group totals with each output.
class VcdTracer::Sink : public sc::TraceSink {
 public:
  Sink(Replay& replay, int channel, int width, const power::PowerTracker* tracker,
       int power_channel)
      : replay_(replay),
        channel_(channel),
        width_(width),
        tracker_(tracker),
        power_channel_(power_channel) {}
  void record(const sc_time& at, const float* values, int n) override { post(at, values, n); }
  void record(const sc_time& at, const double* values, int n) override { post(at, values, n); }

 private:
  template <class T>
  void post(const sc_time& at, const T* values, int n) {
    const int m = std::min(n, width_);
    if (m > 0) replay_.post(channel_, at, values, m);
    if (tracker_ != nullptr) replay_.sample_power_later(power_channel_, tracker_);
  }

  Replay& replay_;
  int channel_;
  int width_;
  const power::PowerTracker* tracker_;
  int power_channel_;
};

// The kernel's VCD writer neither reports nor survives failed writes (a full disk leaves an
// empty file, or a hole and a merged line). It writes into a named pipe instead; a thread
// copies the pipe into the trace file with every write, the sync and the close checked, and
// keeps draining the pipe after a failure so that the simulation never blocks.
class VcdTracer::CheckedCopy {
 public:
  CheckedCopy(std::string pipe, std::string target)
      : pipe_(std::move(pipe)), target_(std::move(target)) {
    ::unlink(pipe_.c_str());
    if (::mkfifo(pipe_.c_str(), 0600) != 0)
      throw Error(pipe_, "", std::string("cannot create the trace pipe: ") + std::strerror(errno));
    thread_ = std::thread([this] { copy(); });
  }
  ~CheckedCopy() { finish(); }
  CheckedCopy(const CheckedCopy&) = delete;
  CheckedCopy& operator=(const CheckedCopy&) = delete;

  // After the writer has closed its end (or never opened it): waits for the copy to end and
  // returns what went wrong (empty: every byte is in the file).
  std::string finish() {
    if (!thread_.joinable()) return error_;
    // A reader still waiting for a writer is released by a writer that opens and closes.
    while (!done_.load()) {
      const int fd = ::open(pipe_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    thread_.join();
    ::unlink(pipe_.c_str());
    return error_;
  }
  const std::string& pipe() const { return pipe_; }

 private:
  void fail(const char* what, int err) {
    if (error_.empty()) error_ = std::string(what) + ": " + std::strerror(err ? err : EIO);
  }
  void copy() {
    const int in = ::open(pipe_.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(target_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in < 0) fail("cannot open the trace pipe", errno);
    if (out < 0) fail("cannot open the trace file", errno);
    std::vector<char> buf(1 << 16);
    while (in >= 0) {
      const ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot read the trace pipe", errno);
      if (n <= 0) break;
      for (ssize_t done = 0; error_.empty() && done < n;) {  // after a failure: drain only
        const ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail("write failed", w < 0 ? errno : ENOSPC);
        if (w > 0) done += w;
      }
    }
    if (out >= 0) {
      if (::fsync(out) != 0 && errno != EINVAL && errno != EROFS)
        fail("write failed (sync)", errno);
      if (::close(out) != 0) fail("write failed (close)", errno);
    }
    if (in >= 0) ::close(in);
    done_.store(true);
  }

  std::string pipe_, target_, error_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

VcdTracer::VcdTracer(const std::string& path, sc::Accelerator& acc, const TraceSelection& sel,
                     const power::PowerTracker* tracker) {
  validate(sel, acc);
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION) {
    throw Error(path, "trace", "a VcdTracer must be created during elaboration, before sc_start");
  }
  const std::string base = strip_vcd_suffix(path);
  file_path_ = base + ".vcd";
  const std::filesystem::path parent = std::filesystem::path(file_path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec || !std::ofstream(file_path_)) {
    throw Error(file_path_, "", "cannot open the trace file for writing");
  }

  copy_ = std::make_unique<CheckedCopy>(base + ".pipe.vcd", file_path_);
  file_ = sc_core::sc_create_vcd_trace_file((base + ".pipe").c_str());
  // The kernel's resolution (1 ps by default), at most 1 ns: every event time is exact.
  file_->set_time_unit(std::min(1e-9, sc_core::sc_get_time_resolution().to_seconds()),
                       sc_core::SC_SEC);

  HierarchyWalk walk(file_, acc, sel.columns, names_, values_);
  for (int l : sel.layers) {
    for (int h : sel.heads) walk.visit_head(acc.head(l, h), sel.subtiles);
  }

  std::vector<int> widths;
  for (const FoundSource& f : walk.sources) widths.push_back(f.width);
  const int power_channel = static_cast<int>(widths.size());
  if (tracker != nullptr) widths.push_back(kPowerSignals);
  replay_ = std::make_unique<Replay>(sc_core::sc_gen_unique_name("vcd_tracer"), widths);

  for (std::size_t c = 0; c < walk.sources.size(); ++c) {
    const FoundSource& f = walk.sources[c];
    const int channel = static_cast<int>(c);
    for (int i = 0; i < f.width; ++i) {
      const std::string name =
          f.prefix + "." + f.source->trace_value_name() + "_" + std::to_string(i);
      trace_replayed(channel, i, name);
    }
    sinks_.push_back(std::make_unique<Sink>(*replay_, channel, f.width, f.head ? tracker : nullptr,
                                            power_channel));
    f.source->set_trace_sink(sinks_.back().get());
    sources_.push_back(f.source);
  }
  if (tracker != nullptr) {
    for (int i = 0; i < kPowerSignals; ++i) {
      const std::string what = i < static_cast<int>(power::kGroupCount)
                                   ? power::group_name(power::kGroups[static_cast<std::size_t>(i)])
                                   : "total";
      trace_replayed(power_channel, i, std::string(kPowerScope) + "." + what + "_pj");
      // The final step (the end of the run) shows the tracker's totals, whatever was sampled.
      values_.back() = [tracker, i] {
        double e = 0.0;
        for (power::Group g : power::kGroups) {
          if (i == static_cast<int>(power::index(g)) || i == static_cast<int>(power::kGroupCount))
            e += tracker->group_energy_pj(g);
        }
        return vcd_value(e);
      };
    }
  }
}

VcdTracer::~VcdTracer() {
  close();
}

void VcdTracer::trace_replayed(int channel, int i, const std::string& name) {
  const sc_core::sc_signal<double>& s = replay_->signal(channel, i);
  sc_core::sc_trace(file_, s, name);
  names_.push_back(name);
  values_.push_back([&s] { return vcd_value(s.read()); });
}

void VcdTracer::close() {
  for (sc::TraceSource* s : sources_) s->set_trace_sink(nullptr);
  sources_.clear();
  if (file_ == nullptr) return;
  sc_core::sc_close_vcd_trace_file(file_);
  file_ = nullptr;
  write_error_ = copy_->finish();
  if (write_error_.empty()) append_final_values();
}

// SystemC writes the values of a time step when time advances past it; a run that ends with
// sc_stop() never advances past its last step, so the changes of that step (the last token's
// done, the final energy) would be lost. The writer ends the file with the current time
// (when it advanced): the current values of every signal are appended there.
void VcdTracer::append_final_values() {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file_path_, ec);
  if (ec || size == 0) {
    write_error_ = "the trace is empty (the file system refused every write?)";
    return;
  }
  // The kernel's writer does not report failed writes (a full disk): a file cut short ends
  // inside a line, and the values appended here cannot be written either. Both are checked.
  {
    std::ifstream in(file_path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(size) - 1);
    if (in.get() != '\n') {
      write_error_ = "the trace ends inside a line (the file system refused a write?)";
      return;
    }
  }
  const std::map<std::string, std::string> ids = vcd_identifiers(file_path_);
  std::string tail;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const auto id = ids.find(names_[i]);
    if (id != ids.end()) tail += values_[i]() + id->second + "\n";
  }
  const int fd = ::open(file_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    write_error_ = std::string("cannot reopen the trace: ") + std::strerror(errno);
    return;
  }
  for (std::size_t done = 0; write_error_.empty() && done < tail.size();) {
    const ssize_t w = ::write(fd, tail.data() + done, tail.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      write_error_ = std::string("write failed: ") + std::strerror(w < 0 ? errno : ENOSPC);
    if (w > 0) done += static_cast<std::size_t>(w);
  }
  if (write_error_.empty() && ::fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
    write_error_ = std::string("write failed (sync): ") + std::strerror(errno);
  if (::close(fd) != 0 && write_error_.empty())
    write_error_ = std::string("write failed (close): ") + std::strerror(errno);
}

}  // namespace gca::traces
