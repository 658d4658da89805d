// The registry of workload kinds. A new kind: its own file with a function returning its
// WorkloadKind, and one line in the list below.
#include "gca/spec/error.hpp"
#include "gca/tb/engine/workload.hpp"

namespace gca::tb {

namespace {

std::vector<WorkloadKind>& registry() {
  static std::vector<WorkloadKind> kinds{
      synthetic_workload_kind(),
      lm_workload_kind(),
  };
  return kinds;
}

}  // namespace

const std::vector<WorkloadKind>& workload_kinds() {
  return registry();
}

void register_workload_kind(WorkloadKind kind) {
  auto& kinds = registry();
  for (auto& k : kinds) {
    if (k.name == kind.name) {
      k = std::move(kind);
      return;
    }
  }
  kinds.push_back(std::move(kind));
}

const WorkloadKind& find_workload_kind(const std::string& name, const std::string& file) {
  std::string names;
  for (const WorkloadKind& k : workload_kinds()) {
    if (k.name == name) return k;
    names += (names.empty() ? "" : ", ") + k.name;
  }
  throw Error(file, "workload.kind",
              "'" + name + "' is not a workload kind (allowed: " + names + ")");
}

void configure_workload(Scenario& scenario) {
  if (const auto& configure = find_workload_kind(scenario.workload_kind, scenario.file).configure)
    configure(scenario);
}

}  // namespace gca::tb
