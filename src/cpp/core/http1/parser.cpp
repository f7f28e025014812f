#include "ruvicorn/parser.hpp"

#include "http1/parsers.hpp"

namespace ruvicorn::http1 {

std::unique_ptr<HeadParser> make_parser(ParserKind kind, const Limits& limits) {
  if (kind == ParserKind::kLlhttp) return http1::make_llhttp_parser(limits);
  return http1::make_pico_parser(limits);
}

bool parser_kind_from_name(std::string_view name, ParserKind& out) {
  if (name == "auto" || name == "pico" || name == "picohttpparser") {
    out = ParserKind::kPico;
    return true;
  }
  if (name == "llhttp") {
    out = ParserKind::kLlhttp;
    return true;
  }
  return false;
}

}  // namespace ruvicorn::http1
