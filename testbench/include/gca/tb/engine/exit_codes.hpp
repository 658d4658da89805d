// Exit codes of gca-sim, the same for every command.
#pragma once

namespace gca::tb {

enum ExitCode : int {
  kExitOk = 0,
  kExitCheckFailed = 1,  // outputs differ from the oracle or the expected data
  kExitBadInput = 2,     // usage, parameters, scenario or data files
  kExitSimError = 3,     // a transaction failed inside the simulation
};

}  // namespace gca::tb
