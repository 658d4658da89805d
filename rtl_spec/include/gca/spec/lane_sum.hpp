// Sums of short arrays (one per column or output of a sub-tile) in eight interleaved partial
// sums, so that they vectorize instead of forming one serial chain of dependent additions.
// The order is fixed (lane j adds elements j, j + 8, ...; lanes combine pairwise at the end), so
// the result is the same on every machine; it may differ from a left-to-right sum in the last
// bit.
#pragma once

namespace gca::spec {

template <class Acc, class T, class F>
inline Acc lane_sum(const T* x, int n, F f) {
  constexpr int kLanes = 8;
  Acc s[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) s[j] += f(Acc(x[i + j]));
  }
  for (int j = 0; i < n; ++i, ++j) s[j] += f(Acc(x[i]));
  for (int j = 0; j < 4; ++j) s[j] += s[j + 4];
  for (int j = 0; j < 2; ++j) s[j] += s[j + 2];
  return s[0] + s[1];
}

template <class Acc, class T>
inline Acc lane_sum(const T* x, int n) {
  return lane_sum<Acc>(x, n, [](Acc v) { return v; });
}

// sum of x[i] * y[i], in the lanes and order of lane_sum.
template <class Acc, class T, class U>
inline Acc lane_dot(const T* x, const U* y, int n) {
  constexpr int kLanes = 8;
  Acc s[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) s[j] += Acc(x[i + j]) * Acc(y[i + j]);
  }
  for (int j = 0; i < n; ++i, ++j) s[j] += Acc(x[i]) * Acc(y[i]);
  for (int j = 0; j < 4; ++j) s[j] += s[j + 4];
  for (int j = 0; j < 2; ++j) s[j] += s[j + 2];
  return s[0] + s[1];
}

}  // namespace gca::spec
