// Tests for the .npy reader/writer. The main reading tests use files assembled byte by byte here,
// with values whose IEEE-754 encodings are written out by hand.
#include "gca/tb/npy.hpp"

#include "gca/spec/child_process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using gca::tb::NpyArray;
using gca::tb::NpyDtype;
using gca::tb::NpyError;
using gca::tb::NpyReadOptions;
using gca::tb::read_npy;
using gca::tb::write_npy;

namespace {

// Bytes from a list of small integers, so that embedded zeros are easy to write.
std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (const int b : list) s += static_cast<char>(b);
  return s;
}

constexpr char kMagic[] = "\x93NUMPY";

// A .npy file with the given version and header dict, the dict padded with spaces and a newline
// so that magic + version + length + header is a multiple of `align`.
std::string make_npy(int major, const std::string& dict, const std::string& data,
                     std::size_t align = 64) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  const std::size_t total = (prefix + dict.size() + 1 + align - 1) / align * align;
  const std::size_t hl = total - prefix;
  std::string f(kMagic, 6);
  f += static_cast<char>(major);
  f += '\0';
  for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) f += static_cast<char>(hl >> (8 * i));
  f += dict;
  f.append(hl - dict.size() - 1, ' ');
  f += '\n';
  return f + data;
}

std::string f8(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::string s;
  for (int i = 0; i < 8; ++i) s += static_cast<char>(bits >> (8 * i));
  return s;
}

std::string f8s(const std::vector<double>& vs) {
  std::string s;
  for (const double v : vs) s += f8(v);
  return s;
}

std::string dict_f8(const std::string& shape) {
  return "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
}

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("gca_npy_") + std::to_string(::getpid()) + "_" +
                       info->test_suite_name() + "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    dir_ = fs::temp_directory_path() / name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string put(const std::string& name, const std::string& content) const {
    const std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::vector<std::string> dir_entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    return names;
  }

  // Runs `fn`, which must throw an NpyError for file `p` whose message contains every keyword.
  static void expect_error(const std::function<void()>& fn, const std::string& p,
                           std::initializer_list<std::string> keywords) {
    try {
      fn();
      ADD_FAILURE() << "no NpyError thrown for " << p;
    } catch (const NpyError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      EXPECT_EQ(e.file(), p);
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      for (const auto& k : keywords) EXPECT_NE(msg.find(k), std::string::npos) << msg;
    }
  }

  static void expect_read_error(const std::string& p, std::initializer_list<std::string> keywords,
                                const NpyReadOptions& opt = {}) {
    expect_error([&] { read_npy(p, opt); }, p, keywords);
  }

  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------
// Hand-made files

TEST_F(NpyTest, ReadsHandMadeV1Float64Matrix) {
  std::string f;
  f += bytes({0x93, 'N', 'U', 'M', 'P', 'Y'});  // magic
  f += bytes({0x01, 0x00});                     // version 1.0
  f += bytes({0x76, 0x00});                     // header length 118: 10 + 118 = 128
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  ASSERT_LT(dict.size(), 117u);
  f += dict + std::string(117 - dict.size(), ' ') + "\n";
  ASSERT_EQ(f.size(), 128u);
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f});  //  1.0
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0});  // -2.0
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f});  //  0.5
  f += bytes({0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f});  //  0.1
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40});  //  3.0
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x59, 0x40});  //  100.0
  const NpyArray a = read_npy(put("m.npy", f));
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.rows(), 2u);
  EXPECT_EQ(a.cols(), 3u);
  EXPECT_EQ(a.data, (std::vector<double>{1.0, -2.0, 0.5, 0.1, 3.0, 100.0}));
  EXPECT_EQ(a.at(0, 1), -2.0);
  EXPECT_EQ(a.at(1, 0), 0.1);
  EXPECT_EQ(a.at(1, 2), 100.0);
}

TEST_F(NpyTest, ReadsHandMadeV2File) {
  std::string f;
  f += bytes({0x93, 'N', 'U', 'M', 'P', 'Y', 0x02, 0x00});
  f += bytes({0x74, 0x00, 0x00, 0x00});  // header length 116: 12 + 116 = 128
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  f += dict + std::string(115 - dict.size(), ' ') + "\n";
  ASSERT_EQ(f.size(), 128u);
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f});  //  1.5
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xbf});  // -0.5
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40});  //  2.0
  const NpyArray a = read_npy(put("v2.npy", f));
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{3}));
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -0.5, 2.0}));
}

TEST_F(NpyTest, ReadsHandMadeV3File) {
  std::string f;
  f += bytes({0x93, 'N', 'U', 'M', 'P', 'Y', 0x03, 0x00});
  f += bytes({0x74, 0x00, 0x00, 0x00});  // header length 116: 12 + 116 = 128
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}";
  ASSERT_LT(dict.size(), 115u);
  f += dict + std::string(115 - dict.size(), ' ') + "\n";
  ASSERT_EQ(f.size(), 128u);
  f += bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0xbf});  // -0.25
  const NpyArray a = read_npy(put("v3.npy", f));
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{1}));
  EXPECT_EQ(a.data, (std::vector<double>{-0.25}));
}

TEST_F(NpyTest, ReadsHandMadeFloat32File) {
  std::string f;
  f += bytes({0x93, 'N', 'U', 'M', 'P', 'Y', 0x01, 0x00, 0x76, 0x00});
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  f += dict + std::string(117 - dict.size(), ' ') + "\n";
  f += bytes({0x00, 0x00, 0x80, 0x3f});  //  1.0f
  f += bytes({0x00, 0x00, 0x00, 0xc0});  // -2.0f
  f += bytes({0x00, 0x00, 0x00, 0x3f});  //  0.5f
  f += bytes({0xcd, 0xcc, 0xcc, 0x3d});  //  0.1f
  const NpyArray a = read_npy(put("f4.npy", f));
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{1.0, -2.0, 0.5, static_cast<double>(0.1f)}));
}

TEST_F(NpyTest, AcceptsOldSixteenByteAlignedHeader) {
  const std::string f =
      make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", f8s({7.0, -8.0}), 16);
  const std::size_t header_end = f.size() - 16;
  ASSERT_EQ(header_end % 16, 0u);
  ASSERT_NE(header_end % 64, 0u);
  const NpyArray a = read_npy(put("old.npy", f));
  EXPECT_EQ(a.data, (std::vector<double>{7.0, -8.0}));
}

TEST_F(NpyTest, AcceptsUnalignedHeader) {
  const NpyArray a = read_npy(put("u.npy", make_npy(1, dict_f8("(1,)"), f8s({4.0}), 1)));
  EXPECT_EQ(a.data, (std::vector<double>{4.0}));
}

TEST_F(NpyTest, AcceptsHeaderSyntaxVariants) {
  const std::vector<std::string> dicts = {
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 1)}",
      "{'shape': (2, 1), 'fortran_order': False, 'descr': '<f8'}",
      "{'descr':'<f8','fortran_order':False,'shape':(2,1,),}",
      "{ 'descr' : '<f8' ,\t'fortran_order' : False , 'shape' : ( 2 , 1 ) , }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }",
  };
  for (std::size_t i = 0; i < dicts.size(); ++i) {
    const std::string p =
        put("var" + std::to_string(i) + ".npy", make_npy(1, dicts[i], f8s({1.0, 2.0})));
    const NpyArray a = read_npy(p);
    EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 1})) << dicts[i];
    EXPECT_EQ(a.data, (std::vector<double>{1.0, 2.0})) << dicts[i];
  }
}

TEST_F(NpyTest, ReadsScalarShape) {
  const NpyArray a = read_npy(put("s.npy", make_npy(1, dict_f8("()"), f8s({42.5}))));
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.data, (std::vector<double>{42.5}));
}

TEST_F(NpyTest, ReadsZeroSizedDimensions) {
  const NpyArray a = read_npy(put("z.npy", make_npy(1, dict_f8("(0,)"), "")));
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(a.data.empty());
  const NpyArray b = read_npy(put("z2.npy", make_npy(1, dict_f8("(3, 0, 5)"), "")));
  EXPECT_EQ(b.shape, (std::vector<std::size_t>{3, 0, 5}));
  EXPECT_TRUE(b.data.empty());
}

// ---------------------------------------------------------------------------------------------
// Rejections

TEST_F(NpyTest, RejectsMissingFile) {
  expect_read_error(path("does_not_exist.npy"), {"cannot open"});
}

TEST_F(NpyTest, RejectsDirectory) {
  fs::create_directory(path("adir.npy"));
  expect_read_error(path("adir.npy"), {"cannot open", "directory"});
}

TEST_F(NpyTest, RejectsBadMagic) {
  std::string f = make_npy(1, dict_f8("(1,)"), f8s({1.0}));
  f[5] = 'Z';
  expect_read_error(put("bad_magic.npy", f), {"bad_magic.npy", "magic"});
  expect_read_error(put("empty.npy", ""), {"empty.npy", "magic"});
  expect_read_error(put("text.npy", "hello, world\n"), {"text.npy", "magic"});
  expect_read_error(put("short.npy", "\x93NUM"), {"short.npy", "magic"});
}

TEST_F(NpyTest, RejectsUnsupportedVersion) {
  for (const auto& v : std::vector<std::pair<int, int>>{{4, 0}, {1, 1}, {0, 0}, {2, 5}}) {
    std::string f = make_npy(1, dict_f8("(1,)"), f8s({1.0}));
    f[6] = static_cast<char>(v.first);
    f[7] = static_cast<char>(v.second);
    const std::string expect_ver = std::to_string(v.first) + "." + std::to_string(v.second);
    expect_read_error(put("ver.npy", f), {"ver.npy", "version", expect_ver});
  }
}

TEST_F(NpyTest, RejectsTruncatedHeader) {
  const std::string full = make_npy(1, dict_f8("(1,)"), f8s({1.0}));
  expect_read_error(put("th1.npy", full.substr(0, 7)), {"th1.npy", "truncated header"});
  expect_read_error(put("th2.npy", full.substr(0, 9)), {"th2.npy", "truncated header"});
  expect_read_error(put("th3.npy", full.substr(0, 40)), {"th3.npy", "truncated header"});
  const std::string v2 = make_npy(2, dict_f8("(1,)"), "");
  expect_read_error(put("th4.npy", v2.substr(0, 11)), {"th4.npy", "truncated header"});
}

TEST_F(NpyTest, RejectsMalformedHeaders) {
  struct Case {
    std::string dict;
    std::string keyword;
  };
  const std::vector<Case> cases = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,) ", "expected"},
      {"'descr': '<f8', 'fortran_order': False, 'shape': (2,)", "'{'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2)}", "tuple"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [2]}", "tuple"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': 2}", "tuple"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}", "negative"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,,)}", "integer"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (02,)}", "leading zero"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}", "shape"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2x,)}", "shape"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
       "too large"},
      {"{'descr': '<f8', 'fortran_order': false, 'shape': (2,)}", "True or False"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}", "True or False"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unexpected key"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}", "duplicate key"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} junk", "unexpected text"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}}", "unexpected text"},
      {"{'descr: '<f8', 'fortran_order': False, 'shape': (2,)}", "expected"},
      {"{'descr': '<f8\\n', 'fortran_order': False, 'shape': (2,)}", "escape"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)", "expected"},
      {"{'descr': <f8, 'fortran_order': False, 'shape': (2,)}", "string"},
      {"{descr: '<f8', 'fortran_order': False, 'shape': (2,)}", "quoted key"},
      {"{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}", "expected"},
      {"{, 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", "quoted key"},
      {"", "'{'"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].dict);
    const std::string name = "malformed" + std::to_string(i) + ".npy";
    const std::string p = put(name, make_npy(1, cases[i].dict, f8s({1.0, 2.0})));
    expect_read_error(p, {name, "malformed header", cases[i].keyword});
  }
}

TEST_F(NpyTest, RejectsHeaderWithoutNewline) {
  std::string f = make_npy(1, dict_f8("(1,)"), f8s({1.0}));
  f[127] = ' ';  // the header occupies bytes 10..127, the newline being its last byte
  ASSERT_EQ(f.size(), 128u + 8u);
  expect_read_error(put("nonl.npy", f), {"nonl.npy", "malformed header", "newline"});
}

TEST_F(NpyTest, RejectsEmptyHeader) {
  const std::string f = bytes({0x93, 'N', 'U', 'M', 'P', 'Y', 0x01, 0x00, 0x00, 0x00});
  expect_read_error(put("eh.npy", f), {"eh.npy", "malformed header"});
}

TEST_F(NpyTest, RejectsMissingKeys) {
  const std::string data = f8s({1.0});
  expect_read_error(put("mk1.npy", make_npy(1, "{'fortran_order': False, 'shape': (1,)}", data)),
                    {"mk1.npy", "missing key 'descr'"});
  expect_read_error(put("mk2.npy", make_npy(1, "{'descr': '<f8', 'shape': (1,)}", data)),
                    {"mk2.npy", "missing key 'fortran_order'"});
  expect_read_error(put("mk3.npy", make_npy(1, "{'descr': '<f8', 'fortran_order': False}", data)),
                    {"mk3.npy", "missing key 'shape'"});
  expect_read_error(put("mk4.npy", make_npy(1, "{}", data)), {"mk4.npy", "missing key"});
}

TEST_F(NpyTest, RejectsWrongDtype) {
  for (const std::string descr :
       {"<i4", "<f2", "<c16", "f8", "|f4", "=f8", "|u1", "<f16", "float64", "", "<f8 "}) {
    SCOPED_TRACE(descr);
    const std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }";
    const std::string p = put("dtype.npy", make_npy(1, dict, f8s({1.0})));
    expect_read_error(
        p, {"dtype.npy", "expected dtype float32 or float64 (<f4/<f8), got '" + descr + "'"});
  }
}

TEST_F(NpyTest, RejectsBigEndian) {
  for (const std::string descr : {">f4", ">f8"}) {
    const std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }";
    const std::string p = put("be.npy", make_npy(1, dict, f8s({1.0})));
    expect_read_error(p, {"be.npy", "big-endian", "dtype", descr});
  }
}

TEST_F(NpyTest, RejectsStructuredDtype) {
  const std::string dict = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
  expect_read_error(put("st.npy", make_npy(1, dict, "xxxx")), {"st.npy", "structured", "dtype"});
}

TEST_F(NpyTest, RejectsFortranOrder) {
  const std::string dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }";
  expect_read_error(put("fo.npy", make_npy(1, dict, f8s({1, 2, 3, 4}))),
                    {"fo.npy", "fortran_order True"});
}

TEST_F(NpyTest, RejectsWrongNdim) {
  const std::string p = put("nd.npy", make_npy(1, dict_f8("(2, 3, 1)"), f8s({1, 2, 3, 4, 5, 6})));
  NpyReadOptions opt;
  opt.expected_ndim = 2;
  expect_read_error(p, {"nd.npy", "shape", "expected 2-D", "got 3-D", "(2, 3, 1)"}, opt);
  opt.expected_ndim = 3;
  EXPECT_EQ(read_npy(p, opt).shape, (std::vector<std::size_t>{2, 3, 1}));
}

TEST_F(NpyTest, RejectsWrongShape) {
  const std::string p = put("sh.npy", make_npy(1, dict_f8("(2, 3)"), f8s({1, 2, 3, 4, 5, 6})));
  NpyReadOptions opt;
  opt.expected_shape = {-1, 4};
  expect_read_error(p, {"sh.npy", "shape", "expected (*, 4)", "got (2, 3)"}, opt);
  opt.expected_shape = {2, 3, 1};
  expect_read_error(p, {"sh.npy", "shape", "expected (2, 3, 1)", "got (2, 3)"}, opt);
  opt.expected_shape = {3};
  expect_read_error(p, {"sh.npy", "shape", "expected (3,)", "got (2, 3)"}, opt);
}

TEST_F(NpyTest, ShapeWildcardsMatch) {
  const std::string p = put("wc.npy", make_npy(1, dict_f8("(2, 3)"), f8s({1, 2, 3, 4, 5, 6})));
  for (const auto& want : std::vector<std::vector<long>>{{2, 3}, {-1, 3}, {2, -1}, {-1, -1}}) {
    NpyReadOptions opt;
    opt.expected_shape = want;
    opt.expected_ndim = 2;
    EXPECT_EQ(read_npy(p, opt).data.size(), 6u);
  }
}

TEST_F(NpyTest, RejectsInvalidOptions) {
  const std::string p = put("opt.npy", make_npy(1, dict_f8("(1,)"), f8s({1.0})));
  NpyReadOptions a;
  a.expected_ndim = -2;
  expect_read_error(p, {"opt.npy", "invalid read options"}, a);
  NpyReadOptions b;
  b.expected_shape = {-3};
  expect_read_error(p, {"opt.npy", "invalid read options"}, b);
  NpyReadOptions c;
  c.expected_ndim = 2;
  c.expected_shape = {1};
  expect_read_error(p, {"opt.npy", "invalid read options"}, c);
}

TEST_F(NpyTest, RejectsTruncatedData) {
  const std::string full = make_npy(1, dict_f8("(2, 3)"), f8s({1, 2, 3, 4, 5, 6}));
  expect_read_error(put("tr.npy", full.substr(0, full.size() - 8)),
                    {"tr.npy", "truncated: header says 6 values, file holds 5"});
  expect_read_error(put("tr2.npy", full.substr(0, full.size() - 5)),
                    {"tr2.npy", "truncated: header says 6 values, file holds 5", "3 stray bytes"});
  expect_read_error(put("tr3.npy", full.substr(0, 128)),
                    {"tr3.npy", "truncated: header says 6 values, file holds 0"});
}

TEST_F(NpyTest, RejectsHugeShapeWithoutAllocating) {
  const std::string p =
      put("huge.npy", make_npy(1, dict_f8("(4294967296, 4294967296)"), f8s({1.0})));
  expect_read_error(p, {"huge.npy", "too large"});
  const std::string p2 =
      put("huge2.npy", make_npy(1, dict_f8("(4294967296, 4294967295)"), f8s({1.0})));
  expect_read_error(p2, {"huge2.npy", "too large"});
  const std::string q = put("big.npy", make_npy(1, dict_f8("(1000000000,)"), f8s({1.0})));
  expect_read_error(q, {"big.npy", "truncated: header says 1000000000 values, file holds 1"});
}

TEST_F(NpyTest, RejectsTrailingGarbage) {
  const std::string full = make_npy(1, dict_f8("(2,)"), f8s({1, 2}));
  expect_read_error(put("tg.npy", full + "x"), {"tg.npy", "trailing garbage", "1 bytes"});
  expect_read_error(put("tg2.npy", full + f8(3.0)), {"tg2.npy", "trailing garbage", "8 bytes"});
}

TEST_F(NpyTest, RejectsNaNNamingIndex) {
  std::vector<double> v(6, 1.0);
  v[5] = std::numeric_limits<double>::quiet_NaN();
  v[4] = -std::numeric_limits<double>::quiet_NaN();
  expect_read_error(put("nan.npy", make_npy(1, dict_f8("(2, 3)"), f8s(v))),
                    {"nan.npy", "value NaN at index [1, 1]"});
}

TEST_F(NpyTest, RejectsInfNamingIndex) {
  std::vector<double> v(8, 0.0);
  v[5] = -std::numeric_limits<double>::infinity();
  v[7] = std::numeric_limits<double>::infinity();
  expect_read_error(put("inf.npy", make_npy(1, dict_f8("(2, 2, 2)"), f8s(v))),
                    {"inf.npy", "value -Inf at index [1, 0, 1]"});
  std::vector<double> w(3, 0.0);
  w[2] = std::numeric_limits<double>::infinity();
  expect_read_error(put("inf2.npy", make_npy(1, dict_f8("(3,)"), f8s(w))),
                    {"inf2.npy", "value +Inf at index [2]"});
  expect_read_error(put("inf3.npy", make_npy(1, dict_f8("()"), f8s({w[2]}))),
                    {"inf3.npy", "value +Inf at index []"});
}

TEST_F(NpyTest, RejectsFloat32NaN) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string data = bytes({0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x7f});  // 1.0f, NaN
  expect_read_error(put("nan32.npy", make_npy(1, dict, data)),
                    {"nan32.npy", "value NaN at index [1]"});
}

TEST_F(NpyTest, AllowsNonFiniteWhenAsked) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::string p = put("nf.npy", make_npy(1, dict_f8("(3,)"), f8s({std::nan(""), inf, -inf})));
  NpyReadOptions opt;
  opt.allow_non_finite = true;
  const NpyArray a = read_npy(p, opt);
  ASSERT_EQ(a.data.size(), 3u);
  EXPECT_TRUE(std::isnan(a.data[0]));
  EXPECT_EQ(a.data[1], inf);
  EXPECT_EQ(a.data[2], -inf);
}

TEST_F(NpyTest, ControlCharactersDoNotBreakTheOneLineMessage) {
  const std::string dict = "{'descr': '<i\n4\x01', 'fortran_order': False, 'shape': (1,), }";
  // The newline inside the string is itself malformed; use a tab and a control byte instead.
  const std::string dict2 = "{'descr': '<i\t4\x01', 'fortran_order': False, 'shape': (1,), }";
  const std::string p = put("cc.npy", make_npy(1, dict2, f8s({1.0})));
  expect_read_error(p, {"cc.npy", "dtype", "\\t4\\x01"});
  expect_read_error(put("cc2.npy", make_npy(1, dict, f8s({1.0}))), {"cc2.npy", "malformed"});
  const std::string weird = path("line\nbreak.npy");
  try {
    read_npy(weird);
    ADD_FAILURE() << "no NpyError";
  } catch (const NpyError& e) {
    EXPECT_EQ(e.file(), weird);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line\\nbreak.npy: cannot open"), std::string::npos);
  }
}

TEST_F(NpyTest, EveryTruncationIsRejected) {
  std::vector<double> v(5);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.5 * static_cast<double>(i);
  const std::string p = path("full.npy");
  write_npy(p, {5}, v, NpyDtype::Float32);
  const std::string full = slurp(p);
  for (std::size_t n = 0; n < full.size(); ++n) {
    const std::string q = put("cut.npy", full.substr(0, n));
    EXPECT_THROW(read_npy(q), NpyError) << "length " << n;
  }
}

TEST_F(NpyTest, CorruptedHeaderBytesNeverCrash) {
  const std::string p = path("good.npy");
  write_npy(p, {2, 3}, std::vector<double>(6, 1.0), NpyDtype::Float64);
  const std::string good = slurp(p);
  const std::string q = path("bad.npy");
  int accepted = 0;
  for (std::size_t pos = 0; pos < 128; ++pos) {
    for (const int b : {0x00, 0x0a, 0x20, 0x27, 0x28, 0x29, 0x2c, 0x31, 0x39, 0x7b, 0x7d, 0xff}) {
      std::string f = good;
      f[pos] = static_cast<char>(b);
      put("bad.npy", f);
      try {
        const NpyArray a = read_npy(q);
        EXPECT_EQ(a.data, std::vector<double>(6, 1.0));
        ++accepted;
      } catch (const NpyError& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      }
    }
  }
  EXPECT_GT(accepted, 0);  // e.g. padding spaces replaced by spaces
}

// ---------------------------------------------------------------------------------------------
// Writing

std::vector<double> ramp(std::size_t n, double scale) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * (static_cast<double>(i) - 3.0);
  return v;
}

TEST_F(NpyTest, RoundTripFloat64) {
  const std::vector<std::vector<std::size_t>> shapes = {{7}, {3, 5}, {2, 3, 4}};
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (const auto d : shape) n *= d;
    std::vector<double> v = ramp(n, 0.1);  // not representable in float32
    v[0] = 1e300;
    const std::string p = path("rt64.npy");
    write_npy(p, shape, v, NpyDtype::Float64);
    const NpyArray a = read_npy(p);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.data, v);
  }
}

TEST_F(NpyTest, RoundTripFloat32) {
  const std::vector<std::vector<std::size_t>> shapes = {{7}, {3, 5}, {2, 3, 4}};
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (const auto d : shape) n *= d;
    const std::vector<double> v = ramp(n, 0.1);
    const std::string p = path("rt32.npy");
    write_npy(p, shape, v);  // Float32 is the default
    const NpyArray a = read_npy(p);
    EXPECT_EQ(a.shape, shape);
    ASSERT_EQ(a.data.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(a.data[i], static_cast<double>(static_cast<float>(v[i]))) << i;
    }
    EXPECT_EQ(slurp(p).size(), 128u + 4u * n);
  }
}

TEST_F(NpyTest, RoundTripScalarAndEmpty) {
  const double x = -3.5;
  write_npy(path("s.npy"), {}, &x, NpyDtype::Float64);
  const NpyArray s = read_npy(path("s.npy"));
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.data, (std::vector<double>{-3.5}));

  write_npy(path("e.npy"), {0}, nullptr);
  EXPECT_EQ(read_npy(path("e.npy")).shape, (std::vector<std::size_t>{0}));
  write_npy(path("e2.npy"), {4, 0}, std::vector<double>{}, NpyDtype::Float64);
  const NpyArray e2 = read_npy(path("e2.npy"));
  EXPECT_EQ(e2.shape, (std::vector<std::size_t>{4, 0}));
  EXPECT_TRUE(e2.data.empty());
}

TEST_F(NpyTest, RoundTripMultiChunk) {
  // Larger than the 1 MiB I/O chunk for both dtypes.
  std::vector<double> v(300001);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 1000) * 0.25;
  for (const auto dt : {NpyDtype::Float32, NpyDtype::Float64}) {
    write_npy(path("big.npy"), {v.size()}, v, dt);
    const NpyArray a = read_npy(path("big.npy"));
    EXPECT_EQ(a.data, v);
  }
}

TEST_F(NpyTest, RoundTripRandom) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> nd(0, 4);
  std::uniform_int_distribution<std::size_t> dim(0, 5);
  std::normal_distribution<double> val(0.0, 1e3);
  for (int iter = 0; iter < 60; ++iter) {
    std::vector<std::size_t> shape(static_cast<std::size_t>(nd(rng)));
    std::size_t n = 1;
    for (auto& d : shape) {
      d = dim(rng);
      n *= d;
    }
    std::vector<double> v(n);
    for (auto& x : v) x = val(rng);
    const auto dt = iter % 2 ? NpyDtype::Float32 : NpyDtype::Float64;
    write_npy(path("r.npy"), shape, v, dt);
    NpyReadOptions opt;
    opt.expected_ndim = static_cast<int>(shape.size());
    opt.expected_shape.assign(shape.begin(), shape.end());
    const NpyArray a = read_npy(path("r.npy"), opt);
    EXPECT_EQ(a.shape, shape);
    ASSERT_EQ(a.data.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      const double want = dt == NpyDtype::Float32 ? static_cast<float>(v[i]) : v[i];
      EXPECT_EQ(a.data[i], want);
    }
  }
}

TEST_F(NpyTest, WritesExpectedHeaderBytes) {
  struct Case {
    std::vector<std::size_t> shape;
    NpyDtype dtype;
    std::string dict;
  };
  const std::vector<Case> cases = {
      {{2, 3}, NpyDtype::Float32, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
      {{5}, NpyDtype::Float64, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"},
      {{}, NpyDtype::Float64, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
      {{3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2},
       NpyDtype::Float32,
       "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
       "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2), }"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.dict);
    std::size_t n = 1;
    for (const auto d : c.shape) n *= d;
    const std::vector<double> v(n, 1.0);
    const std::string p = path("h.npy");
    write_npy(p, c.shape, v, c.dtype);
    const std::string f = slurp(p);
    ASSERT_GE(f.size(), 10u);
    EXPECT_EQ(f.substr(0, 6), std::string(kMagic, 6));
    EXPECT_EQ(f[6], '\x01');
    EXPECT_EQ(f[7], '\x00');
    const std::size_t hl = static_cast<unsigned char>(f[8]) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(f[9])) << 8);
    EXPECT_EQ((10 + hl) % 64, 0u);
    ASSERT_GE(f.size(), 10 + hl);
    const std::string header = f.substr(10, hl);
    EXPECT_EQ(header.substr(0, c.dict.size()), c.dict);
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(header.find_first_not_of(' ', c.dict.size()), hl - 1);
    const std::size_t item = c.dtype == NpyDtype::Float32 ? 4 : 8;
    EXPECT_EQ(f.size(), 10 + hl + item * n);
  }
}

TEST_F(NpyTest, WritesLittleEndianData) {
  const std::vector<double> v = {1.0, -2.0};
  write_npy(path("le64.npy"), {2}, v, NpyDtype::Float64);
  EXPECT_EQ(slurp(path("le64.npy")).substr(128),
            bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0}));
  write_npy(path("le32.npy"), {2}, v, NpyDtype::Float32);
  EXPECT_EQ(slurp(path("le32.npy")).substr(128), bytes({0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}));
}

TEST_F(NpyTest, WritesVersion2ForHugeHeader) {
  const std::vector<std::size_t> shape(22000, 1);  // "1, " x 22000 > 65535 bytes
  const std::vector<double> v = {2.5};
  write_npy(path("v2.npy"), shape, v, NpyDtype::Float64);
  const std::string f = slurp(path("v2.npy"));
  ASSERT_GE(f.size(), 12u);
  EXPECT_EQ(f[6], '\x02');
  EXPECT_EQ(f[7], '\x00');
  std::size_t hl = 0;
  for (int i = 0; i < 4; ++i)
    hl |= static_cast<std::size_t>(static_cast<unsigned char>(f[8 + i])) << (8 * i);
  EXPECT_GT(hl, 65535u);
  EXPECT_EQ((12 + hl) % 64, 0u);
  EXPECT_EQ(f.size(), 12 + hl + 8);
  const NpyArray a = read_npy(path("v2.npy"));
  EXPECT_EQ(a.shape, shape);
  EXPECT_EQ(a.data, v);
}

TEST_F(NpyTest, WriteRejectsSizeMismatch) {
  const std::string p = path("mm.npy");
  expect_error(
      [&] {
        write_npy(p, {2, 3}, std::vector<double>(5, 0.0));
      },
      p, {"cannot write", "needs 6 values, got 5"});
  EXPECT_TRUE(dir_entries().empty());
}

TEST_F(NpyTest, WriteRejectsNullData) {
  const std::string p = path("null.npy");
  expect_error([&] { write_npy(p, {2}, nullptr); }, p, {"cannot write", "null"});
  EXPECT_TRUE(dir_entries().empty());
}

TEST_F(NpyTest, WriteRejectsFloat32Overflow) {
  const std::string p = path("ov.npy");
  const std::vector<double> v = {1.0, 2.0, -1e300};
  expect_error([&] { write_npy(p, {3}, v, NpyDtype::Float32); }, p,
               {"cannot write", "float32 range", "index [2]"});
  EXPECT_TRUE(dir_entries().empty());
  write_npy(p, {3}, v, NpyDtype::Float64);  // fine as float64
  const std::vector<double> edge = {static_cast<double>(FLT_MAX), -static_cast<double>(FLT_MAX)};
  write_npy(p, {2}, edge);
  EXPECT_EQ(read_npy(p).data, edge);
}

TEST_F(NpyTest, WritesNonFiniteValues) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> v = {inf, -inf, std::nan("")};
  for (const auto dt : {NpyDtype::Float32, NpyDtype::Float64}) {
    write_npy(path("nf.npy"), {3}, v, dt);
    NpyReadOptions opt;
    opt.allow_non_finite = true;
    const NpyArray a = read_npy(path("nf.npy"), opt);
    EXPECT_EQ(a.data[0], inf);
    EXPECT_EQ(a.data[1], -inf);
    EXPECT_TRUE(std::isnan(a.data[2]));
    expect_read_error(path("nf.npy"), {"nf.npy", "value +Inf at index [0]"});
  }
}

TEST_F(NpyTest, WriteIntoMissingDirectoryThrowsAndLeavesNothing) {
  const std::string p = path("no/such/dir/x.npy");
  expect_error([&] { write_npy(p, {1}, std::vector<double>{1.0}); }, p, {"cannot write"});
  EXPECT_FALSE(fs::exists(path("no")));
  EXPECT_TRUE(dir_entries().empty());
}

TEST_F(NpyTest, FailedRenameRemovesTemporaryFile) {
  // The target is a non-empty directory, so the final rename fails.
  fs::create_directories(path("target.npy/inner"));
  const std::string p = path("target.npy");
  expect_error([&] { write_npy(p, {1}, std::vector<double>{1.0}); }, p, {"cannot write", "rename"});
  EXPECT_EQ(dir_entries(), (std::vector<std::string>{"target.npy"}));
  EXPECT_TRUE(fs::is_directory(path("target.npy/inner")));
}

// The temporary name holds a random token, not the process id (which another process in
// another PID namespace or on another node may have too): a file at the name a writer with our
// process id would have used is someone else's, and stays.
TEST_F(NpyTest, DoesNotRemoveForeignFileAtTemporaryName) {
  const std::string p = path("x.npy");
  const std::string tmp = p + ".tmp-" + std::to_string(::getpid());
  fs::create_directories(tmp + "/theirs");
  write_npy(p, {1}, std::vector<double>{1.0});
  EXPECT_TRUE(fs::is_directory(tmp + "/theirs"));
  EXPECT_EQ(read_npy(p).data, std::vector<double>{1.0});
  std::vector<std::string> names = dir_entries();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"x.npy", "x.npy.tmp-" + std::to_string(::getpid())}));
}

TEST_F(NpyTest, OverwritesAtomicallyWithoutLeftovers) {
  const std::string p = path("ow.npy");
  write_npy(p, {3}, std::vector<double>{1, 2, 3});
  write_npy(p, {2, 2}, std::vector<double>{4, 5, 6, 7}, NpyDtype::Float64);
  const NpyArray a = read_npy(p);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{4, 5, 6, 7}));
  EXPECT_EQ(dir_entries(), (std::vector<std::string>{"ow.npy"}));
}

// ---------------------------------------------------------------------------------------------
// NpyArray accessors

TEST(NpyArrayTest, TwoDimensionalAccess) {
  NpyArray a;
  a.shape = {2, 3};
  a.data = {0, 1, 2, 10, 11, 12};
  EXPECT_EQ(a.ndim(), 2u);
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(a.rows(), 2u);
  EXPECT_EQ(a.cols(), 3u);
  EXPECT_EQ(a.at(1, 2), 12.0);
  EXPECT_EQ(a.at(0, 1), 1.0);
  EXPECT_THROW(a.at(2, 0), std::out_of_range);
  EXPECT_THROW(a.at(0, 3), std::out_of_range);
  EXPECT_THROW(a.at(0, 0, 0), std::logic_error);
}

TEST(NpyArrayTest, ThreeDimensionalAccess) {
  NpyArray a;
  a.shape = {2, 3, 4};
  a.data.resize(24);
  for (std::size_t i = 0; i < 24; ++i) a.data[i] = static_cast<double>(i);
  EXPECT_EQ(a.at(1, 2, 3), 23.0);
  EXPECT_EQ(a.at(1, 0, 2), 14.0);
  EXPECT_EQ(a.at(0, 2, 1), 9.0);
  EXPECT_THROW(a.at(2, 0, 0), std::out_of_range);
  EXPECT_THROW(a.at(0, 3, 0), std::out_of_range);
  EXPECT_THROW(a.at(0, 0, 4), std::out_of_range);
  EXPECT_THROW(a.rows(), std::logic_error);
  EXPECT_THROW(a.cols(), std::logic_error);
  EXPECT_THROW(a.at(0, 0), std::logic_error);
}

TEST(NpyArrayTest, InconsistentDataIsNotReadOutOfBounds) {
  NpyArray a;
  a.shape = {2, 2};
  a.data = {1.0};
  EXPECT_THROW(a.at(1, 1), std::out_of_range);
}

TEST(NpyErrorTest, MessageIsFileThenProblem) {
  const NpyError e("Q.npy", "something is off");
  EXPECT_STREQ(e.what(), "Q.npy: something is off");
  EXPECT_EQ(e.file(), "Q.npy");
  EXPECT_EQ(e.problem(), "something is off");
  const NpyError multi("a\nb.npy", "line1\nline2");
  EXPECT_STREQ(multi.what(), "a\\nb.npy: line1\\nline2");
}

// ---------------------------------------------------------------------------------------------
// Interoperability with NumPy itself (optional)

// python3 with the program text and the paths as arguments (no shell); true when it exits 0.
bool python(const std::vector<std::string>& args) {
  // Debian's python3 (with numpy) before whatever python3 comes first on PATH.
  std::vector<std::string> argv = {::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3"
                                                                           : "python3"};
  argv.insert(argv.end(), args.begin(), args.end());
  return gca::run_program(argv, "", "").exit_code == 0;
}

bool have_numpy() {
  static const bool ok = python({"-c", "import numpy"});
  return ok;
}

TEST_F(NpyTest, InteroperatesWithNumpy) {
  if (!have_numpy()) GTEST_SKIP() << "python3 with numpy not available";
  const std::string from_np = path("from_np.npy");
  ASSERT_TRUE(
      python({"-c",
              "import sys, numpy as np; "
              "np.save(sys.argv[1], np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5)",
              from_np}));
  const NpyArray a = read_npy(from_np);
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{2, 3, 4}));
  for (std::size_t i = 0; i < 24; ++i) EXPECT_EQ(a.data[i], 0.5 * static_cast<double>(i));

  const std::string to_np = path("to_np.npy");
  std::vector<double> v(6);
  for (std::size_t i = 0; i < 6; ++i) v[i] = 0.1 * static_cast<double>(i);
  write_npy(to_np, {2, 3}, v, NpyDtype::Float64);
  EXPECT_TRUE(python({"-c",
                      "import sys, numpy as np; a = np.load(sys.argv[1]); "
                      "sys.exit(0 if a.dtype == np.float64 and a.shape == (2, 3) and "
                      "np.array_equal(a.ravel(), np.arange(6) * 0.1) else 1)",
                      to_np}));
}

}  // namespace
