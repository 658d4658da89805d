// Retention figures of a run (docs/retention.md): for head 0 of layer 0, the age in simulated
// time of the oldest value in the window against tau, the output error the decay causes
// against the same head without leakage, and what the refresh policy rewrote, with its energy
// and time. Both reference heads are executable-spec heads (HeadModel) fed the model's data.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "gca/spec/head_model.hpp"

namespace gca::tb {

class RetentionProbe {
 public:
  explicit RetentionProbe(const spec::HardwareSpec& spec);
  // One token of head 0 of layer 0: its inputs, the model's output, when it was written.
  void submit(const double* q, const double* k, const double* v, const double* model_out,
              double now_ns);
  // The head's window was emptied (RESET): both heads start afresh; the figures go on.
  void reset();
  // The "retention" section of report.json.
  nlohmann::json summary() const;

 private:
  spec::HardwareSpec spec_;
  std::unique_ptr<spec::HeadModel> leaking_, ideal_;  // as simulated; without leakage
  std::vector<double> leak_out_, ideal_out_;
  double err2_ = 0.0, ref2_ = 0.0;
  long outputs_ = 0, moved_ = 0, tokens_ = 0;
  double oldest_token_age_ns_ = 0.0, oldest_value_age_ns_ = 0.0;
  long refreshed_columns_ = 0, refreshed_cells_ = 0, refresh_tokens_ = 0;
};

}  // namespace gca::tb
