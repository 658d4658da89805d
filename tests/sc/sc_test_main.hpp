// Every SystemC test binary defines sc_main (libsystemc provides main) and runs GoogleTest
// from it. SystemC allows one elaboration per process: ctest runs each test in its own
// process (gtest_discover_tests); a second simulation in one process is skipped, not failed.
#pragma once

#include <gtest/gtest.h>

#include <systemc>

#define GCA_REQUIRE_FRESH_KERNEL()                                                       \
  do {                                                                                   \
    static bool used = false;                                                            \
    if (used || sc_core::sc_get_status() != sc_core::SC_ELABORATION) {                   \
      GTEST_SKIP() << "one SystemC simulation per process: run this test alone (ctest)"; \
    }                                                                                    \
    used = true;                                                                         \
  } while (0)

#define GCA_SC_MAIN                         \
  int sc_main(int argc, char** argv) {      \
    ::testing::InitGoogleTest(&argc, argv); \
    return RUN_ALL_TESTS();                 \
  }
