// Runs the WebSocket fuzz target's standalone driver (random mutations of valid client traffic)
// so the frame reader gets some fuzzing in every ctest run, even without clang/libFuzzer.
// FUZZ_ITERATIONS in the environment sets the number of inputs.
#define RUVICORN_FUZZ_STANDALONE
#include "../fuzz/fuzz_ws_frame.cpp"
