// Response heads (final and informational), trailers and the core's own error responses, HPACK-
// encoded straight into the output. The app's fields are validated and lower-cased as they come
// and kept until the head is complete: HPACK's dynamic table changes as a block is encoded, so a
// block is encoded only once it is known to be sent whole.
#include <charconv>

#include "http2/connection_impl.hpp"
#include "util/response_common.hpp"

namespace ruvicorn::http2 {

namespace {

HttpError app_error(std::string_view why) { return HttpError{500, why, false}; }

// 8.2.2: fields that must not appear in HTTP/2 (te is a request field only).
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

HttpError Connection::Impl::add_field(std::string_view name, std::string_view value,
                                      bool response_head) {
  if (!is_token(name)) return app_error("invalid header name");
  if (!field_value_safe(value)) return app_error("invalid header value");
  value = trim_ows(value);  // 8.2.1: no leading or trailing whitespace on the wire
  const std::size_t start = head_.arena.size();
  for (char c : name) head_.arena.push_back(ascii_lower(c));
  const std::string_view lower(head_.arena.data() + start, name.size());
  if (dropped_from_responses(lower)) {
    head_.arena.resize(start);
    return {};
  }
  if (lower == "content-length") {
    head_.arena.resize(start);
    if (!response_head) return {};  // framing fields have no place in trailers or 1xx
    std::uint64_t length = 0;
    if (!parse_decimal(value, length)) return app_error("invalid content-length header");
    if (head_.has_length && length != head_.length)
      return app_error("conflicting content-length headers");
    head_.has_length = true;
    head_.length = length;
    return {};
  }
  if (response_head) head_.app.note(lower);
  head_.arena.append(value.data(), value.size());
  head_.fields.emplace_back(name.size(), value.size());
  return {};
}

void Connection::Impl::encode_block(Stream& s, int status, bool builtins, bool end_stream) {
  const std::size_t start = out_.size();
  out_.append(kFrameHeaderSize, '\0');  // filled by frame_headers_in_place
  encoder_.begin(out_);
  if (status != 0) encoder_.status(status, out_);
  if (builtins) {
    for_each_builtin_field(config_, default_overrides_, head_.app,
                           [this](std::string_view name, std::string_view value) {
                             encoder_.field(name, value, out_);
                           });
    for (const auto& [name, value] : defaults_) encoder_.field(name, value, out_);
  }
  std::size_t pos = 0;
  for (const auto& [name_len, value_len] : head_.fields) {
    const std::string_view arena = head_.arena;
    encoder_.field(arena.substr(pos, name_len), arena.substr(pos + name_len, value_len), out_);
    pos += name_len + value_len;
  }
  if (builtins && head_.has_length && status != 204) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, head_.length);
    const std::size_t n = static_cast<std::size_t>(r.ptr - digits);
    encoder_.field("content-length", std::string_view(digits, n), out_);
  }
  frame_headers_in_place(out_, start, s.id, end_stream, peer_max_frame_);
}

void Connection::Impl::send_head(Stream& s, int status, bool head_request, bool end_stream) {
  const bool no_body = status_forbids_body(status) || head_request;
  s.response = end_stream ? Stream::Response::kEnded : Stream::Response::kBody;
  s.no_body = no_body;
  s.has_length = head_.has_length;
  s.length = head_.length;
  // HEAD, 204 and 304 end with their HEADERS; what the app sends after is dropped.
  encode_block(s, status, true, end_stream || no_body);
  if (end_stream || no_body) on_local_end(s);
}

HttpError Connection::Impl::begin_response(std::uint32_t id, int status, bool head_request) {
  if (head_.active) return app_error("a response head is already being built");
  Stream* s = streams_.find(id);
  if (s == nullptr) return app_error("response on an unknown or released stream");
  if (status < 200 || status > 599) return app_error("invalid final status code");
  const bool noop = closed() || s->reset || s->rejected;
  if (!noop && s->response != Stream::Response::kNone) return app_error("response head sent twice");
  head_.active = true;
  head_.noop = noop;
  head_.stream = id;
  head_.status = status;
  head_.head_request = head_request;
  head_.has_length = false;
  head_.length = 0;
  head_.app = {};
  head_.arena.clear();
  head_.fields.clear();
  return {};
}

HttpError Connection::Impl::response_field(std::string_view name, std::string_view value) {
  if (!head_.active) return app_error("response field outside a response head");
  if (head_.noop) return {};
  HttpError error = add_field(name, value, true);
  if (error) head_.active = false;  // the head is abandoned: nothing was queued
  return error;
}

HttpError Connection::Impl::end_response(bool end_stream) {
  if (!head_.active) return app_error("end_response without begin_response");
  head_.active = false;
  if (head_.noop) return {};
  Stream* s = streams_.find(head_.stream);
  if (s == nullptr) return app_error("response on an unknown or released stream");
  if (closed() || s->reset) return {};
  const bool no_body = status_forbids_body(head_.status) || head_.head_request;
  if (end_stream && !no_body && head_.has_length && head_.length != 0)
    return app_error("response body shorter than its content-length");
  const std::uint32_t id = s->id;
  send_head(*s, head_.status, head_.head_request, end_stream);
  maybe_retire(id);
  return {};
}

HttpError Connection::Impl::informational(
    std::uint32_t id, int status,
    const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  if (head_.active) return app_error("informational response while a response head is open");
  Stream* s = streams_.find(id);
  if (s == nullptr) return app_error("response on an unknown or released stream");
  // 8.1: 101 does not exist in HTTP/2.
  if (status < 100 || status > 199 || status == 101)
    return app_error("invalid informational status");
  if (closed() || s->reset || s->rejected) return {};
  if (s->response != Stream::Response::kNone)
    return app_error("informational response after the final response head");
  head_.arena.clear();
  head_.fields.clear();
  for (const auto& [name, value] : fields)
    if (HttpError e = add_field(name, value, false)) return e;
  encode_block(*s, status, false, false);
  return {};
}

HttpError Connection::Impl::trailers(
    std::uint32_t id, const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  if (head_.active) return app_error("trailers while a response head is open");
  Stream* s = streams_.find(id);
  if (s == nullptr) return app_error("trailers on an unknown or released stream");
  if (closed() || s->reset || s->rejected) return {};
  if (s->response != Stream::Response::kBody)
    return app_error("trailers before the response head or after the response ended");
  if (!s->no_body && s->has_length && s->submitted != s->length)
    return app_error("response body shorter than its content-length");
  head_.arena.clear();
  head_.fields.clear();
  for (const auto& [name, value] : fields)
    if (HttpError e = add_field(name, value, false)) return e;
  s->response = Stream::Response::kEnded;
  if (s->local_closed) return {};  // HEAD, 204, 304: the stream already ended
  if (s->pending() == 0) {
    // HEADERS are not flow-controlled: the trailers go now, even while output is paused.
    encode_block(*s, 0, false, true);
    on_local_end(*s);
    maybe_retire(id);
    return {};
  }
  // Behind queued DATA: kept (copied) until the queue drains, then encoded (HPACK state must
  // follow the order blocks go out).
  std::size_t pos = 0;
  for (const auto& [name_len, value_len] : head_.fields) {
    s->trailers.emplace_back(head_.arena.substr(pos, name_len),
                             head_.arena.substr(pos + name_len, value_len));
    pos += name_len + value_len;
  }
  s->trailers_queued = true;
  s->end_queued = true;
  return {};
}

void Connection::Impl::write_trailers_now(Stream& s) {
  head_.arena.clear();
  head_.fields.clear();
  for (const auto& [name, value] : s.trailers) {
    head_.arena.append(name);
    head_.arena.append(value);
    head_.fields.emplace_back(name.size(), value.size());
  }
  encode_block(s, 0, false, true);
  s.trailers.clear();
  s.trailers_queued = false;
}

void Connection::Impl::write_error_response(Stream& s, const HttpError& error) {
  const int status = error.status ? error.status : 500;
  head_.active = false;
  head_.has_length = true;
  head_.length = error_body_size(error);
  head_.app = {};
  head_.arena.clear();
  head_.fields.clear();
  add_field("content-type", "text/plain; charset=utf-8", true);
  send_head(s, status, false, false);
  s.response = Stream::Response::kEnded;
  error_body_.clear();
  append_error_body(error, error_body_);
  std::string_view body = error_body_;
  send_body(s, body, true, nullptr);
}

void Connection::Impl::error_response(std::uint32_t id, const HttpError& error) {
  Stream* s = streams_.find(id);
  if (s == nullptr || closed() || s->reset || s->rejected) return;
  if (head_.active && head_.stream == id) head_.active = false;  // an abandoned head
  if (s->response != Stream::Response::kNone) return reset(id, ErrorCode::kInternalError);
  write_error_response(*s, error);
  maybe_retire(id);
}

}  // namespace ruvicorn::http2
