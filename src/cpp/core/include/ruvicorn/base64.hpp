// Base64 (RFC 4648 section 4, standard alphabet, with padding).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace ruvicorn {

// Appends the encoding of `data` to `out`.
void base64_encode(std::string_view data, std::string& out);
// Decodes canonical base64 (length a multiple of 4, '=' only as final padding, unused bits zero)
// into `out` (replaced). Returns false for anything else.
bool base64_decode(std::string_view text, std::string& out);
// Decodes base64url (RFC 4648 section 5: '-' and '_', trailing '=' optional), as in the
// HTTP2-Settings field (RFC 7540 3.2.1). Returns false for anything else.
bool base64url_decode(std::string_view text, std::string& out);
// Decoded size of canonical base64 text, or -1 when `text` is not canonical base64. Allocation-free
// check used for Sec-WebSocket-Key.
long base64_decoded_size(std::string_view text);

}  // namespace ruvicorn
