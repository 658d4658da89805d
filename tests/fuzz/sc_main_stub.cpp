// The fuzzers link the testbench library, whose SystemC library refers to sc_main; they never
// start a simulation.
extern "C" int sc_main(int, char**) {
  return 0;
}
