// ResponseWriter (see response.hpp): appends into the caller's string; no allocation per header.
#include <cstring>
#include "ruvicorn/response.hpp"

#include <charconv>

#include "http1/head_syntax.hpp"
#include "ruvicorn/buffer_pool.hpp"
#include "util/response_common.hpp"

namespace ruvicorn::http1 {

namespace {

HttpError app_error(std::string_view why) { return HttpError{500, why, true}; }

std::string_view status_line(int status) {
  switch (status) {
    case 200: return "HTTP/1.1 200 OK\r\n";
    case 201: return "HTTP/1.1 201 Created\r\n";
    case 204: return "HTTP/1.1 204 No Content\r\n";
    case 206: return "HTTP/1.1 206 Partial Content\r\n";
    case 301: return "HTTP/1.1 301 Moved Permanently\r\n";
    case 302: return "HTTP/1.1 302 Found\r\n";
    case 304: return "HTTP/1.1 304 Not Modified\r\n";
    case 307: return "HTTP/1.1 307 Temporary Redirect\r\n";
    case 400: return "HTTP/1.1 400 Bad Request\r\n";
    case 401: return "HTTP/1.1 401 Unauthorized\r\n";
    case 403: return "HTTP/1.1 403 Forbidden\r\n";
    case 404: return "HTTP/1.1 404 Not Found\r\n";
    case 405: return "HTTP/1.1 405 Method Not Allowed\r\n";
    case 422: return "HTTP/1.1 422 Unprocessable Content\r\n";
    case 500: return "HTTP/1.1 500 Internal Server Error\r\n";
    default: return {};
  }
}

void append_status_line(int status, std::string& out) {
  std::string_view cached = status_line(status);
  if (!cached.empty()) {
    out.append(cached);
    return;
  }
  char num[16];
  auto r = std::to_chars(num, num + sizeof num, status);
  out.append("HTTP/1.1 ");
  out.append(num, static_cast<std::size_t>(r.ptr - num));
  out.push_back(' ');
  std::string_view reason = status_reason(status);
  out.append(reason);
  out.append("\r\n");
}

void append_decimal(std::uint64_t v, std::string& out) {
  char num[24];
  auto r = std::to_chars(num, num + sizeof num, v);
  out.append(num, static_cast<std::size_t>(r.ptr - num));
}

void append_hex(std::uint64_t v, std::string& out) {
  char num[24];
  auto r = std::to_chars(num, num + sizeof num, v, 16);
  out.append(num, static_cast<std::size_t>(r.ptr - num));
}

}  // namespace

ResponseWriter::ResponseWriter(const ResponseConfig& config) : config_(config) {
  for (const auto& [name, value] : config_.default_headers) {
    // A configured Server or Date replaces the built-in one, as an app's own header does.
    default_overrides_.note(name);
    default_block_.append(name);
    default_block_.append(": ");
    default_block_.append(value);
    default_block_.append("\r\n");
  }
}

void ResponseWriter::begin(const ResponseContext& context, int status) {
  ctx_ = context;
  status_ = status;
  state_ = State::kHeaders;
  framing_ = Framing::kNone;
  head_.clear();
  reuse(head_);
  has_length_ = false;
  length_ = 0;
  has_te_chunked_ = false;
  app_close_ = false;
  app_overrides_ = {};
  trailers_expected_ = false;
  trailer_opened_ = false;
  keep_alive_ = context.keep_alive;
  body_sent_ = 0;
}

void ResponseWriter::reset() {
  state_ = State::kIdle;
  recycle(head_, kBufferPoolBytes);
}

HttpError ResponseWriter::header(std::string_view name, std::string_view value) {
  if (state_ != State::kHeaders) return app_error("header after the response head was sent");
  if (!is_token(name)) return app_error("invalid header name");
  if (!field_value_safe(value)) return app_error("invalid header value");
  app_overrides_.note(name);
  switch (name.size()) {
    case 10:
      if (iequals(name, "connection")) {
        // Connection: close / keep-alive are decided here (end_head); other tokens pass through.
        bool close = list_has(value, "close");
        if (close) app_close_ = true;
        if (close || list_has(value, "keep-alive")) return {};
      }
      break;
    case 14:
      if (iequals(name, "content-length")) {
        std::uint64_t v = 0;
        const char* end = value.data() + value.size();
        auto r = std::from_chars(value.data(), end, v);
        if (value.empty() || r.ec != std::errc() || r.ptr != end)
          return app_error("invalid content-length header");
        if (has_length_ && v != length_) return app_error("conflicting content-length headers");
        has_length_ = true;
        length_ = v;
        return {};  // written once by end_head (never with 1xx or 204, RFC 9110 8.6)
      }
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) {
        // The framing is ours to choose (end_head); the app's header is not repeated.
        has_te_chunked_ = true;
        return {};
      }
      break;
    default:
      break;
  }
  head_.append(name);
  head_.append(": ");
  head_.append(value);
  head_.append("\r\n");
  return {};
}

void ResponseWriter::append_common_headers(bool app_server, bool app_date,
                                           std::string& out) const {
  BuiltinOverrides app;
  app.server = app_server;
  app.date = app_date;
  append_common_headers(app, out);
}

void ResponseWriter::append_common_headers(BuiltinOverrides app, std::string& out) const {
  for_each_builtin_field(config_, default_overrides_, app,
                         [&out](std::string_view name, std::string_view value) {
                           out.append(name);
                           out.append(": ");
                           out.append(value);
                           out.append("\r\n");
                         });
  out.append(default_block_);
}

HttpError ResponseWriter::end_head(std::string& out) {
  if (state_ != State::kHeaders) return app_error("response head sent twice");
  const bool no_body = status_forbids_body(status_) || ctx_.head_request;
  if (status_ < 200 || status_ == 204) {
    framing_ = Framing::kNone;
  } else if (has_length_) {
    // HEAD and 304 keep the app's Content-Length but carry no body bytes.
    framing_ = no_body ? Framing::kNone : Framing::kLength;
  } else if (no_body) {
    framing_ = Framing::kNone;
  } else if (ctx_.http_minor >= 1) {
    framing_ = Framing::kChunked;
  } else {
    framing_ = Framing::kClose;  // HTTP/1.0 without a length: the end of the body is the close
  }
  keep_alive_ = ctx_.keep_alive && !app_close_ && framing_ != Framing::kClose;

  out.reserve(out.size() + 128 + default_block_.size() + head_.size());
  append_status_line(status_, out);
  append_common_headers(app_overrides_, out);
  out.append(head_);
  recycle(head_, kBufferPoolBytes);
  if (has_length_ && status_ >= 200 && status_ != 204) {
    out.append("content-length: ");
    append_decimal(length_, out);
    out.append("\r\n");
  }
  if (framing_ == Framing::kChunked) out.append("transfer-encoding: chunked\r\n");
  if (!keep_alive_) out.append("connection: close\r\n");
  else if (ctx_.http_minor == 0) out.append("connection: keep-alive\r\n");
  out.append("\r\n");
  state_ = State::kBody;
  return {};
}

HttpError ResponseWriter::body(std::string_view data, bool more, std::string& out) {
  BodyFrame frame;
  HttpError err = body_frame(data.size(), more, out, frame);
  if (err) return err;
  if (frame.payload) out.append(data);
  out.append(frame.suffix, frame.suffix_len);
  return {};
}

HttpError ResponseWriter::body_frame(std::size_t size, bool more, std::string& out,
                                     BodyFrame& frame) {
  frame = BodyFrame{};
  auto suffix = [&frame](std::string_view text) {
    std::memcpy(frame.suffix + frame.suffix_len, text.data(), text.size());
    frame.suffix_len += text.size();
  };
  if (state_ != State::kBody) {
    keep_alive_ = false;
    return app_error(state_ == State::kHeaders || state_ == State::kIdle
                         ? "response body before the response head"
                         : "response body after the response was complete");
  }
  switch (framing_) {
    case Framing::kNone:
      break;  // HEAD, 1xx, 204, 304: body bytes are dropped
    case Framing::kLength:
      if (size > length_ - body_sent_) {
        keep_alive_ = false;
        state_ = State::kDone;
        return app_error("response body longer than its content-length");
      }
      frame.payload = true;
      body_sent_ += size;
      if (!more && body_sent_ != length_) {
        keep_alive_ = false;
        state_ = State::kDone;
        return app_error("response body shorter than its content-length");
      }
      break;
    case Framing::kChunked:
      if (size != 0) {
        append_hex(size, out);
        out.append("\r\n");
        frame.payload = true;
        suffix("\r\n");
        body_sent_ += size;
      }
      if (!more) {
        if (trailers_expected_) {
          state_ = State::kTrailers;
          return {};
        }
        suffix("0\r\n\r\n");
      }
      break;
    case Framing::kClose:
      frame.payload = true;
      body_sent_ += size;
      break;
  }
  if (!more) state_ = trailers_expected_ ? State::kTrailers : State::kDone;
  return {};
}

HttpError ResponseWriter::trailers(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields, bool more,
    std::string& out) {
  if (state_ != State::kTrailers) {
    keep_alive_ = false;
    return app_error("trailers sent without being announced or before the body ended");
  }
  for (const auto& [name, value] : fields) {
    if (!is_token(name)) return app_error("invalid trailer name");
    if (!field_value_safe(value)) return app_error("invalid trailer value");
  }
  if (framing_ == Framing::kChunked) {
    // The last chunk opens the trailer section once; every call may add fields.
    if (!trailer_opened_) {
      out.append("0\r\n");
      trailer_opened_ = true;
    }
    for (const auto& [name, value] : fields) {
      out.append(name);
      out.append(": ");
      out.append(value);
      out.append("\r\n");
    }
    if (!more) out.append("\r\n");
  }
  if (!more) state_ = State::kDone;
  return {};
}

void ResponseWriter::error_response(const HttpError& error, std::string& out) const {
  append_status_line(error.status ? error.status : 500, out);
  // Body: "Bad Request: whitespace before colon in header name".
  out.append("content-type: text/plain; charset=utf-8\r\ncontent-length: ");
  append_decimal(error_body_size(error), out);
  out.append("\r\nconnection: close\r\n");
  if (config_.date_header) {
    out.append("date: ");
    out.append(http_date_now());
    out.append("\r\n");
  }
  out.append("\r\n");
  append_error_body(error, out);
}

HttpError ResponseWriter::informational(
    int status, const std::vector<std::pair<std::string_view, std::string_view>>& fields,
    std::string& out) {
  if (status < 100 || status > 199 || status == 101) return app_error("not an informational status");
  for (const auto& [name, value] : fields) {
    if (!is_token(name)) return app_error("invalid header name");
    if (!field_value_safe(value)) return app_error("invalid header value");
  }
  append_status_line(status, out);
  for (const auto& [name, value] : fields) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  out.append("\r\n");
  return {};
}

}  // namespace ruvicorn::http1
