// A header field as every protocol version delivers it: views into the receive buffer (HTTP/1.1)
// or into the decoded header block (HTTP/2), valid only during the event that carries them.
#pragma once
#include <string_view>

namespace ruvicorn {

struct Header {
  std::string_view name;   // as received (HTTP/1.1 keeps the case; HTTP/2 names are lower-case)
  std::string_view value;  // leading/trailing whitespace removed
};

}  // namespace ruvicorn
