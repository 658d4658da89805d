// The device figures of the comparison: the shipped file, a file of power/tools/measure_baseline.py
// (the H200 measurement shipped in power/data/measured), each kind of bad file (one error naming
// the file and the key), and the comparison labelled with shapes: ratios only for figures of the
// simulated shape, the others named with their shape.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gca/power/baselines.hpp"
#include "gca/power/report.hpp"
#include "gca/spec/error.hpp"
#include "gca/spec/params.hpp"

using namespace gca::power;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::path(GCA_POWER_TEST_TMP_DIR) / "baselines";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A small file as measure_baseline.py writes it (energy not measured: a CPU without RAPL).
const char* kCpuFile = R"json({
  "format": "gca-tlm.gpu-baselines/1",
  "workload": {"description": "one layer", "n_heads": 2, "d_head": 64, "window": 256},
  "measurement": {"device": "Test CPU", "date": "2026-12-04T06:00:00Z", "method": "wall clock",
                  "software": {"torch": "1.13.0", "threads": 1}},
  "gpus": [
    {"name": "Test CPU float32 (batch 1)", "latency_us": 130.0, "energy_mj": null,
     "batch": 1, "dtype": "float32", "launch": "eager", "source": "measured here"},
    {"name": "Test CPU float32 (batch 64)", "latency_us": 6.5, "energy_mj": 0.5,
     "energy_above_idle_mj": 0.25, "batch": 64, "source": "measured here"}
  ]
})json";

// What loading `text` throws: its message.
std::string load_error(const std::string& name, const std::string& text) {
  const fs::path p = temp_file(name, text);
  try {
    load_device_baselines(p.string());
  } catch (const gca::Error& e) {
    return e.what();
  }
  return "no error";
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST(Baselines, ShippedFileHoldsTheSourcedFigures) {
  const Baselines b = load_baselines();
  std::map<std::string, GpuBaseline> by;
  for (const auto& g : b.gpus) by[g.name] = g;
  ASSERT_EQ(b.gpus.size(), 6u);
  EXPECT_EQ(b.shape, (AttentionShape{12, 64, 1024}));
  EXPECT_EQ(b.shape.label(), "12 heads, d 64, window 1024");
  for (const auto& g : b.gpus) {
    EXPECT_EQ(g.shape, b.shape) << g.name;
    EXPECT_FALSE(g.source.empty()) << g.name;
  }
  // H200, fp16, CUDA graph (docs/gpu_baselines.md): 6.41 us, 0.73 mJ at batch 1.
  const GpuBaseline& h200 = by.at("H200 fp16 (batch 1)");
  EXPECT_DOUBLE_EQ(h200.latency_ns, 6410.0);
  EXPECT_DOUBLE_EQ(h200.energy_nj, 0.73e6);
  EXPECT_DOUBLE_EQ(h200.energy_above_idle_nj, 0.21e6);
  EXPECT_EQ(h200.batch, 1);
  EXPECT_EQ(by.at("H200 fp16 (batch 64)").batch, 64);
  EXPECT_EQ(by.at("RTX 4090 (batch 64)").batch, 0);  // not stated in the file
}

// The H200 measurement of measure_baseline.py shipped beside the data file: its per-token
// figures are its per-step figures over the batch.
TEST(Baselines, MeasuredH200FileReads) {
  const std::string path = std::string(GCA_POWER_DATA) + "/measured/h200_2026-12-04.json";
  const std::vector<GpuBaseline> gpus = load_device_baselines(path);
  ASSERT_EQ(gpus.size(), 2u);
  std::ifstream in(path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const GpuBaseline& g = gpus[i];
    EXPECT_EQ(g.shape, (AttentionShape{12, 64, 1024}));
    EXPECT_EQ(g.device, "NVIDIA H200");
    EXPECT_EQ(g.dtype, "float16");
    EXPECT_EQ(g.launch, "cuda graph");
    EXPECT_NE(g.method.find("CUDA events"), std::string::npos);
    EXPECT_NE(g.software.find("driver"), std::string::npos);
    EXPECT_TRUE(g.measured_energy());
    const auto& graph = doc["gpus"][i]["measured"]["cuda graph"];
    EXPECT_NEAR(g.latency_ns, graph["step_us"].get<double>() * 1e3 / g.batch, 1e-9 * g.latency_ns);
  }
  EXPECT_EQ(gpus[0].batch, 1);
  EXPECT_EQ(gpus[1].batch, 64);
  // Memory-bound at batch 64: under 1 us per token, against several at batch 1.
  EXPECT_LT(gpus[1].latency_ns, 1000.0);
  EXPECT_GT(gpus[0].latency_ns, 4 * gpus[1].latency_ns);
}

TEST(Baselines, DeviceFileWithEnergyNotMeasured) {
  const std::vector<GpuBaseline> gpus =
      load_device_baselines(temp_file("cpu.json", kCpuFile).string());
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_FALSE(gpus[0].measured_energy());
  EXPECT_DOUBLE_EQ(gpus[0].latency_ns, 130000.0);
  EXPECT_DOUBLE_EQ(gpus[1].energy_nj, 0.5e6);
  EXPECT_DOUBLE_EQ(gpus[1].energy_above_idle_nj, 0.25e6);
  EXPECT_EQ(gpus[0].shape.label(), "2 heads, d 64, window 256");
  EXPECT_EQ(gpus[0].device, "Test CPU");
  EXPECT_EQ(gpus[0].software, "torch 1.13.0, threads 1");
}

TEST(Baselines, BadFilesNameFileAndKey) {
  struct Case {
    const char* from;
    const char* to;
    const char* key;
  };
  const Case cases[] = {
      {"\"latency_us\": 130.0", "\"latency_us\": -1", "gpus[0].latency_us: must be a number > 0"},
      {"\"latency_us\": 130.0", "\"latency_us\": \"fast\"", "gpus[0].latency_us: must be a number"},
      {"\"latency_us\": 130.0,", "", "gpus[0].latency_us: missing"},
      {"\"energy_mj\": 0.5", "\"energy_mj\": 0", "gpus[1].energy_mj: must be a number > 0"},
      {"\"energy_above_idle_mj\": 0.25", "\"energy_above_idle_mj\": -0.1",
       "gpus[1].energy_above_idle_mj: must be >= 0"},
      {"\"n_heads\": 2", "\"n_heads\": 0", "workload.n_heads: must be an integer"},
      {"\"window\": 256", "\"window\": 25.5", "workload.window: must be an integer"},
      {"\"d_head\": 64,", "", "workload.d_head: missing"},
      {"\"batch\": 64", "\"batch\": \"many\"", "gpus[1].batch: must be an integer"},
      {"gca-tlm.gpu-baselines/1", "other/2", "format: 'other/2'"},
      {"\"source\": \"measured here\"}\n  ]", "\"source\": 7}\n  ]",
       "gpus[1].source: must be a string"},
      {"\"Test CPU float32 (batch 1)\"", "\"\"", "gpus[0].name: must not be empty"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string name = "bad" + std::to_string(i++) + ".json";
    const std::string msg = load_error(name, replaced(kCpuFile, c.from, c.to));
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.key), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_NE(load_error("empty_list.json", R"({"workload": {"n_heads": 1, "d_head": 64,
            "window": 64}, "gpus": []})")
                .find("gpus: must be a non-empty list"),
            std::string::npos);
  EXPECT_NE(load_error("broken.json", "{\"gpus\": [").find("malformed JSON"), std::string::npos);
  EXPECT_NE(
      load_error("report.json", R"({"schema": "gca-tlm.report/1"})").find("workload: missing"),
      std::string::npos);
  try {
    load_device_baselines("/nonexistent/gpu.json");
    FAIL() << "no error";
  } catch (const gca::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/gpu.json"), std::string::npos);
  }
}

// A run of 2 heads, d 64, window 256 against the shipped figures (12 heads, window 1024) and the
// file above (2 heads, window 256): ratios only for the latter, the former named with their
// shape; the plot data holds the simulated shape in its title and only figures of that shape.
TEST(Baselines, ComparisonIsLabelledWithShapes) {
  Baselines b = load_baselines();
  add_baseline_files(b, {temp_file("cpu.json", kCpuFile).string()});
  ASSERT_EQ(b.gpus.size(), 8u);
  Report r;
  r.spec = gca::spec::load_spec(gca::spec::default_spec_path(), {"window=256", "model.n_heads=2"});
  r.run.scenario = "shapes";
  r.baselines = b;
  r.shape = AttentionShape{2, 64, 256};
  r.comparable = r.shape == b.shape;
  r.layer_latency_ns = 65.0;
  r.layer_energy_nj = 10.0;
  ASSERT_FALSE(r.comparable);

  const nlohmann::json j = nlohmann::json::parse(report_json(r)).at("gpu_comparison");
  EXPECT_EQ(j.at("simulated_shape").at("label"), "2 heads, d 64, window 256");
  EXPECT_FALSE(j.at("paper_accelerator").at("comparable").get<bool>());
  EXPECT_EQ(j.at("added_files").size(), 1u);
  int compared = 0;
  for (const auto& d : j.at("devices")) {
    const bool same = d.at("shape").at("label") == "2 heads, d 64, window 256";
    EXPECT_EQ(d.at("comparable").get<bool>(), same) << d.dump();
    EXPECT_EQ(d.contains("latency_ratio"), same) << d.dump();
    if (!same) {
      EXPECT_NE(d.at("note").get<std::string>().find("12 heads, d 64, window 1024"),
                std::string::npos);
      continue;
    }
    ++compared;
    if (d.at("name") == "Test CPU float32 (batch 1)") {
      EXPECT_DOUBLE_EQ(d.at("latency_ratio").get<double>(), 130000.0 / 65.0);
      EXPECT_TRUE(d.at("energy_nj").is_null());
      EXPECT_TRUE(d.at("energy_ratio").is_null());
    } else {
      EXPECT_DOUBLE_EQ(d.at("latency_ratio").get<double>(), 6500.0 / 65.0);
      EXPECT_DOUBLE_EQ(d.at("energy_ratio").get<double>(), 0.5e6 / 10.0);
      EXPECT_DOUBLE_EQ(d.at("energy_above_idle_ratio").get<double>(), 0.25e6 / 10.0);
    }
  }
  EXPECT_EQ(compared, 2);

  const std::string table = comparison_table(r);
  EXPECT_NE(table.find("(2 heads, d 64, window 256)"), std::string::npos) << table;
  EXPECT_NE(table.find("Test CPU float32 (batch 64)"), std::string::npos) << table;
  EXPECT_NE(table.find("x2000 latency"), std::string::npos) << table;  // 130 us / 65 ns
  EXPECT_NE(table.find("x100 latency, x50000 energy"), std::string::npos) << table;
  EXPECT_NE(table.find("not compared, measured on 12 heads, d 64, window 1024: GCA (paper), RTX "
                       "4090 (batch 64), Jetson Nano (batch 64), H100"),
            std::string::npos)
      << table;
  EXPECT_EQ(table.find("not compared, measured on 2 heads"), std::string::npos) << table;

  const fs::path dir = fs::path(GCA_POWER_TEST_TMP_DIR) / "baselines_plot";
  fs::create_directories(dir);
  write_plot_data(dir.string(), r);
  const std::string csv = slurp(dir / "gpu_comparison.csv");
  EXPECT_EQ(csv.rfind("# title: One layer of attention per token, as simulated: 2 heads, d 64, "
                      "window 256\n",
                      0),
            0u)
      << csv;
  EXPECT_NE(csv.find("# left out: 7 figures measured on other shapes"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"Test CPU float32 (batch 1) (energy not measured)\",130000,NaN"),
            std::string::npos)
      << csv;
  EXPECT_EQ(csv.find("RTX 4090"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("GCA (paper)"), std::string::npos) << csv;
}
