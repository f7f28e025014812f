// Factories of the two back ends (used by make_parser in parser.cpp).
#pragma once
#include <memory>

#include "ruvicorn/parser.hpp"

namespace ruvicorn::http1 {

// With pico_default_scan() (make_pico_parser(limits, scan) is public: ruvicorn/parser.hpp).
std::unique_ptr<HeadParser> make_pico_parser(const Limits& limits);
std::unique_ptr<HeadParser> make_llhttp_parser(const Limits& limits);

}  // namespace ruvicorn::http1
