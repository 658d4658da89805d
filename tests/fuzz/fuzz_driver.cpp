// A deterministic mutation fuzzer built with the project's compiler: replays a seed corpus,
// then applies a bounded number of seeded mutations (byte edits, cuts, repeats, splices and
// tokens that tripped readers before). Same seed, same inputs. With clang, the same targets
// build as libFuzzer programs instead (fuzz_libfuzzer.cpp).
//   gca_fuzz TARGET CORPUS_DIR [ITERATIONS [SEED]]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_targets.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::string;

const std::vector<Bytes> kTokens = {
    "{\"a\":", "[[[[[[[[", "1e400", "-1", "4294967296", "2147483648", "\xff\xfe",
    "\"value\":", "\"extends\":", "null", "0.0001", "(0, 4, 64)", "'shape':", "<f8", "True",
    "\\u0000", "}", "\x93NUMPY\x02\x00",
    // Shell and gnuplot syntax a path may carry into a script or a command line.
    "'", "''", "'\\''", "\n", "\r", "$(id)", "`id`", ";id;", "\"", "\\", "${IFS}", "#SBATCH --x",
    std::string("\0", 1)};

class Mutator {
 public:
  Mutator(std::uint64_t seed, const std::vector<Bytes>& corpus) : rng_(seed), corpus_(corpus) {}

  Bytes next(const Bytes& base) {
    Bytes b = base;
    const int edits = 1 + pick(4);
    for (int e = 0; e < edits; ++e) edit(b);
    if (b.size() > kMaxLen) b.resize(kMaxLen);
    return b;
  }

 private:
  static constexpr std::size_t kMaxLen = 1 << 16;
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : rng_() % n; }
  void edit(Bytes& b) {
    const std::size_t at = pick(b.size() + 1);
    switch (pick(7)) {
      case 0:  // flip a bit
        if (!b.empty()) b[at % b.size()] ^= char(1 << pick(8));
        break;
      case 1:  // set a random byte
        if (!b.empty()) b[at % b.size()] = char(pick(256));
        break;
      case 2:  // cut a piece
        b.erase(at, pick(b.size() - at + 1));
        break;
      case 3:  // insert a token
        b.insert(at, kTokens[pick(kTokens.size())]);
        break;
      case 4: {  // repeat a piece
        const std::size_t len = pick(std::min<std::size_t>(64, b.size() - at) + 1);
        const Bytes piece = b.substr(at, len);
        for (std::size_t r = pick(8); r > 0; --r) b.insert(at, piece);
        break;
      }
      case 5: {  // splice from another corpus input
        const Bytes& other = corpus_[pick(corpus_.size())];
        const std::size_t from = pick(other.size() + 1);
        b.insert(at, other.substr(from, pick(other.size() - from + 1)));
        break;
      }
      default:  // replace a digit run's digit
        for (std::size_t i = at; i < b.size(); ++i) {
          if (b[i] >= '0' && b[i] <= '9') {
            b[i] = char('0' + pick(10));
            break;
          }
        }
    }
  }
  std::mt19937_64 rng_;
  const std::vector<Bytes>& corpus_;
};

Bytes slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: gca_fuzz npy|params|scenario|baselines|slurm|gnuplot CORPUS_DIR "
                 "[ITERATIONS [SEED]]\n");
    return 2;
  }
  const gca::fuzz::Target target = gca::fuzz::find_target(argv[1]);
  if (target == nullptr) {
    std::fprintf(stderr,
                 "gca_fuzz: %s: unknown target (allowed: npy, params, scenario, baselines, "
                 "slurm, gnuplot)\n",
                 argv[1]);
    return 2;
  }
  const long iterations = argc > 3 ? std::atol(argv[3]) : 1000;
  const std::uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  gca::fuzz::setup(GCA_PARAMS_DIR);

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[2])) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());  // same order, same inputs
  std::vector<Bytes> corpus;
  for (const auto& f : files) corpus.push_back(slurp(f));
  if (corpus.empty()) {
    std::fprintf(stderr, "gca_fuzz: %s: empty corpus\n", argv[2]);
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  std::size_t corpus_bytes = 0;
  try {
    for (const Bytes& b : corpus) {
      corpus_bytes += b.size();
      target(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    }
    Mutator m(seed, corpus);
    for (long i = 0; i < iterations; ++i) {
      const Bytes input = m.next(corpus[std::size_t(i) % corpus.size()]);
      try {
        target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
      } catch (const std::exception& e) {
        const std::string keep = "fuzz-finding-" + std::string(argv[1]) + ".bin";
        std::ofstream(keep, std::ios::binary) << input;
        std::fprintf(stderr, "gca_fuzz: iteration %ld: %s (input saved to %s)\n", i, e.what(),
                     keep.c_str());
        gca::fuzz::teardown();
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gca_fuzz: seed input: %s\n", e.what());
    gca::fuzz::teardown();
    return 1;
  }
  gca::fuzz::teardown();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("gca_fuzz %s: %zu seed inputs (%zu bytes), %ld mutations, seed %llu, %.2f s\n",
              argv[1], corpus.size(), corpus_bytes, iterations, (unsigned long long)seed, s);
  return 0;
}
