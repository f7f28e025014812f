// Response heads (final and informational), trailers and the core's own error responses, HPACK-
// encoded straight into the output. The app's fields are validated and lower-cased as they come
// and kept until the head is complete: HPACK's dynamic table changes as a block is encoded, so a
// block is encoded only once it is known to be sent whole.
#include "http2/connection_impl.hpp"
#include "util/field_section.hpp"

namespace ruvicorn::http2 {

namespace {

HttpError app_error(std::string_view why) { return HttpError{500, why, false}; }

}  // namespace

HttpError Connection::Impl::add_field(std::string_view name, std::string_view value,
                                      bool response_head) {
  return head_.section.add(name, value, response_head);
}

void Connection::Impl::encode_block(Stream& s, int status, bool builtins, bool end_stream) {
  const std::size_t start = out_.size();
  out_.append(kFrameHeaderSize, '\0');  // filled by frame_headers_in_place
  encoder_.begin(out_);
  if (status != 0) encoder_.status(status, out_);
  auto encode = [this](std::string_view name, std::string_view value) {
    encoder_.field(name, value, out_);
  };
  if (builtins) {
    for_each_head_field(config_, defaults_, head_.section, head_.section.app, status, encode);
  } else {
    head_.section.for_each(encode);
  }
  frame_headers_in_place(out_, start, s.id, end_stream, peer_max_frame_);
  head_.section.clear_within(kKeptScratchBytes);  // encoded: its buffers stay for the next
}

void Connection::Impl::send_head(Stream& s, int status, bool head_request, bool end_stream) {
  const bool no_body = status_forbids_body(status) || head_request;
  s.response = end_stream ? Stream::Response::kEnded : Stream::Response::kBody;
  s.no_body = no_body;
  s.has_length = head_.section.has_length;
  s.length = head_.section.length;
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
  head_.section.clear();
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
  if (end_stream && !no_body && head_.section.has_length && head_.section.length != 0)
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
  head_.section.clear();
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
  head_.section.clear();
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
  head_.section.for_each([s](std::string_view name, std::string_view value) {
    s->trailers.emplace_back(name, value);
  });
  s->trailers_queued = true;
  s->end_queued = true;
  return {};
}

void Connection::Impl::write_trailers_now(Stream& s) {
  head_.section.clear();
  for (const auto& [name, value] : s.trailers) head_.section.add_valid(name, value);
  encode_block(s, 0, false, true);
  s.trailers.clear();
  s.trailers_queued = false;
}

void Connection::Impl::write_error_response(Stream& s, const HttpError& error) {
  const int status = error.status ? error.status : 500;
  head_.active = false;
  head_.section.clear();
  head_.section.has_length = true;
  head_.section.length = error_body_size(error);
  add_field("content-type", "text/plain; charset=utf-8", true);
  send_head(s, status, false, false);
  s.response = Stream::Response::kEnded;
  std::string body;  // rare: not kept between error responses
  append_error_body(error, body);
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
