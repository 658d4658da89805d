#include "gca/spec/gain_cell_array.hpp"

#include <algorithm>

namespace gca::spec {

void CellTerms::reset(std::size_t n_cells, std::size_t row_cells, const CircuitModel& circuits) {
  const Quantizer& dac = circuits.kv_dac;
  const float center = static_cast<float>(circuits.gain_cell.w_center());
  const GainCellModel& gc = circuits.gain_cell;
  const bool shared_levels = dac.levels() >= 2 && dac.levels() <= 256 && !circuits.per_cell_analog;
  row_cells_ = row_cells;
  packed_ = false;
  if (circuits.retention.enabled() && !shared_levels) {
    form_ = Form::decay;
    for (auto& t : t_) t.assign(n_cells, 0.0f);
    volts_.assign(n_cells, center);
  } else if (shared_levels) {
    form_ = circuits.retention.enabled() ? Form::decay_levels : Form::levels;
    p0_ = static_cast<float>(gc.poly(0));
    const double poly[4] = {gc.poly(0), gc.poly(1), gc.poly(2), gc.poly(3)};
    level_g_cubic_ = BinomialCubic::on_grid(poly, dac.lo() - gc.w_center(), dac.step());
    for (int i = 1; i <= 3; ++i) {
      double term[4] = {0.0, 0.0, 0.0, 0.0};
      term[i] = poly[i];
      level_t_cubic_[i - 1] = BinomialCubic::on_grid(term, dac.lo() - gc.w_center(), dac.step());
    }
    level_g_.resize(dac.levels());
    level_v_.resize(dac.levels());
    level_charge_.clear();
    if (form_ == Form::decay_levels) {
      for (auto& t : level_t_) t.resize(dac.levels());
    }
    for (int i = 0; i < dac.levels(); ++i) {
      const double v = dac.lo() + dac.step() * i;
      const double w = v - gc.w_center();
      level_v_[i] = static_cast<float>(v);
      level_g_[i] = static_cast<float>(gc.g(w));
      level_charge_.push_back(cell_read_charge(level_g_[i]));
      if (form_ == Form::decay_levels) {
        // The same products as the per-cell terms of the decay form.
        level_t_[0][i] = static_cast<float>(gc.poly(1) * w);
        level_t_[1][i] = static_cast<float>(gc.poly(2) * w * w);
        level_t_[2][i] = static_cast<float>(gc.poly(3) * w * w * w);
      }
    }
    // Nibbles when they hold every level and each row starts at a byte (an even row length:
    // then cell 2i and 2i + 1 of the array are cells 2i and 2i + 1 of one row's byte).
    packed_ = form_ == Form::levels && dac.levels() <= 16 && row_cells > 0 && row_cells % 2 == 0 &&
              n_cells % row_cells == 0;
    // Unwritten cells read as the level nearest the centre; they are never read anyway.
    const int centre = dac.level_index(circuits.gain_cell.w_center());
    if (packed_) {
      level_.assign(n_cells / 2, static_cast<std::uint8_t>(centre | centre << 4));
    } else {
      level_.assign(n_cells, static_cast<std::uint8_t>(centre));
    }
  } else {
    form_ = Form::dense;
    g_.assign(n_cells, 0.0f);
    volts_.assign(n_cells, center);
  }
}

void CellTerms::store(std::size_t cell, double volts, const CircuitModel& circuits, double gain,
                      double offset_v) {
  const double w = volts - circuits.gain_cell.w_center();
  const GainCellModel& gc = circuits.gain_cell;
  switch (form_) {
    case Form::levels:
    case Form::decay_levels:
      set_level(cell, circuits.kv_dac.level_index(volts));
      return;
    case Form::dense:
      g_[cell] = static_cast<float>(gain * gc.g(w + offset_v));
      break;
    case Form::decay: {
      // g(w f + delta) expanded in powers of f.
      const double p0 = gc.poly(0), p1 = gc.poly(1), p2 = gc.poly(2), p3 = gc.poly(3);
      const double e = offset_v;
      t_[0][cell] = static_cast<float>(gain * (p0 + e * (p1 + e * (p2 + e * p3))));
      t_[1][cell] = static_cast<float>(gain * w * (p1 + e * (2.0 * p2 + 3.0 * e * p3)));
      t_[2][cell] = static_cast<float>(gain * w * w * (p2 + 3.0 * e * p3));
      t_[3][cell] = static_cast<float>(gain * w * w * w * p3);
      break;
    }
  }
  volts_[cell] = static_cast<float>(volts);
}

float CellTerms::g_at(std::size_t cell, float f) const {
  switch (form_) {
    case Form::levels:
      return level_g_[level_of(cell)];
    case Form::dense:
      return g_[cell];
    case Form::decay:
      return t_[0][cell] + f * (t_[1][cell] + f * (t_[2][cell] + f * t_[3][cell]));
    case Form::decay_levels: {
      const std::uint8_t l = level_[cell];
      return p0_ + f * (level_t_[0][l] + f * (level_t_[1][l] + f * level_t_[2][l]));
    }
  }
  return 0.0f;
}

void CellTerms::level_read_charges(float f, float* out) const {
  const int n = level_count();
  for (int l = 0; l < n; ++l) {
    out[l] = form_ == Form::decay_levels
                 ? cell_read_charge(
                       p0_ + f * (level_t_[0][l] + f * (level_t_[1][l] + f * level_t_[2][l])))
                 : cell_read_charge(level_g_[l]);
  }
}

float CellTerms::stored_voltage(std::size_t cell) const {
  return has_levels() ? level_v_[level_of(cell)] : volts_[cell];
}

void ColumnClock::reset(int n) {
  written_.assign(n, -1.0);
  factor_.assign(n, 1.0);
  factor_f_.assign(n, 1.0f);
  ref_ns_ = 0.0;
}

void ColumnClock::forget() {
  std::fill(written_.begin(), written_.end(), -1.0);
}

void ColumnClock::advance(double now_ns, const RetentionModel& retention) {
  if (now_ns == ref_ns_) return;
  if (now_ns > ref_ns_) {
    const double r = retention.factor(now_ns - ref_ns_);
    for (double& f : factor_) f *= r;
  } else {  // time went back (a caller without a clock): from scratch
    for (std::size_t c = 0; c < written_.size(); ++c)
      factor_[c] = valid(int(c)) ? retention.factor(now_ns - written_[c]) : 1.0;
  }
  ref_ns_ = now_ns;
}

void ColumnClock::write(int c, double t_ns, const RetentionModel& retention) {
  if (retention.enabled()) {
    if (t_ns > ref_ns_) advance(t_ns, retention);
    factor_[c] = retention.factor(ref_ns_ - t_ns);
  }
  written_[c] = t_ns;
}

const float* ColumnClock::factors(double now_ns, const RetentionModel& retention) {
  if (!retention.enabled()) return factor_f_.data();
  advance(now_ns, retention);
  for (std::size_t c = 0; c < factor_.size(); ++c) factor_f_[c] = static_cast<float>(factor_[c]);
  return factor_f_.data();
}

ArrayVariation::ArrayVariation(const CircuitModel& circuits, ArrayKind kind, ArrayPlace place,
                               int features, int columns)
    : circuits_(&circuits),
      kind_(kind),
      place_(place),
      features_(features),
      ctp_on_(circuits.variation.ctp_offset_sigma > 0.0),
      read_on_(circuits.noise.read_sigma > 0.0) {
  const VariationParams& var = circuits.variation;
  const std::uint64_t chip = std::uint64_t(var.chip_seed), head = std::uint64_t(place.head);
  if (var.cells_vary()) {
    gain_.resize(std::size_t(features) * columns);
    offset_v_.resize(gain_.size());
    for (int c = 0; c < columns; ++c) {
      for (int f = 0; f < features; ++f) {
        const std::uint64_t key = kind_index(kind, slot_of(c));
        const std::size_t i = std::size_t(c) * features + f;
        gain_[i] = static_cast<float>(
            1.0 + var.cell_gain_sigma *
                      normal_draw(chip, Draw::cell_gain, {head, key, std::uint64_t(f)}));
        offset_v_[i] =
            static_cast<float>(var.cell_offset_sigma_v *
                               normal_draw(chip, Draw::cell_offset, {head, key, std::uint64_t(f)}));
      }
    }
  }
  const int outputs = kind == ArrayKind::key ? columns : features;
  if (read_on_) {
    read_key_.resize(outputs);
    for (int i = 0; i < outputs; ++i)
      read_key_[i] =
          draw_prefix(std::uint64_t(circuits.noise.seed), Draw::read, {head, output_index(i)});
  }
  if (ctp_on_) {
    ctp_offset_.resize(outputs);
    for (int i = 0; i < outputs; ++i) {
      ctp_offset_[i] = static_cast<float>(
          var.ctp_offset_sigma * normal_draw(chip, Draw::ctp_offset, {head, output_index(i)}));
    }
  }
}

std::uint64_t ArrayVariation::output_index(int i) const {
  // K: one comparator per window slot; V: one per (sub-tile, feature).
  return kind_ == ArrayKind::key
             ? kind_index(kind_, slot_of(i))
             : kind_index(kind_, std::uint64_t(place_.subtile) * features_ + std::uint64_t(i));
}

double ArrayVariation::cell_gain(int feature, int col) const {
  return gain_.empty() ? 1.0 : gain_[std::size_t(col) * features_ + feature];
}

double ArrayVariation::cell_offset_v(int feature, int col) const {
  return offset_v_.empty() ? 0.0 : offset_v_[std::size_t(col) * features_ + feature];
}

double ArrayVariation::write_noise_v(int feature, int col, long token, bool refresh) const {
  const NoiseParams& n = circuits_->noise;
  if (n.write_sigma_v <= 0.0) return 0.0;
  return n.write_sigma_v * normal_draw(std::uint64_t(n.seed),
                                       refresh ? Draw::refresh_write : Draw::write,
                                       {std::uint64_t(place_.head), kind_index(kind_, slot_of(col)),
                                        std::uint64_t(feature), std::uint64_t(token)});
}

void ArrayVariation::add_to_charge(float* charge, int n, const ColumnClock* written, long token,
                                   double saturation) const {
  const double read_sigma = circuits_->noise.read_sigma;
  for (int i = 0; i < n; ++i) {
    if (written && !written->valid(i)) continue;
    double extra = ctp_on_ ? double(ctp_offset_[i]) : 0.0;
    if (read_on_) extra += read_sigma * normal_draw_last(read_key_[i], std::uint64_t(token));
    charge[i] = static_cast<float>(double(charge[i]) + extra * saturation);
  }
}

namespace {

// a_i[c] = sum_f q[f] * t_i[f][c] for the four per-cell terms, columns in blocks of kBlock
// whose sums stay in registers over all rows; each sum adds its rows in order.
void decay_terms_gemv(const float* q, int rows, const CellTerms& terms, int n, float* a0, float* a1,
                      float* a2, float* a3) {
  constexpr int kBlock = 8;
  const float *t0 = terms.term(0), *t1 = terms.term(1), *t2 = terms.term(2), *t3 = terms.term(3);
  int c = 0;
  for (; c + kBlock <= n; c += kBlock) {
    float s0[kBlock] = {}, s1[kBlock] = {}, s2[kBlock] = {}, s3[kBlock] = {};
    for (int f = 0; f < rows; ++f) {
      const float qf = q[f];
      const std::size_t o = std::size_t(f) * n + c;
      for (int j = 0; j < kBlock; ++j) {
        s0[j] += qf * t0[o + j];
        s1[j] += qf * t1[o + j];
        s2[j] += qf * t2[o + j];
        s3[j] += qf * t3[o + j];
      }
    }
    std::copy_n(s0, kBlock, a0 + c);
    std::copy_n(s1, kBlock, a1 + c);
    std::copy_n(s2, kBlock, a2 + c);
    std::copy_n(s3, kBlock, a3 + c);
  }
  for (; c < n; ++c) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int f = 0; f < rows; ++f) {
      const std::size_t o = std::size_t(f) * n + c;
      s0 += q[f] * t0[o];
      s1 += q[f] * t1[o];
      s2 += q[f] * t2[o];
      s3 += q[f] * t3[o];
    }
    a0[c] = s0, a1[c] = s1, a2[c] = s2, a3[c] = s3;
  }
}

// out[c] = sum_f q[f] * g[f][c], blocked like decay_terms_gemv.
void dense_gemv(const float* q, int rows, const float* g, int n, float* out) {
  constexpr int kBlock = 32;
  int c = 0;
  for (; c + kBlock <= n; c += kBlock) {
    float s[kBlock] = {};
    for (int f = 0; f < rows; ++f) {
      const float qf = q[f];
      const float* row = g + std::size_t(f) * n + c;
      for (int j = 0; j < kBlock; ++j) s[j] += qf * row[j];
    }
    std::copy_n(s, kBlock, out + c);
  }
  for (; c < n; ++c) {
    float s = 0.0f;
    for (int f = 0; f < rows; ++f) s += q[f] * g[std::size_t(f) * n + c];
    out[c] = s;
  }
}

// out[c] = sum over rows of weight[r] x table[level of cell (r, c)], over whichever layout the
// level codes have (a byte or a nibble per cell).
void gemv_cell_levels(const float* weight, int rows, const CellTerms& terms, const float* table,
                      float* out, int n) {
  if (terms.packed()) {
    gemv_levels_packed(weight, rows, terms.level(), terms.level_row_bytes(), table,
                       terms.level_count(), out, n);
  } else {
    gemv_levels(weight, rows, terms.level(), terms.level_row_bytes(), table, terms.level_count(),
                out, n);
  }
}

// The DAC's level plus its write noise, within the cell's voltage range.
double written_voltage(const CircuitModel& circuits, double dac_volts, double noise_v) {
  if (noise_v == 0.0) return dac_volts;
  return std::clamp(dac_volts + noise_v, circuits.kv_dac.lo(), circuits.kv_dac.hi());
}
}  // namespace

KeyArray::KeyArray(const CircuitModel& circuits, int features, int columns, ArrayPlace place)
    : circuits_(&circuits),
      features_(features),
      columns_(columns),
      variation_(circuits, ArrayKind::key, place, features, columns) {
  terms_.reset(std::size_t(features) * columns, std::size_t(columns), circuits);
  clock_.reset(columns);
  if (terms_.has_decay()) scratch_.resize(4 * std::size_t(columns));
  row_read_charge_.assign(features, 0.0);
  const Quantizer& q_dac = circuits.q_dac;
  integer_reads_ = terms_.has_levels() && q_dac.levels() >= 2 && q_dac.lo() == 0.0 &&
                   level_moments_fit(terms_.level_count(), q_dac.levels() - 1);
}

namespace {
// The moments of one read, per thread: every array's read uses them and is done with them
// before the next read on that thread, so one warm buffer serves all instead of a cold one
// per array.
std::vector<std::int32_t>& moments_scratch(std::size_t n) {
  thread_local std::vector<std::int32_t> m;
  if (m.size() < n) m.resize(n);
  return m;
}
}  // namespace

void PulseCodes::assign(const float* width, int n, const Quantizer& q_dac) {
  code.resize(std::size_t(n));
  sum = 0;
  exact = q_dac.levels() >= 2 && q_dac.lo() == 0.0;
  if (!exact) return;
  // The nearest code of each width, then whether every width is exactly what the DAC gives for
  // that code (lo + step x code with lo = 0, rounded to float as the pulse holds it). An
  // out-of-range guess fails the comparison and is never used.
  const float top = static_cast<float>(q_dac.levels() - 1);
  const double step = q_dac.step();
  for (int f = 0; f < n; ++f) {
    const int c = static_cast<int>(std::clamp(width[f] * top, 0.0f, top) + 0.5f);
    exact = exact && static_cast<float>(step * double(c)) == width[f];
    code[std::size_t(f)] = static_cast<std::uint8_t>(c);
    sum += c;
  }
}

bool KeyArray::code_moments(const float* q, const PulseCodes* given, std::int64_t* code_sum) const {
  const PulseCodes* codes = given;
  if (!codes) {
    own_codes_.assign(q, features_, circuits_->q_dac);
    codes = &own_codes_;
  }
  if (!codes->exact) return false;
  const std::size_t n = std::size_t(columns_);
  std::int32_t* m = moments_scratch(3 * n).data();
  if (terms_.packed()) {
    level_moments_packed(codes->code.data(), features_, terms_.level(), terms_.level_row_bytes(),
                         terms_.level_count(), columns_, m, m + n, m + 2 * n);
  } else {
    level_moments(codes->code.data(), features_, terms_.level(), terms_.level_row_bytes(),
                  terms_.level_count(), columns_, m, m + n, m + 2 * n);
  }
  *code_sum = codes->sum;
  return true;
}

void KeyArray::combine_moments(const BinomialCubic& cubic, std::int64_t code_sum,
                               float* out) const {
  const std::size_t n = std::size_t(columns_);
  const std::int32_t* m = moments_scratch(3 * n).data();
  combine_level_moments(cubic, code_sum, m, m + n, m + 2 * n, circuits_->q_dac.step(), columns_,
                        out);
}

void KeyArray::write_column(int col, const double* k_volts, double now_ns, long token,
                            bool refresh) {
  const bool keep_sums = !terms_.has_decay();
  const bool overwrite = clock_.valid(col);
  if (terms_.form() == CellTerms::Form::levels) {
    // Cells alike (no mismatch, no write noise: what the level form means): the DAC's level
    // as is, without the per-cell draws, which are all zero here; the read charges of the old
    // and the new level from the table (the values g_at gives).
    const Quantizer& dac = circuits_->kv_dac;
    for (int f = 0; f < features_; ++f) {
      const int level = dac.level_index(circuits_->k_voltage(k_volts[f]));
      const int old = terms_.replace_level(idx(f, col), level);
      if (overwrite) row_read_charge_[f] -= terms_.level_charge()[old];
      row_read_charge_[f] += terms_.level_charge()[level];
    }
    if (!overwrite) ++valid_count_;
    clock_.write(col, now_ns, circuits_->retention);
    return;
  }
  for (int f = 0; f < features_; ++f) {
    const double volts = written_voltage(*circuits_, circuits_->k_voltage(k_volts[f]),
                                         variation_.write_noise_v(f, col, token, refresh));
    if (keep_sums && overwrite)
      row_read_charge_[f] -= cell_read_charge(terms_.g_at(idx(f, col), 1.0f));
    terms_.store(idx(f, col), volts, *circuits_, variation_.cell_gain(f, col),
                 variation_.cell_offset_v(f, col));
    if (keep_sums) row_read_charge_[f] += cell_read_charge(terms_.g_at(idx(f, col), 1.0f));
  }
  if (!clock_.valid(col)) ++valid_count_;
  clock_.write(col, now_ns, circuits_->retention);
}

void KeyArray::clear() {
  clock_.forget();
  valid_count_ = 0;
  std::fill(row_read_charge_.begin(), row_read_charge_.end(), 0.0);
}

double KeyArray::decay_factor(int col, double now_ns) const {
  return circuits_->retention.factor(now_ns - clock_.written_ns(col));
}

void KeyArray::integrate(const float* q, double now_ns, long token, float* out,
                         const PulseCodes* codes) const {
  const int n = columns_;
  if (terms_.form() == CellTerms::Form::levels) {
    std::int64_t code_sum = 0;
    if (integer_reads_ && code_moments(q, codes, &code_sum))
      combine_moments(terms_.level_g_cubic(), code_sum, out);
    else
      gemv_cell_levels(q, features_, terms_, terms_.level_g(), out, n);
  } else if (terms_.form() == CellTerms::Form::dense) {
    dense_gemv(q, features_, terms_.g(), n, out);
  } else {
    float* a0 = scratch_.data();
    float* a1 = a0 + n;
    float* a2 = a1 + n;
    float* a3 = a2 + n;
    std::int64_t code_sum = 0;
    if (terms_.form() == CellTerms::Form::decay_levels && integer_reads_ &&
        code_moments(q, codes, &code_sum)) {
      // All three power terms from one integer pass; the constant one is p0 x the width sum.
      const float c0 = static_cast<float>(circuits_->gain_cell.poly(0) *
                                          (circuits_->q_dac.step() * double(code_sum)));
      std::fill(a0, a0 + n, c0);
      combine_moments(terms_.level_term_cubic(1), code_sum, a1);
      combine_moments(terms_.level_term_cubic(2), code_sum, a2);
      combine_moments(terms_.level_term_cubic(3), code_sum, a3);
    } else if (terms_.form() == CellTerms::Form::decay_levels) {
      float q_sum = 0.0f;
      for (int f = 0; f < features_; ++f) q_sum += q[f];
      const float c0 = static_cast<float>(circuits_->gain_cell.poly(0)) * q_sum;
      std::fill(a0, a0 + n, c0);
      float* a[3] = {a1, a2, a3};
      for (int i = 0; i < 3; ++i) {
        gemv_cell_levels(q, features_, terms_, terms_.level_term(i + 1), a[i], n);
      }
    } else {
      decay_terms_gemv(q, features_, terms_, n, a0, a1, a2, a3);
    }
    const float* d = clock_.factors(now_ns, circuits_->retention);
    for (int c = 0; c < n; ++c) out[c] = a0[c] + d[c] * (a1[c] + d[c] * (a2[c] + d[c] * a3[c]));
  }
  if (valid_count_ < n) {
    for (int c = 0; c < n; ++c) {
      if (!clock_.valid(c)) out[c] = 0.0f;
    }
  }
  if (variation_.charge_varies())
    variation_.add_to_charge(out, n, &clock_, token, circuits_->hard_sigmoid.s_sat);
}

ValueArray::ValueArray(const CircuitModel& circuits, int features, int lines, ArrayPlace place)
    : circuits_(&circuits),
      features_(features),
      lines_(lines),
      variation_(circuits, ArrayKind::value, place, features, lines),
      weight_(lines) {
  terms_.reset(std::size_t(features) * lines, std::size_t(features), circuits);
  clock_.reset(lines);
  line_read_charge_.assign(lines, 0.0);
  if (terms_.form() == CellTerms::Form::decay_levels) {
    weight_.resize(3 * std::size_t(lines));
    partial_.resize(3 * std::size_t(features));
  }
}

void ValueArray::write_line(int line, const double* v_volts, double now_ns, long token,
                            bool refresh) {
  double line_charge = 0.0;
  if (terms_.form() == CellTerms::Form::levels) {  // cells alike: see KeyArray::write_column
    const Quantizer& dac = circuits_->kv_dac;
    for (int f = 0; f < features_; ++f) {
      const int level = dac.level_index(circuits_->v_voltage(v_volts[f]));
      terms_.replace_level(idx(line, f), level);
      line_charge += terms_.level_charge()[level];
    }
    if (!clock_.valid(line)) ++valid_count_;
    line_read_charge_[line] = line_charge;
    clock_.write(line, now_ns, circuits_->retention);
    return;
  }
  for (int f = 0; f < features_; ++f) {
    const double volts = written_voltage(*circuits_, circuits_->v_voltage(v_volts[f]),
                                         variation_.write_noise_v(f, line, token, refresh));
    terms_.store(idx(line, f), volts, *circuits_, variation_.cell_gain(f, line),
                 variation_.cell_offset_v(f, line));
    line_charge += cell_read_charge(terms_.g_at(idx(line, f), 1.0f));
  }
  if (!clock_.valid(line)) ++valid_count_;
  line_read_charge_[line] = line_charge;
  clock_.write(line, now_ns, circuits_->retention);
}

void ValueArray::clear() {
  clock_.forget();
  valid_count_ = 0;
  std::fill(line_read_charge_.begin(), line_read_charge_.end(), 0.0);
}

void ValueArray::integrate(const float* phi, double now_ns, long token, float* out) const {
  const int n = features_;
  if (terms_.form() == CellTerms::Form::levels) {
    // A line never written gets no pulse, hence no charge (once all are written, phi as is).
    const float* w = phi;
    if (valid_count_ < lines_) {
      for (int l = 0; l < lines_; ++l) weight_[l] = clock_.valid(l) ? phi[l] : 0.0f;
      w = weight_.data();
    }
    gemv_cell_levels(w, lines_, terms_, terms_.level_g(), out, n);
  } else {
    integrate_analog(phi, now_ns, out);
  }
  // Every output converts (the sub-tile is active): offsets and noise apply to all.
  if (variation_.charge_varies())
    variation_.add_to_charge(out, n, nullptr, token, circuits_->signed_ctp.s_sat);
}

void ValueArray::integrate_analog(const float* phi, double now_ns, float* out) const {
  const int n = features_;
  std::fill(out, out + n, 0.0f);
  if (terms_.form() == CellTerms::Form::dense) {
    const float* g = terms_.g();
    for (int l = 0; l < lines_; ++l) {
      const float x = phi[l];
      if (x == 0.0f || !clock_.valid(l)) continue;  // no pulse, no charge
      const float* row = g + std::size_t(l) * n;
      for (int f = 0; f < n; ++f) out[f] += x * row[f];
    }
  } else if (terms_.form() == CellTerms::Form::decay_levels) {
    // The three weighted sums as three level look-up passes.
    const float* d = clock_.factors(now_ns, circuits_->retention);
    float phi_sum = 0.0f;
    float* w[3] = {weight_.data(), weight_.data() + lines_, weight_.data() + 2 * lines_};
    for (int l = 0; l < lines_; ++l) {
      const float x = clock_.valid(l) ? phi[l] : 0.0f;
      const float dl = x == 0.0f ? 0.0f : d[l];
      phi_sum += x;
      w[0][l] = x * dl;
      w[1][l] = w[0][l] * dl;
      w[2][l] = w[1][l] * dl;
    }
    float* part = partial_.data();
    for (int i = 0; i < 3; ++i) {
      gemv_cell_levels(w[i], lines_, terms_, terms_.level_term(i + 1), part + std::size_t(i) * n,
                       n);
    }
    const float c0 = static_cast<float>(circuits_->gain_cell.poly(0)) * phi_sum;
    for (int f = 0; f < n; ++f) out[f] = part[f] + part[n + f] + part[2 * n + f] + c0;
  } else {
    const float* d = clock_.factors(now_ns, circuits_->retention);
    for (int l = 0; l < lines_; ++l) {
      const float x = phi[l];
      if (x == 0.0f || !clock_.valid(l)) continue;
      const float x1 = x * d[l], x2 = x1 * d[l], x3 = x2 * d[l];
      const std::size_t row = std::size_t(l) * n;
      const float *r0 = terms_.term(0) + row, *r1 = terms_.term(1) + row,
                  *r2 = terms_.term(2) + row, *r3 = terms_.term(3) + row;
      for (int f = 0; f < n; ++f) out[f] += x * r0[f] + x1 * r1[f] + x2 * r2[f] + x3 * r3[f];
    }
  }
}

namespace {

// sum over i < n of table[i * stride + level[i]], in four interleaved partial sums (a fixed
// order, so the same bits on every run, without one long chain of dependent additions).
double sum_by_level(const float* table, int stride, const std::uint8_t* level, int n) {
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) part[j] += table[std::size_t(i + j) * stride + level[i + j]];
  }
  for (; i < n; ++i) part[0] += table[std::size_t(i) * stride + level[i]];
  return (part[0] + part[1]) + (part[2] + part[3]);
}

}  // namespace

// Read charge of the arrays (cell_read_charge per cell). Without decay the per-row (K) or
// per-line (V) sums kept by the writes give it in d or cols multiply-adds; with decay every
// valid cell is evaluated at its column's decay factor.
double KeyArray::read_charge(const float* q, double now_ns) const {
  if (!terms_.has_decay()) return lane_dot<double>(q, row_read_charge_.data(), features_);
  double total = 0.0;
  const float* d = clock_.factors(now_ns, circuits_->retention);
  if (terms_.has_levels()) {
    // A table of the read charge of each level at each column's decay (zero for columns never
    // written), then one look-up per cell: the per-cell cubic is evaluated levels x columns
    // times instead of features x columns times.
    const int levels = terms_.level_count();
    charge_table_.assign(std::size_t(columns_) * levels, 0.0f);
    for (int c = 0; c < columns_; ++c) {
      if (clock_.valid(c)) terms_.level_read_charges(d[c], &charge_table_[std::size_t(c) * levels]);
    }
    const std::uint8_t* level = terms_.level();  // decay_levels: a byte per cell, never packed
    for (int f = 0; f < features_; ++f) {
      if (q[f] == 0.0f) continue;
      const std::uint8_t* row_levels = level + idx(f, 0);
      total += double(q[f]) * sum_by_level(charge_table_.data(), levels, row_levels, columns_);
    }
    return total;
  }
  for (int f = 0; f < features_; ++f) {
    if (q[f] == 0.0f) continue;
    double row = 0.0;
    for (int c = 0; c < columns_; ++c) {
      if (clock_.valid(c)) row += cell_read_charge(terms_.g_at(idx(f, c), d[c]));
    }
    total += double(q[f]) * row;
  }
  return total;
}

double ValueArray::read_charge(const float* phi, double now_ns) const {
  // Without decay: lines never written (or cleared) keep a read charge of 0, so they add
  // nothing whatever their width.
  if (!terms_.has_decay()) return lane_dot<double>(phi, line_read_charge_.data(), lines_);
  double total = 0.0;
  const float* d = terms_.has_decay() ? clock_.factors(now_ns, circuits_->retention) : nullptr;
  for (int l = 0; l < lines_; ++l) {
    if (phi[l] == 0.0f || !clock_.valid(l)) continue;
    double line = 0.0;
    if (!d) {
      line = line_read_charge_[l];
    } else if (terms_.has_levels()) {
      // One read charge per level at this line's decay, then a look-up per cell.
      charge_table_.resize(terms_.level_count());
      terms_.level_read_charges(d[l], charge_table_.data());
      const std::uint8_t* cell_levels = terms_.level() + idx(l, 0);  // a byte per cell
      line = sum_by_level(charge_table_.data(), 0, cell_levels, features_);
    } else {
      for (int f = 0; f < features_; ++f) line += cell_read_charge(terms_.g_at(idx(l, f), d[l]));
    }
    total += double(phi[l]) * line;
  }
  return total;
}

}  // namespace gca::spec

namespace gca::spec {

void CellTerms::prefetch() const {
  // The level form is what whole-model runs read: a head's sub-tiles are separate small
  // arrays, each its own page, so the hardware's stream prefetcher restarts on every one.
  if (form_ == Form::levels) {
    prefetch_all(level_);
  } else if (form_ == Form::dense) {
    prefetch_all(g_);
  }
}

void KeyArray::prefetch() const {
  terms_.prefetch();
  prefetch_all(row_read_charge_);
}

void KeyArray::prefetch_column(int col) const {
  if (terms_.form() != CellTerms::Form::levels) return;
  for (int f = 0; f < features_; ++f) __builtin_prefetch(terms_.level_byte(idx(f, col)), 1);
  prefetch_all(row_read_charge_, true);
}

void ValueArray::prefetch_line(int line) const {
  if (terms_.form() != CellTerms::Form::levels) return;
  __builtin_prefetch(terms_.level_byte(idx(line, 0)), 1);
}

void ValueArray::prefetch() const {
  terms_.prefetch();
  prefetch_all(line_read_charge_);
  prefetch_all(weight_, true);
}

std::size_t CellTerms::state_bytes() const {
  std::size_t bytes = sizeof(*this) + heap_bytes(g_) + heap_bytes(volts_) + heap_bytes(level_) +
                      heap_bytes(level_g_) + heap_bytes(level_v_) + heap_bytes(level_charge_);
  for (const auto& t : t_) bytes += heap_bytes(t);
  for (const auto& t : level_t_) bytes += heap_bytes(t);
  return bytes;
}

std::size_t ColumnClock::state_bytes() const {
  return sizeof(*this) + heap_bytes(written_) + heap_bytes(factor_) + heap_bytes(factor_f_);
}

std::size_t ArrayVariation::state_bytes() const {
  return sizeof(*this) + heap_bytes(gain_) + heap_bytes(offset_v_) + heap_bytes(ctp_offset_) +
         heap_bytes(read_key_);
}

// The members held by value are counted by their own state_bytes() (which include their size).
std::size_t KeyArray::state_bytes() const {
  return sizeof(*this) - sizeof(terms_) - sizeof(variation_) - sizeof(clock_) +
         terms_.state_bytes() + variation_.state_bytes() + clock_.state_bytes() +
         heap_bytes(scratch_) + heap_bytes(charge_table_) + heap_bytes(row_read_charge_) +
         heap_bytes(own_codes_.code);
}

std::size_t ValueArray::state_bytes() const {
  return sizeof(*this) - sizeof(terms_) - sizeof(variation_) - sizeof(clock_) +
         terms_.state_bytes() + variation_.state_bytes() + clock_.state_bytes() +
         heap_bytes(weight_) + heap_bytes(charge_table_) + heap_bytes(partial_) +
         heap_bytes(line_read_charge_);
}

}  // namespace gca::spec
