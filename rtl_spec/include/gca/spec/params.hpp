// Hardware parameters of the gain-cell attention accelerator, loaded once from
// rtl_spec/params/*.json, validated, and passed down as typed structs.
//
// A parameter file is nested JSON. Every leaf is either a bare number or an object
// {"value": number, "unit": "...", "source": "..."}; dotted names ("timing.t_max_ns")
// address leaves. A file may start from another one with "extends": "other.json"
// (resolved relative to the file) and only restate what it changes. After loading, every
// known key must have a value, unknown keys are errors, and each value is range-checked.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "gca/spec/error.hpp"

namespace gca::spec {

struct ArrayParams {
  int rows = 0;  // cells per column: one per head feature (d_head <= rows)
  int cols = 0;  // columns per array: one per stored token
};

struct ModelParams {
  int n_layers = 0;
  int n_heads = 0;
  int d_head = 0;
};

// Number of quantizer levels; 0 means ideal (no quantization).
struct QuantParams {
  int q_levels = 0;
  int kv_levels = 0;
  int out_levels = 0;
};

// Paper Eq. 4: g(w) = sum_{i,j} c[i][j] * v_in^j * w^i with w = stored - w_center.
struct GainCellParams {
  double v_min_v = 0.0;
  double v_max_v = 0.0;
  double w_center_v = 0.0;
  double v_in_v = 0.0;
  // c[i][j], i = order in w, j = order in v_in; only i + j <= 3 are used.
  std::array<std::array<double, 4>, 4> c{};
};

// Capacitor leakage in simulated time: a stored deviation w decays as w * exp(-dt / tau).
struct RetentionParams {
  double tau_ms = 0.0;             // time constant; 0 = no leakage
  int refresh = 0;                 // 0 = none, 1 = rewrite decayed columns from a digital shadow
  double refresh_threshold = 0.0;  // refresh once the stored deviation lost this fraction
  bool leaks() const { return tau_ms > 0.0; }
  double tau_ns() const { return tau_ms * 1e6; }
  bool refreshes() const { return leaks() && refresh == 1; }
};

// Per-chip mismatch, drawn once per chip seed and fixed for the run (docs/variation.md).
struct VariationParams {
  int chip_seed = 0;                 // seed of the chip's mismatch draws
  double cell_gain_sigma = 0.0;      // relative spread of each cell's read current
  double cell_offset_sigma_v = 0.0;  // threshold offset of each cell's read transistor, volts
  double ctp_offset_sigma = 0.0;     // comparator offset of each charge-to-pulse, of full scale
  bool cells_vary() const { return cell_gain_sigma > 0.0 || cell_offset_sigma_v > 0.0; }
};

// Noise drawn anew at every event (docs/variation.md).
struct NoiseParams {
  int seed = 0;                // seed of the noise draws (a stream apart from the chip's)
  double read_sigma = 0.0;     // per column integration, relative to the saturation charge
  double write_sigma_v = 0.0;  // per K/V write DAC conversion, volts
};

struct ChargeToPulseParams {
  double s_sat_qk = 0.0;  // HardSigmoid: phi = clip(S / s_sat_qk, 0, 1)
  double s_sat_av = 0.0;  // signed output: clip(A / s_sat_av, -1, 1)
};

// Digital affine scalers x' = gain * x + offset, applied before the input clamps and
// after the digital output sum. Identity by default.
struct Affine {
  double gain = 1.0;
  double offset = 0.0;
  double apply(double x) const { return gain * x + offset; }
  bool identity() const { return gain == 1.0 && offset == 0.0; }
};

struct ScalerParams {
  Affine q, k, v, out;
};

struct TimingParams {
  double t_max_ns = 0.0;
  double phase_q_ns = 0.0;
  double phase_phi_ns = 0.0;
  double phase_count_ns = 0.0;
  double phase_precharge_ns = 0.0;
  double phase_digital_ns = 0.0;
  double write_ns = 0.0;
  // Latency of one token through one layer: the sequential compute phases.
  double token_latency_ns() const {
    return phase_q_ns + phase_phi_ns + phase_count_ns + phase_precharge_ns + phase_digital_ns;
  }
};

// Energy per action, in the spirit of CiMLoop/Accelergy: the power model (power/) multiplies
// action counts by these. Each is a per-action or per-time quantity; the unit is in the name.
// Pulse-width-weighted reads count a cell read with a pulse of width x * T_max as x reads.
struct EnergyParams {
  double qk_cell_read_fj = 0.0;          // per K cell read with a full T_max pulse (x Q width)
  double qk_ctp_pj = 0.0;                // per HardSigmoid charge-to-pulse conversion (column)
  double av_cell_read_fj = 0.0;          // per V cell read with a full T_max pulse (x phi width)
  double av_ctp_pj = 0.0;                // per signed charge-to-pulse conversion (output)
  double av_counter_fullscale_pj = 0.0;  // per full-scale count of an output counter (x |o|)
  double digital_power_mw = 0.0;         // digital periphery power while active (per head)
  double digital_add_pj = 0.0;           // per digital add of one sub-tile output
  double dac_kv_conversion_pj = 0.0;     // per K or V value converted by a write DAC
  double dac_q_conversion_pj = 0.0;      // per Q pulse generated (PWM DAC)
  double cell_write_fj = 0.0;            // per gain cell written
  double array_static_uw = 0.0;          // static power of one K or V array with its periphery
  double digital_static_mw = 0.0;        // static power of one head's digital control
};

// Silicon area, for the area report (per sub-tile, head, layer, model).
struct AreaParams {
  double cell_um2 = 0.0;          // one gain cell
  double hs_ctp_um2 = 0.0;        // one HardSigmoid charge-to-pulse circuit (per K column)
  double signed_ctp_um2 = 0.0;    // one signed charge-to-pulse + counter (per V output)
  double head_control_um2 = 0.0;  // per head: digital control, adder tree, DACs, drivers
};

// Where a value came from, for reports and `gca-sim spec`.
struct ParamMeta {
  std::string unit;
  std::string source;
  std::string file;  // file that set it last, or "--set" for an override
};

struct HardwareSpec {
  int window = 0;  // M: tokens kept in the sliding window (circular buffer of M slots)
  ArrayParams array;
  ModelParams model;
  QuantParams quant;
  GainCellParams gain_cell;
  RetentionParams retention;
  VariationParams variation;
  NoiseParams noise;
  ChargeToPulseParams charge_to_pulse;
  ScalerParams scalers;
  TimingParams timing;
  EnergyParams energy;
  AreaParams area;

  std::map<std::string, ParamMeta> meta;  // by dotted key
  std::string description;

  int subtiles_per_head() const { return (window + array.cols - 1) / array.cols; }
  // The time between two tokens of one head when no clock says otherwise: every layer takes
  // its compute phases once per token (12 x 65 ns for GPT-2).
  double nominal_token_period_ns() const { return model.n_layers * timing.token_latency_ns(); }
  // Any deviation from the ideal circuits (mismatch or noise) switched on.
  bool non_ideal() const {
    return variation.cells_vary() || variation.ctp_offset_sigma > 0.0 || noise.read_sigma > 0.0 ||
           noise.write_sigma_v > 0.0;
  }
};

// Description of one parameter key, for documentation and validation.
struct ParamInfo {
  std::string key;
  bool integer = false;
  double min = 0.0;
  double max = 0.0;
  bool min_exclusive = false;
  std::string unit;
};

// All keys a parameter file must define, in file order.
const std::vector<ParamInfo>& param_catalog();

// Loads a parameter file (following "extends"), applies "key=value" overrides in order,
// validates. Throws SpecError naming the file, the key and the allowed range.
HardwareSpec load_spec(const std::string& path, const std::vector<std::string>& overrides = {});

// Applies one "key=value" override to an already loaded spec and re-validates it.
void apply_override(HardwareSpec& spec, const std::string& assignment);

// Value of a key as a double (for printing and reports).
double get_param(const HardwareSpec& spec, const std::string& key);

// Range and consistency checks; throws SpecError.
void validate(const HardwareSpec& spec, const std::string& file = "");

// Directory holding the shipped parameter files (set at build time).
std::string default_params_dir();
std::string default_spec_path();  // default_params_dir()/gpt2.json

}  // namespace gca::spec
