// Parameter files: the shipped ones load with the paper's numbers; bad files and overrides
// are rejected with one line naming the file, the key and the allowed range.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gca/spec/params.hpp"

using namespace gca::spec;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("gca_params_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  // A file that starts from the shipped gpt2.json and adds `body` (a JSON object's members).
  std::string derived(const std::string& body) const {
    fs::copy_file(default_spec_path(), path_ / "gpt2.json", fs::copy_options::overwrite_existing);
    return write("user.json",
                 "{\"extends\": \"gpt2.json\"" + (body.empty() ? "" : ", " + body) + "}");
  }

 private:
  fs::path path_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gca::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Params, Gpt2DefaultsAreThePapers) {
  HardwareSpec s = load_spec(default_spec_path());
  EXPECT_EQ(s.window, 1024);
  EXPECT_EQ(s.array.rows, 64);
  EXPECT_EQ(s.array.cols, 64);
  EXPECT_EQ(s.model.n_layers, 12);
  EXPECT_EQ(s.model.n_heads, 12);
  EXPECT_EQ(s.model.d_head, 64);
  EXPECT_EQ(s.quant.q_levels, 16);
  EXPECT_EQ(s.quant.kv_levels, 8);
  EXPECT_EQ(s.quant.out_levels, 32);
  EXPECT_DOUBLE_EQ(s.charge_to_pulse.s_sat_qk, 80.0);
  EXPECT_DOUBLE_EQ(s.charge_to_pulse.s_sat_av, 40.0);
  EXPECT_DOUBLE_EQ(s.timing.t_max_ns, 15.0);
  EXPECT_DOUBLE_EQ(s.gain_cell.c[3][0], 46.05483778);
  // Derived phases: Q and HardSigmoid pulses T_max, 16-level counter at 1 GHz, adder tree of
  // depth 4 plus the hand-off (fitted so that the sum is the paper's 65 ns) plus one cycle for
  // the delays of the critical path (0.7 ns of Q line through 16 sub-tiles, comparators).
  EXPECT_DOUBLE_EQ(s.timing.phase_q_ns, 15.0);
  EXPECT_DOUBLE_EQ(s.timing.phase_phi_ns, 15.0);
  EXPECT_DOUBLE_EQ(s.timing.phase_count_ns, 15.0);
  EXPECT_DOUBLE_EQ(s.timing.phase_digital_ns, 5.0 + s.timing.handoff_cycles);
  EXPECT_DOUBLE_EQ(s.charge_to_pulse.t_ref_ns, 15.0);
  EXPECT_EQ(s.subtiles_per_head(), 16);
  EXPECT_EQ(s.meta.at("timing.t_max_ns").unit, "ns");
  EXPECT_NE(s.meta.at("timing.t_max_ns").source.find("Eq. 3"), std::string::npos);
}

TEST(Params, Gpt2XlExtendsGpt2) {
  HardwareSpec s = load_spec(default_params_dir() + "/gpt2_xl.json");
  EXPECT_EQ(s.model.n_layers, 48);
  EXPECT_EQ(s.model.n_heads, 25);
  EXPECT_EQ(s.window, 1024);
  EXPECT_NE(s.meta.at("model.n_heads").file.find("gpt2_xl.json"), std::string::npos);
  EXPECT_NE(s.meta.at("window").file.find("gpt2.json"), std::string::npos);
}

TEST(Params, OverridesByDottedName) {
  HardwareSpec s =
      load_spec(default_spec_path(), {"window=256", "quant.q_levels=0", "retention.tau_ms=5"});
  EXPECT_EQ(s.window, 256);
  EXPECT_EQ(s.quant.q_levels, 0);
  EXPECT_DOUBLE_EQ(s.retention.tau_ms, 5.0);
  EXPECT_EQ(s.meta.at("window").file, "--set");
  EXPECT_EQ(s.subtiles_per_head(), 4);
  EXPECT_DOUBLE_EQ(get_param(s, "model.d_head"), 64.0);
}

TEST(Params, CatalogHoldsTheUserInterfaceNames) {
  for (const char* key :
       {"window", "array.rows", "array.cols", "model.n_layers", "model.n_heads", "model.d_head",
        "quant.q_levels", "quant.kv_levels", "quant.out_levels", "retention.tau_ms",
        "retention.refresh", "variation.cell_gain_sigma", "variation.cell_offset_sigma_v",
        "variation.ctp_offset_sigma", "noise.read_sigma", "noise.write_sigma_v",
        "charge_to_pulse.s_sat_qk", "charge_to_pulse.s_sat_av", "timing.t_max_ns"}) {
    bool found = false;
    for (const auto& p : param_catalog()) found |= p.key == key;
    EXPECT_TRUE(found) << key;
  }
}

TEST(Params, BadOverridesAreRejectedWithKeyAndRange) {
  auto err = [](const std::string& o) {
    return error_of([&] { load_spec(default_spec_path(), {o}); });
  };
  EXPECT_EQ(err("window=0"), "--set: window: 0 is out of range (allowed: integer in [1, 1048576])");
  EXPECT_EQ(err("quant.q_levels=1"),
            "--set: quant.q_levels: 1 level is not a quantizer (allowed: 0 = ideal, or >= 2)");
  EXPECT_EQ(err("variation.cell_gain_sigma=-1"),
            "--set: variation.cell_gain_sigma: -1 is out of range (allowed: number in [0, 1])");
  EXPECT_EQ(err("window=12.5"),
            "--set: window: 12.5 is not an integer (allowed: integer in [1, 1048576])");
  EXPECT_EQ(err("window=abc"),
            "--set: window: 'abc' is not a number (allowed: integer in [1, 1048576])");
  EXPECT_NE(err("no.such.key=1").find("no.such.key: unknown parameter"), std::string::npos);
  EXPECT_NE(err("window").find("expected key=value"), std::string::npos);
  EXPECT_NE(err("charge_to_pulse.s_sat_qk=0").find("(allowed: number in (0, "), std::string::npos);
  EXPECT_NE(err("model.d_head=65").find("<= array.rows = 64"), std::string::npos);
  EXPECT_NE(err("timing.phase_q_ns=10").find("timing.phase_q_ns"), std::string::npos);
}

TEST(Params, BadFilesNameFileAndKey) {
  TempDir dir;
  std::string f;
  f = dir.derived(R"("window": {"value": -3, "unit": "tokens"})");
  EXPECT_EQ(error_of([&] { load_spec(f); }),
            f + ": window: -3 is out of range (allowed: integer in [1, 1048576])");
  f = dir.derived(R"("quant": {"kv_levels": 1})");
  EXPECT_NE(error_of([&] { load_spec(f); }).find("quant.kv_levels: 1 level"), std::string::npos);
  f = dir.derived(R"("quant": {"colour": 3})");
  EXPECT_EQ(error_of([&] { load_spec(f); }),
            f + ": quant.colour: unknown parameter (see `gca-sim spec` for the known keys)");
  f = dir.derived(R"("window": {"value": 64, "unit": "ns"})");
  EXPECT_EQ(error_of([&] { load_spec(f); }), f + ": window.unit: is 'ns', expected 'tokens'");
  f = dir.derived(R"("window": "64")");
  EXPECT_NE(error_of([&] { load_spec(f); }).find("window: must be a number"), std::string::npos);
  f = dir.derived(R"("window": {"value": 64, "colour": "red"})");
  EXPECT_NE(error_of([&] { load_spec(f); }).find("window.colour: unknown field"),
            std::string::npos);

  f = dir.write("broken.json", "{\n  \"window\": 64,\n  \"array\": {\"rows\" 64}\n}\n");
  std::string e = error_of([&] { load_spec(f); });
  EXPECT_NE(e.find(f + ": malformed JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("line 3, column"), std::string::npos) << e;

  f = dir.write("partial.json", R"({"window": 64})");
  EXPECT_NE(error_of([&] { load_spec(f); }).find(f + ": array.rows: missing"), std::string::npos);

  EXPECT_EQ(error_of([&] { load_spec("/nonexistent/x.json"); }),
            "/nonexistent/x.json: cannot open parameter file: No such file or directory");

  f = dir.write("loop.json", R"({"extends": "loop.json"})");
  EXPECT_NE(error_of([&] { load_spec(f); }).find("extends"), std::string::npos);
}

TEST(Params, ErrorsAreOneLine) {
  TempDir dir;
  std::string f = dir.write("broken.json", "{\n\n  \"window\": ,\n}\n");
  std::string e = error_of([&] { load_spec(f); });
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}
