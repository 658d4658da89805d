#include "gca/tb/engine/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace gca::tb {

using Clock = std::chrono::steady_clock;

double token_cost(long token, int window) {
  // A token reads the slots written so far (at most the window) and pays a fixed share for
  // writing, the control and the host: an eighth of a full window, a rough measured figure.
  return double(std::min<long>(token + 1, window)) + window / 8.0;
}

Progress::Progress(std::string label, long total, const std::string& unit_name, ProgressMode mode,
                   std::function<double(long)> cost)
    : label_(std::move(label)),
      unit_(unit_name),
      total_(total),
      on_(mode == ProgressMode::forced || (mode == ProgressMode::automatic && ::isatty(2))),
      tty_(::isatty(2)),
      cost_(std::move(cost)),
      start_(Clock::now()),
      last_(start_) {
  total_cost_ = cost_upto(total_);
}

double Progress::cost_upto(long n) const {
  if (!cost_) return double(n);
  double c = 0.0;
  for (long i = 0; i < n; ++i) c += cost_(i);
  return c;
}

void Progress::update(long done, const std::string& detail) {
  if (!on_ || done == last_done_) return;
  const auto now = Clock::now();
  // A terminal line is rewritten twice a second; a log gets a line every ten seconds.
  const auto every = tty_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000);
  if (done < total_ && now - last_ < every) return;
  last_ = now;
  last_done_ = done;
  const double s = std::chrono::duration<double>(now - start_).count();
  const double done_cost = cost_ ? cost_upto(done) : double(done);
  const double eta = done_cost > 0 ? s * (total_cost_ - done_cost) / done_cost : 0.0;
  std::fprintf(stderr, "%s%s: %ld/%ld %s%s%s  %.1f %s/s  ETA %.0f s%s", tty_ ? "\r" : "",
               label_.c_str(), done, total_, unit_.c_str(), detail.empty() ? "" : "  ",
               detail.c_str(), s > 0 ? done / s : 0.0, unit_.c_str(), eta, tty_ ? "   " : "\n");
  if (tty_ && done >= total_) std::fprintf(stderr, "\n");
}

void Progress::note(const std::string& text) {
  if (on_) std::fprintf(stderr, "%s%s\n", tty_ && last_done_ >= 0 ? "\n" : "", text.c_str());
}

}  // namespace gca::tb
