// The executable spec against the authors' own vectors for one 64x64 sub-tile
// (the authors_64x64 folder of the data folder, GCA_SHARED_DATA_DIR, see its README): window 64,
// ideal converters, no decay. Their model ran in reduced precision, so agreement is judged by
// relative L2 error < 1e-2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "gca/spec/head_model.hpp"
#include "gca/tb/npy.hpp"

using namespace gca::spec;

namespace {

std::string authors_dir() {
  if (const char* env = std::getenv("GCA_DATA_DIR")) return std::string(env) + "/authors_64x64";
  return std::string(GCA_SHARED_DATA_DIR) + "/authors_64x64";
}

struct L2 {
  double err = 0.0, ref = 0.0;
  void add(double got, double want) {
    err += (got - want) * (got - want);
    ref += want * want;
  }
  double relative() const { return std::sqrt(err / ref); }
};

}  // namespace

TEST(AuthorsVectors, SubTile64x64MatchesWithin1Percent) {
  const std::string dir = authors_dir();
  if (!std::filesystem::exists(dir + "/Q.npy")) {
    GTEST_SKIP() << "authors' vectors not found in " << dir
                 << " (set GCA_DATA_DIR or -DGCA_SHARED_DATA_DIR)";
  }
  gca::tb::NpyReadOptions opt;
  opt.expected_ndim = 3;
  auto Q = gca::tb::read_npy(dir + "/Q.npy", opt);
  auto K = gca::tb::read_npy(dir + "/K.npy", opt);
  auto V = gca::tb::read_npy(dir + "/V.npy", opt);
  auto S = gca::tb::read_npy(dir + "/S.npy", opt);
  auto PHI = gca::tb::read_npy(dir + "/phi_S.npy", opt);
  auto OUT = gca::tb::read_npy(dir + "/output.npy", opt);
  const std::size_t cases = Q.shape[0], T = Q.shape[1], d = Q.shape[2];
  ASSERT_EQ(T, 64u);
  ASSERT_EQ(d, 64u);

  HardwareSpec spec =
      load_spec(default_spec_path(), {"window=64", "quant.q_levels=0", "quant.kv_levels=0",
                                      "quant.out_levels=0", "retention.tau_ms=0"});
  L2 l2_s, l2_phi, l2_out;
  std::vector<double> q(d), k(d), v(d), out(d);
  for (std::size_t c = 0; c < cases; ++c) {
    HeadModel head(spec);
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t i = 0; i < d; ++i) {
        q[i] = Q.at(c, t, i);
        k[i] = K.at(c, t, i);
        v[i] = V.at(c, t, i);
      }
      head.step(q.data(), k.data(), v.data(), out.data());
      for (std::size_t j = 0; j < T; ++j) {  // slot j holds token j; masked (j > t) is 0
        l2_s.add(head.scores()[j], S.at(c, t, j));
        l2_phi.add(head.phi()[j], PHI.at(c, t, j));
      }
      for (std::size_t i = 0; i < d; ++i) l2_out.add(out[i], OUT.at(c, t, i));
    }
  }
  RecordProperty("rel_l2_S", std::to_string(l2_s.relative()));
  RecordProperty("rel_l2_phi", std::to_string(l2_phi.relative()));
  RecordProperty("rel_l2_out", std::to_string(l2_out.relative()));
  std::printf("authors_64x64 relative L2 error: S %.3e, phi %.3e, output %.3e\n", l2_s.relative(),
              l2_phi.relative(), l2_out.relative());
  EXPECT_LT(l2_s.relative(), 1e-2);
  EXPECT_LT(l2_phi.relative(), 1e-2);
  EXPECT_LT(l2_out.relative(), 1e-2);
}
