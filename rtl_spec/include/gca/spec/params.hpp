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
#include <utility>
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
  double tau_ms = 0.0;             // time constant at tau_temperature_c; 0 = no leakage
  double tau_temperature_c = 0.0;  // temperature at which tau_ms holds
  double activation_ev = 0.0;      // activation energy of the leakage (Arrhenius)
  int refresh = 0;                 // 0 = none, 1 = rewrite decayed columns from a digital shadow
  double refresh_threshold = 0.0;  // refresh once the stored deviation lost this fraction
  // Filled by derive_timing: tau at technology.temperature_c relative to tau_ms (Arrhenius).
  double temperature_factor = 1.0;
  bool leaks() const { return tau_ms > 0.0; }
  double tau_ns() const { return tau_ms * 1e6 * temperature_factor; }
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

// The saturation charges are those of a read with pulses of t_ref_ns at full width: a column
// integrates charge for as long as its pulses last, so with another T_max the same stored
// values and inputs give T_max / t_ref_ns times the charge.
struct ChargeToPulseParams {
  double s_sat_qk = 0.0;  // HardSigmoid: phi = clip(S / s_sat_qk, 0, 1)
  double s_sat_av = 0.0;  // signed output: clip(A / s_sat_av, -1, 1)
  double t_ref_ns = 0.0;  // T_max at which s_sat_qk and s_sat_av hold
  double charge_scale(double t_max_ns) const { return t_max_ns / t_ref_ns; }
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

// Phase durations. A phase key set to 0 means "derive it" (derive_timing): Q and HardSigmoid
// phases last T_max, the count phase counts the counter's levels at the clock, the digital
// phase climbs the adder tree and hands off. The *_set_ns members hold the keys; the phase_*_ns
// members hold the durations in force, which every consumer reads.
struct TimingParams {
  double t_max_ns = 0.0;
  double clock_ghz = 0.0;           // digital clock: counters, adder tree, control
  double pwm_time_base_ns = 0.0;    // finest step the Q pulse generators can resolve
  int adder_stage_cycles = 0;       // clock cycles per level of the adder tree
  int handoff_cycles = 0;           // cycles to hand the head's sum to the host side
  double phase_q_set_ns = 0.0;      // 0 = derived
  double phase_phi_set_ns = 0.0;    // 0 = derived
  double phase_count_set_ns = 0.0;  // 0 = derived
  double phase_precharge_ns = 0.0;
  double phase_digital_set_ns = 0.0;  // 0 = derived
  double write_ns = 0.0;
  // In force (derived or set): filled by derive_timing.
  double phase_q_ns = 0.0;
  double phase_phi_ns = 0.0;
  double phase_count_ns = 0.0;
  double phase_digital_ns = 0.0;
  // The write of a token's K column and V line runs alongside the precharge; the longer of
  // the two holds back the Q pulses.
  double precharge_write_ns() const {
    return phase_precharge_ns > write_ns ? phase_precharge_ns : write_ns;
  }
  double clock_period_ns() const { return 1.0 / clock_ghz; }
  // Latency of one token through one layer: the sequential compute phases.
  double token_latency_ns() const {
    return precharge_write_ns() + phase_q_ns + phase_phi_ns + phase_count_ns + phase_digital_ns;
  }
  // Time a token occupies the analog phases (the next one may enter them after it).
  double analog_occupancy_ns() const {
    return precharge_write_ns() + phase_q_ns + phase_phi_ns + phase_count_ns;
  }
};

// Physical quantities of the circuits, from which power/ computes the energy of every action
// (docs/cost_model.md holds the formulas). Units are in the names.
struct CostParams {
  double vdd_v = 0.0;                        // supply of arrays, converters and logic
  double read_charge_unit_fc = 0.0;          // charge of |g| = 1 over one pulse of t_ref_ns
  double c_read_bitline_per_cell_ff = 0.0;   // read bit line / output line load per cell
  double c_read_wordline_per_cell_ff = 0.0;  // read word line load per cell (gate)
  double c_wire_per_um_ff = 0.0;             // wire capacitance per um (node independent)
  double r_wire_per_um_ohm = 0.0;            // wire resistance per um at the reference node
  double line_driver_kohm = 0.0;             // on-resistance of a word-line driver / repeater
  double integrator_swing_fraction = 0.0;    // integrator swing at saturation, of V_DD
  double comparator_bias_ua = 0.0;           // comparator bias of either charge-to-pulse
  double c_comparator_ff = 0.0;              // comparator node its bias swings (delay)
  double c_ff_clock_ff = 0.0;                // clock pin and clocked nodes of a flip-flop
  double c_ff_data_ff = 0.0;                 // nodes switched when a flip-flop's bit changes
  double c_clock_tree_per_sink_ff = 0.0;     // clock-tree wire and buffers per clocked sink
  double c_full_adder_ff = 0.0;              // switched capacitance of a full-adder bit
  double switching_activity = 0.0;           // fraction of data nodes that toggle per use
  int clock_gating = 0;                      // 1: flip-flops clocked only when they change
  int control_fsm_ffs = 0;                   // flip-flops of the phase sequencer
  double dac_unit_cap_ff = 0.0;              // unit capacitor of the binary-weighted write DAC
  double dac_settling_overdrive_v = 0.0;     // overdrive of the DAC buffer's input pair
  double c_write_bitline_per_cell_ff = 0.0;  // write bit line load per cell
  double c_storage_ff = 0.0;                 // storage node of a gain cell
  double cap_density_ff_per_um2 = 0.0;       // integrator capacitors (MOM/MIM)
  double c_sram_bit_ff = 0.0;                // shadow-copy SRAM: switched per bit accessed
  double sram_leakage_pw_per_bit = 0.0;      // shadow-copy SRAM leakage per bit
  double leakage_mw_per_mm2 = 0.0;           // static power density of the whole silicon
  int ideal_equivalent_bits = 0;             // bits an unquantized converter is costed with
};

// The process the circuits are built in (technology.hpp holds the scaling laws).
struct TechnologyParams {
  double node_nm = 0.0;        // feature size; cost/area/timing values are stated at 28 nm
  double temperature_c = 0.0;  // operating temperature (retention)
  double vdd_nominal_v = 0.0;  // nominal supply of the node (delays are stated at it)
  double vth_v = 0.0;          // threshold voltage (alpha-power law)
  double alpha = 0.0;          // velocity-saturation index of the alpha-power law
  double fo4_ps = 0.0;         // FO4 inverter delay at 28 nm and the nominal supply
};

// The link between the host and the accelerator (tlm/HostLink). Every transaction occupies
// the link for its bytes in the chosen wire format; transactions serialize.
enum class LinkFormat : int {
  codes = 0,  // packed DAC/PWM codes in, counter values out (the bits the converters use)
  f16 = 1,    // IEEE binary16 per value
  f32 = 2,    // IEEE binary32 per value
};
struct HostLinkParams {
  double bytes_per_ns = 0.0;  // bandwidth; 0 = ideal (transfers take no time)
  double latency_ns = 0.0;    // added to every transaction (pipelined: does not occupy the link)
  int format_code = 0;        // index of the host_link.format choice
  int ideal_code_bits = 0;    // codes: bits of a value whose converter does not quantize
  int request_buffer = 0;     // AT: requests the link holds on their way to the accelerator
  LinkFormat format() const { return static_cast<LinkFormat>(format_code); }
};

// The accelerator's register interface (systemc/Accelerator, rtl_spec/REGISTER_MAP.md).
struct RegisterParams {
  int command_queue = 0;  // STARTs a head queues before the analog stage takes them
};

// Silicon area of the components (power/ sums them per sub-tile, head, layer and model).
struct AreaParams {
  double cell_um2 = 0.0;          // one gain cell
  double hs_ctp_um2 = 0.0;        // one HardSigmoid charge-to-pulse circuit (per K column)
  double signed_ctp_um2 = 0.0;    // one signed charge-to-pulse circuit (per V output)
  double ff_um2 = 0.0;            // one flip-flop
  double full_adder_um2 = 0.0;    // one full-adder bit
  double dac_unit_cap_um2 = 0.0;  // one unit capacitor of a write DAC with its switch
  double line_driver_um2 = 0.0;   // one word-line pulse driver
  double control_um2 = 0.0;       // per head: sequencer, host interface, routing channels
  double sram_bit_um2 = 0.0;      // one shadow-copy SRAM bit with its share of periphery
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
  HostLinkParams host_link;
  RegisterParams registers;
  CostParams cost;
  AreaParams area;
  TechnologyParams technology;

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
  std::vector<std::string> choices;  // a named choice: the value is the index into these
};

// All keys a parameter file must define, in file order.
const std::vector<ParamInfo>& param_catalog();

// Loads a parameter file (following "extends"), applies "key=value" overrides in order,
// validates. Throws SpecError naming the file, the key and the allowed range.
HardwareSpec load_spec(const std::string& path, const std::vector<std::string>& overrides = {});

// One "key=value" override and where it was given, so that its errors name that place: the file
// ("--set" for the command line) and how the file spells the key ("hardware.set." + key).
struct Override {
  explicit Override(std::string assignment_, std::string file_ = "--set",
                    std::string key_prefix_ = "")
      : assignment(std::move(assignment_)),
        file(std::move(file_)),
        key_prefix(std::move(key_prefix_)) {}
  std::string assignment;
  std::string file;
  std::string key_prefix;
};
HardwareSpec load_spec_overridden(const std::string& path, const std::vector<Override>& overrides);

// The parameter file and the files it extends, in the order load_spec reads them (the file
// first). Files that cannot be read end the chain (load_spec reports them).
std::vector<std::string> spec_file_chain(const std::string& path);

// Applies one "key=value" override to an already loaded spec and re-validates it.
void apply_override(HardwareSpec& spec, const std::string& assignment);

// Value of a key as a double (for printing and reports).
double get_param(const HardwareSpec& spec, const std::string& key);

// Fills the phase durations in force from the keys (0 = derived); throws SpecError when a
// derived quantity is impossible (a Q pulse step finer than the PWM time base).
void derive_timing(HardwareSpec& spec, const std::string& file = "");

// Bits of a converter or counter with `levels` levels (ceil(log2 levels)); an ideal one
// (levels 0) is costed with cost.ideal_equivalent_bits.
int converter_bits(int levels, int ideal_equivalent_bits);

// Levels of an output counter: the signed result of out_levels levels is a sign bit and a
// magnitude counter of ceil(out_levels / 2) levels.
int counter_levels(int out_levels, int ideal_equivalent_bits);

// Depth of the adder tree that sums n sub-tile outputs: ceil(log2 n).
int adder_tree_depth(int n);

// Range and consistency checks; throws SpecError.
void validate(const HardwareSpec& spec, const std::string& file = "");

// Directory holding the shipped parameter files: set_default_params_dir's, else $GCA_PARAMS_DIR,
// else <prefix>/share/gca-tlm/params next to an installed libgca.so, else the source tree's.
std::string default_params_dir();
void set_default_params_dir(const std::string& dir);  // the override ("" restores the search)
std::string default_spec_path();                      // default_params_dir()/gpt2.json

}  // namespace gca::spec
