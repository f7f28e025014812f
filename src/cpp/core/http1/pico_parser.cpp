// HeadParser over picohttpparser: pointers into the caller's bytes, no allocation per request.
#include <vector>

#include "http1/head_parser.hpp"
#include "http1/parsers.hpp"
#include "picohttpparser.h"

namespace ruvicorn::http1 {

namespace {

class PicoParser final : public BasicHeadParser {
 public:
  explicit PicoParser(const Limits& limits) : BasicHeadParser(limits), phr_(headers_.size()) {}

 private:
  bool parse_complete(std::string_view bytes, RequestHead& out) override {
    // As many slots as headers_: a head with more fields fails here (-1), and the shared slow
    // path, which counted them, grows both before it asks again.
    if (phr_.size() < headers_.size()) phr_.resize(headers_.size());
    const char* method = nullptr;
    const char* path = nullptr;
    std::size_t method_len = 0, path_len = 0, count = phr_.size();
    int minor = -1;
    // last_len is 0: heads that arrive in pieces are followed by the shared incremental line scan,
    // so picohttpparser only sees a head it can finish.
    int r = phr_parse_request(bytes.data(), bytes.size(), &method, &method_len, &path, &path_len,
                              &minor, phr_.data(), &count, 0);
    if (r <= 0 || count > limits_.max_header_count) return false;
    for (std::size_t i = 0; i < count; ++i) {
      const phr_header& h = phr_[i];
      if (h.name == nullptr) return false;  // obs-fold
      headers_[i] = Header{{h.name, h.name_len}, {h.value, h.value_len}};
    }
    out.method = {method, method_len};
    out.target = {path, path_len};
    out.http_minor = minor;
    out.headers = headers_.data();
    out.header_count = count;
    out.head_length = static_cast<std::size_t>(r);
    return true;
  }

  std::vector<phr_header> phr_;
};

}  // namespace

std::unique_ptr<HeadParser> make_pico_parser(const Limits& limits) {
  return std::make_unique<PicoParser>(limits);
}

}  // namespace ruvicorn::http1
