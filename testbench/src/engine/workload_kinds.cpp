// The registry of workload kinds. A new kind: its own file with a function returning its
// WorkloadKind, and one line in the list below.
#include "gca/spec/error.hpp"
#include "gca/tb/engine/workload.hpp"

namespace gca::tb {

const std::vector<WorkloadKind>& workload_kinds() {
  static const std::vector<WorkloadKind> kinds{
      synthetic_workload_kind(),
  };
  return kinds;
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

}  // namespace gca::tb
