// Response heads (final and informational), bodies, trailers and the core's own error responses,
// each a HEADERS or DATA frame on the request stream (RFC 9114 4.1); QPACK sections without a
// dynamic table, so each section is encoded on its own as soon as it is complete.
#include "http3/connection_impl.hpp"

namespace ruvicorn::http3 {

namespace {
HttpError app_error(std::string_view why) { return HttpError{500, why, false}; }
}  // namespace

void Connection::Impl::write_section(Stream& s, int status, bool builtins, bool fin) {
  section_.clear();
  qpack::Encoder::begin(section_);
  if (status != 0) qpack::Encoder::status(status, section_);
  auto encode = [this](std::string_view name, std::string_view value) {
    qpack::Encoder::field(name, value, section_);
  };
  if (builtins) {
    // HTTP/3 responses do not advertise HTTP/3: the client is already here.
    BuiltinOverrides app = head_.section.app;
    app.alt_svc = true;
    for_each_head_field(config_, defaults_, head_.section, app, status, encode);
  } else {
    head_.section.for_each(encode);
  }
  std::string& o = stream_out(s.id);
  write_frame_header(o, frame::kHeaders, section_.size());
  o += section_;
  if (fin) end_stream_out(s);
}

void Connection::Impl::send_head(Stream& s, int status, bool head_request, bool end_stream) {
  const bool no_body = status_forbids_body(status) || head_request;
  s.response = end_stream ? Stream::Response::kEnded : Stream::Response::kBody;
  // HEAD, 204 and 304 end with their HEADERS; what the app sends after is dropped.
  s.no_body = no_body;
  s.has_length = head_.section.has_length;
  s.length = head_.section.length;
  write_section(s, status, true, end_stream || no_body);
}

HttpError Connection::Impl::begin_response(std::uint64_t id, int status, bool head_request) {
  if (head_.active) return app_error("a response head is already being built");
  Stream* s = find(id);
  if (s == nullptr) return app_error("response on an unknown or released stream");
  if (status < 200 || status > 599) return app_error("invalid final status code");
  const bool noop = failed_ || s->reset;
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
  HttpError error = head_.section.add(name, value, true);
  if (error) head_.active = false;  // the head is abandoned: nothing was queued
  return error;
}

HttpError Connection::Impl::end_response(bool end_stream) {
  if (!head_.active) return app_error("end_response without begin_response");
  head_.active = false;
  if (head_.noop) return {};
  Stream* s = find(head_.stream);
  if (s == nullptr) return app_error("response on an unknown or released stream");
  if (failed_ || s->reset) return {};
  const bool no_body = status_forbids_body(head_.status) || head_.head_request;
  if (end_stream && !no_body && head_.section.has_length && head_.section.length != 0) {
    return app_error("response body shorter than its content-length");
  }
  const std::uint64_t id = s->id;
  send_head(*s, head_.status, head_.head_request, end_stream);
  maybe_retire(id);
  return {};
}

HttpError Connection::Impl::informational(
    std::uint64_t id, int status,
    const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  if (head_.active) return app_error("informational response while a response head is open");
  Stream* s = find(id);
  if (s == nullptr) return app_error("response on an unknown or released stream");
  // 4.1: 101 does not exist in HTTP/3.
  if (status < 100 || status > 199 || status == 101) {
    return app_error("invalid informational status");
  }
  if (failed_ || s->reset) return {};
  if (s->response != Stream::Response::kNone) {
    return app_error("informational response after the final response head");
  }
  head_.section.clear();
  for (const auto& [name, value] : fields) {
    if (HttpError e = head_.section.add(name, value, false)) return e;
  }
  write_section(*s, status, false, false);
  return {};
}

HttpError Connection::Impl::data(std::uint64_t id, std::string_view bytes, bool end_stream) {
  Stream* s = find(id);
  if (s == nullptr) return app_error("body on an unknown or released stream");
  if (failed_ || s->reset) return {};
  if (s->response != Stream::Response::kBody) {
    return app_error(s->response == Stream::Response::kNone ? "body before the response head"
                                                            : "body after the response ended");
  }
  if (!s->no_body && s->has_length) {
    if (s->submitted + bytes.size() > s->length) {
      return app_error("response body longer than its content-length");
    }
    if (end_stream && s->submitted + bytes.size() != s->length) {
      return app_error("response body shorter than its content-length");
    }
  }
  if (end_stream) s->response = Stream::Response::kEnded;
  if (s->no_body || s->local_done) {  // HEAD, 204, 304: dropped; the FIN already went
    if (end_stream) maybe_retire(id);
    return {};
  }
  s->submitted += bytes.size();
  if (!bytes.empty()) {
    std::string& o = stream_out(id);
    write_frame_header(o, frame::kData, bytes.size());
    o.append(bytes.data(), bytes.size());
  }
  if (end_stream) {
    end_stream_out(*s);
    maybe_retire(id);
  }
  return {};
}

HttpError Connection::Impl::trailers(
    std::uint64_t id, const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  if (head_.active) return app_error("trailers while a response head is open");
  Stream* s = find(id);
  if (s == nullptr) return app_error("trailers on an unknown or released stream");
  if (failed_ || s->reset) return {};
  if (s->response != Stream::Response::kBody) {
    return app_error("trailers before the response head or after the response ended");
  }
  if (!s->no_body && s->has_length && s->submitted != s->length) {
    return app_error("response body shorter than its content-length");
  }
  head_.section.clear();
  for (const auto& [name, value] : fields) {
    if (HttpError e = head_.section.add(name, value, false)) return e;
  }
  s->response = Stream::Response::kEnded;
  if (!s->local_done) write_section(*s, 0, false, true);  // HEAD, 204, 304 already ended
  maybe_retire(id);
  return {};
}

void Connection::Impl::write_error_response(Stream& s, const HttpError& error) {
  const int status = error.status ? error.status : 500;
  head_.active = false;
  head_.section.clear();
  head_.section.has_length = true;
  head_.section.length = error_body_size(error);
  head_.section.add("content-type", "text/plain; charset=utf-8", true);
  send_head(s, status, false, false);
  s.response = Stream::Response::kEnded;
  error_body_.clear();
  append_error_body(error, error_body_);
  std::string& o = stream_out(s.id);
  write_frame_header(o, frame::kData, error_body_.size());
  o += error_body_;
  end_stream_out(s);
}

void Connection::Impl::error_response(std::uint64_t id, const HttpError& error) {
  Stream* s = find(id);
  if (s == nullptr || failed_ || s->reset || s->local_done) return;
  if (head_.active && head_.stream == id) head_.active = false;  // an abandoned head
  if (s->response != Stream::Response::kNone) return reset(id, ErrorCode::kInternalError);
  write_error_response(*s, error);
  maybe_retire(id);
}

void Connection::Impl::reset(std::uint64_t id, ErrorCode code) {
  Stream* s = find(id);
  if (s == nullptr || failed_ || s->reset) return;
  s->read = Stream::Read::kDiscard;
  s->collecting = false;
  reset_stream(*s, code);
  maybe_retire(id);
}

void Connection::Impl::consume(std::uint64_t id, std::size_t n) {
  Stream* s = find(id);
  if (s == nullptr) return;
  const std::uint64_t taken = std::min<std::uint64_t>(n, s->unconsumed);
  s->unconsumed -= taken;
  unconsumed_ -= taken;
}

void Connection::Impl::release(std::uint64_t id) {
  Stream* s = find(id);
  if (s == nullptr || !s->delivered || s->released) return;
  s->released = true;
  --slots_;
  forget_unconsumed(*s);
  maybe_retire(id);
}

bool Connection::Impl::writable(std::uint64_t id) const {
  const Stream* s = find(id);
  return s != nullptr && !failed_ && !s->reset && !s->local_done;
}

}  // namespace ruvicorn::http3
