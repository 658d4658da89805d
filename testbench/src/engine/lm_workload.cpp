// The language-model workload (scenario "workload": {"kind": "lm", "model": MANIFEST,
// "text": FILE, "chars": N}): the shipped character model's host side in a closed loop with
// the simulated heads (gca/tlm/lm_closed_loop.hpp), scoring the text in chunks of the model's
// context with every head reset between chunks. Its figures: bits per character and top-1
// accuracy of the accelerator, of the float surrogate of its attention with the run's hardware
// parameters (ideal) and of the softmax network.
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "gca/spec/error.hpp"
#include "gca/tb/engine/workload.hpp"
#include "gca/tb/lm_run.hpp"
#include "gca/tlm/lm_closed_loop.hpp"

namespace gca::tb {
namespace {

namespace fs = std::filesystem;

// Models by manifest path: a sweep or Monte Carlo loads each once per process.
std::shared_ptr<const lm::Model> cached_model(const std::string& manifest) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const lm::Model>> models;
  std::lock_guard<std::mutex> lock(mutex);
  auto& m = models[manifest];
  if (!m) m = std::make_shared<const lm::Model>(lm::load_model(manifest));
  return m;
}

std::string resolve(const std::string& scenario_file, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(scenario_file).parent_path() / p).lexically_normal().string();
}

struct LmSettings {
  std::string model, text;
  long chars = -1;
};

LmSettings settings_of(const Scenario& sc) {
  const nlohmann::json& w = sc.workload_section;
  LmSettings s;
  for (const char* key : {"model", "text"}) {
    if (!w.contains(key) || !w[key].is_string() || w[key].get<std::string>().empty())
      throw Error(sc.file, std::string("workload.") + key,
                  std::string("missing (allowed: a path") +
                      (key == std::string("model") ? " to a manifest.json)" : " to a UTF-8 text)"));
  }
  s.model = resolve(sc.file, w["model"].get<std::string>());
  s.text = resolve(sc.file, w["text"].get<std::string>());
  if (w.contains("chars")) {
    if (!w["chars"].is_number_integer() || w["chars"].get<long>() < 2)
      throw Error(sc.file, "workload.chars",
                  "is " + w["chars"].dump() + " (allowed: an integer >= 2)");
    s.chars = w["chars"].get<long>();
  }
  return s;
}

lm::Encoded read_text(const lm::Model& model, const std::string& path, long chars) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "workload.text", "cannot open the text file");
  std::stringstream buf;
  buf << in.rdbuf();
  lm::Encoded e = lm::encode(model.vocab, buf.str());
  if (chars >= 0 && static_cast<long>(e.ids.size()) > chars) {
    e.ids.resize(static_cast<std::size_t>(chars));
    e.unknown.resize(static_cast<std::size_t>(chars));
  }
  e.unknown_count = std::count(e.unknown.begin(), e.unknown.end(), true);
  if (e.ids.size() < 2) throw Error(path, "workload.text", "holds fewer than 2 characters");
  return e;
}

class LmWorkload : public Workload {
 public:
  LmWorkload(std::shared_ptr<const lm::Model> model, lm::Encoded text, const spec::HardwareSpec& s,
             LmSettings settings)
      : model_(std::move(model)),
        text_(std::move(text)),
        hw_(attention_of(s)),
        settings_(std::move(settings)),
        loop_(*model_, hw_, plan(), text_.unknown) {}

  void inputs(long t, int l, int h, double* q, double* k, double* v) override {
    loop_.source(t, l, h, q, k, v);
  }
  void output(long t, int l, int h, const double* out) override { loop_.sink(t, l, h, out); }
  bool reset_heads_before(long t) const override { return loop_.reset_before(t); }

  void add_metrics(Metrics& m) const override {
    const LmScores& s = scores();
    m.set("lm_bits_per_char", s.accelerator.bits_per_char(), "bit/char",
          "cross-entropy of the accelerator's next-character predictions on the text");
    m.set("lm_top1_accuracy", s.accelerator.top1_accuracy(), "1",
          "share of the text's characters the accelerator ranks first");
    m.set("lm_bits_per_char_ideal", s.ideal.bits_per_char(), "bit/char",
          "the same with the float surrogate of the hardware's attention (no non-idealities)");
    m.set("lm_bits_per_char_softmax", s.softmax.bits_per_char(), "bit/char",
          "the softmax network on the same text");
  }
  nlohmann::ordered_json report() const override {
    const nlohmann::json j = lm_section(scores(), 0.0, 0.0);
    nlohmann::ordered_json r;
    r["model"] = settings_.model;
    r["text"] = settings_.text;
    for (const char* k : {"chars_fed", "chars_scored", "unknown_chars", "unknown_targets_skipped",
                          "bits_per_char", "top1_accuracy"})
      r[k] = j[k];
    return r;
  }

 private:
  lm::ScoringPlan plan() const {
    lm::ScoringPlan p;
    p.ids = text_.ids;
    p.context = model_->arch.context;
    return p;
  }
  // The float columns, computed once when first asked for (after the run).
  const LmScores& scores() const {
    if (!scored_) {
      scores_.chars_fed = static_cast<long>(text_.ids.size());
      scores_.unknown_chars = text_.unknown_count;
      score_float(*model_, hw_, text_, scores_);
      scored_ = true;
    }
    scores_.accelerator = loop_.tally();
    return scores_;
  }

  std::shared_ptr<const lm::Model> model_;
  lm::Encoded text_;
  lm::HardwareAttentionParams hw_;
  LmSettings settings_;
  tlm::LmClosedLoop loop_;
  mutable LmScores scores_;
  mutable bool scored_ = false;
};

}  // namespace

WorkloadKind lm_workload_kind() {
  WorkloadKind k;
  k.name = "lm";
  k.description =
      "a character language model (workload.model: manifest.json) scoring workload.text "
      "(first workload.chars characters) in a closed loop, decode";
  k.keys = {"model", "text", "chars"};
  k.configure = [](Scenario& sc) {
    const LmSettings st = settings_of(sc);
    const auto model = cached_model(st.model);
    const lm::Encoded text = read_text(*model, st.text, st.chars);
    if (sc.host.workload != tlm::Workload::decode)
      throw Error(sc.file, "workload.mode", "\"prefill\" (allowed for kind lm: \"decode\")");
    if (sc.workload_section.contains("tokens"))
      throw Error(sc.file, "workload.tokens",
                  "not with kind lm (the text's characters are the tokens; use workload.chars)");
    sc.host.tokens = static_cast<long>(text.ids.size());
    // The model's shape and trained hardware first; the scenario's own overrides win.
    const std::vector<std::string> model_keys = lm_overrides(*model);
    sc.overrides.insert(sc.overrides.begin(), model_keys.begin(), model_keys.end());
  };
  k.make = [](const Scenario& sc, const spec::HardwareSpec& s) -> std::unique_ptr<Workload> {
    LmSettings st = settings_of(sc);
    const auto model = cached_model(st.model);
    lm::Encoded text = read_text(*model, st.text, st.chars);
    if (sc.host.tokens < static_cast<long>(text.ids.size())) {
      text.ids.resize(static_cast<std::size_t>(sc.host.tokens));
      text.unknown.resize(static_cast<std::size_t>(sc.host.tokens));
    } else if (sc.host.tokens > static_cast<long>(text.ids.size())) {
      throw Error(sc.file, "--tokens",
                  std::to_string(sc.host.tokens) + " is more than the text's " +
                      std::to_string(text.ids.size()) + " characters");
    }
    return std::make_unique<LmWorkload>(model, std::move(text), s, std::move(st));
  };
  return k;
}

}  // namespace gca::tb
