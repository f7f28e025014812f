// HeadParser over llhttp 9. The whole head is given to llhttp_execute in one call, so every span
// callback points into it and consecutive pieces of one span are contiguous; llhttp stops (paused)
// at the end of the head and never sees the body.
#include "http1/head_parser.hpp"
#include "http1/parsers.hpp"
#include "llhttp.h"

namespace ruvicorn::http1 {

namespace {

struct Span {
  const char* begin = nullptr;
  const char* end = nullptr;
  void add(const char* at, std::size_t len) {
    if (begin == nullptr) begin = at;
    end = at + len;
  }
  std::string_view view() const {
    return begin ? std::string_view(begin, static_cast<std::size_t>(end - begin)) : std::string_view();
  }
};

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

class LlhttpParser final : public BasicHeadParser {
 public:
  explicit LlhttpParser(const Limits& limits) : BasicHeadParser(limits) {}

 private:
  bool parse_complete(std::string_view bytes, RequestHead& out) override {
    method_ = target_ = field_ = value_ = Span{};
    count_ = 0;
    overflow_ = false;
    llhttp_init(&parser_, HTTP_REQUEST, &kSettings);
    parser_.data = this;
    // Content-Length with Transfer-Encoding is judged (and refused) by the shared framing code.
    llhttp_set_lenient_chunked_length(&parser_, 1);
    llhttp_errno_t err = llhttp_execute(&parser_, bytes.data(), bytes.size());
    if (err != HPE_PAUSED || overflow_) return false;
    if (llhttp_get_http_major(&parser_) != 1) return false;
    out.method = method_.view();
    out.target = target_.view();
    out.http_minor = llhttp_get_http_minor(&parser_);
    out.headers = headers_.data();
    out.header_count = count_;
    out.head_length = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - bytes.data());
    return true;
  }

  static LlhttpParser& self(llhttp_t* p) { return *static_cast<LlhttpParser*>(p->data); }

  static int on_method(llhttp_t* p, const char* at, std::size_t len) {
    self(p).method_.add(at, len);
    return 0;
  }
  static int on_url(llhttp_t* p, const char* at, std::size_t len) {
    self(p).target_.add(at, len);
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
    self(p).field_.add(at, len);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
    self(p).value_.add(at, len);
    return 0;
  }
  static int on_header_value_complete(llhttp_t* p) {
    LlhttpParser& s = self(p);
    if (s.count_ >= s.limits_.max_header_count) {
      s.overflow_ = true;
      return -1;
    }
    s.reserve_slots(s.count_ + 1);  // views point into the head, not into headers_: may move
    s.headers_[s.count_++] = Header{s.field_.view(), trim(s.value_.view())};
    s.field_ = s.value_ = Span{};
    return 0;
  }
  static int on_headers_complete(llhttp_t*) { return HPE_PAUSED; }

  static llhttp_settings_t make_settings() {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_method = &on_method;
    s.on_url = &on_url;
    s.on_header_field = &on_header_field;
    s.on_header_value = &on_header_value;
    s.on_header_value_complete = &on_header_value_complete;
    s.on_headers_complete = &on_headers_complete;
    return s;
  }
  static const llhttp_settings_t kSettings;

  llhttp_t parser_{};
  Span method_, target_, field_, value_;
  std::size_t count_ = 0;
  bool overflow_ = false;
};

const llhttp_settings_t LlhttpParser::kSettings = LlhttpParser::make_settings();

}  // namespace

std::unique_ptr<HeadParser> make_llhttp_parser(const Limits& limits) {
  return std::make_unique<LlhttpParser>(limits);
}

}  // namespace ruvicorn::http1
