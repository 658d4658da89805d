// The one place that knows where a sweep's result columns come from in a run's report.json.
// When report.json changes, adapt this table (testbench/src/sweep/sweep_columns.cpp) only; a
// field a report lacks gives an empty cell.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gca::tb {

struct ReportColumn {
  std::string name;         // column of sweep.csv
  std::string description;  // unit and where it comes from (for the documentation and sweep.json)
  // A number or a string, or nothing when the report lacks the field.
  std::function<std::optional<nlohmann::json>(const nlohmann::json& report)> read;
};

const std::vector<ReportColumn>& report_columns();

// Names of the columns the plots use.
namespace column {
inline constexpr const char* latency = "end_to_end_ns_per_token";
inline constexpr const char* energy = "energy_per_token_pj";
inline constexpr const char* area = "area_mm2";
inline const std::vector<std::string>& energy_groups() {  // per head per token, stacked bars
  static const std::vector<std::string> g{"head_qk_pj", "head_av_pj", "head_digital_pj",
                                          "head_dac_pj"};
  return g;
}
}  // namespace column

}  // namespace gca::tb
