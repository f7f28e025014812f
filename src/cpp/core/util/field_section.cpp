#include "util/field_section.hpp"

#include "ruvicorn/buffer_pool.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

namespace {

using FieldsPool = BufferPool<std::vector<std::pair<std::size_t, std::size_t>>>;

HttpError app_error(std::string_view why) { return HttpError{500, why, false}; }

// Fields that must not appear in HTTP/2 or HTTP/3 responses (RFC 9113 8.2.2, RFC 9114 4.2; te is
// a request field only).
bool dropped_from_responses(std::string_view name) {
  switch (name.size()) {
    case 2: return name == "te";
    case 7: return name == "upgrade";
    case 10: return name == "connection" || name == "keep-alive";
    case 16: return name == "proxy-connection";
    case 17: return name == "transfer-encoding";
    default: return false;
  }
}

}  // namespace

void FieldSection::clear() {
  has_length = false;
  length = 0;
  app = {};
  arena_.clear();
  fields_.clear();
}

void FieldSection::clear_within(std::size_t max_bytes) {
  clear();
  ruvicorn::clear_within(arena_, max_bytes);
  ruvicorn::clear_within(fields_, max_bytes);
}

void FieldSection::release_memory() {
  clear();
  recycle(arena_, kBufferPoolBytes);
  FieldsPool::give(fields_, kBufferPoolBytes);
}

void FieldSection::take_memory() {
  if (!fields_.empty()) return;
  reuse(arena_);
  FieldsPool::take(fields_);
}

HttpError FieldSection::add(std::string_view name, std::string_view value, bool response_head) {
  if (!is_token(name)) return app_error("invalid header name");
  if (!field_value_safe(value)) return app_error("invalid header value");
  value = trim_ows(value);  // no leading or trailing whitespace on the wire (RFC 9113 8.2.1)
  take_memory();
  const std::size_t start = arena_.size();
  for (char c : name) arena_.push_back(ascii_lower(c));
  const std::string_view lower(arena_.data() + start, name.size());
  if (dropped_from_responses(lower)) {
    arena_.resize(start);
    return {};
  }
  if (lower == "content-length") {
    arena_.resize(start);
    if (!response_head) return {};  // framing fields have no place in trailers or 1xx
    std::uint64_t n = 0;
    if (!parse_decimal(value, n)) return app_error("invalid content-length header");
    if (has_length && n != length) return app_error("conflicting content-length headers");
    has_length = true;
    length = n;
    return {};
  }
  if (response_head) app.note(lower);
  arena_.append(value.data(), value.size());
  fields_.emplace_back(name.size(), value.size());
  return {};
}

void FieldSection::add_valid(std::string_view name, std::string_view value) {
  take_memory();
  arena_.append(name.data(), name.size());
  arena_.append(value.data(), value.size());
  fields_.emplace_back(name.size(), value.size());
}

LowerCaseDefaults::LowerCaseDefaults(const ResponseConfig& config) {
  for (const auto& [name, value] : config.default_headers) {
    std::string lower(name);
    for (char& c : lower) c = ascii_lower(c);
    overrides.note(lower);
    fields.emplace_back(std::move(lower), value);
  }
}

}  // namespace ruvicorn
