// Request and trailer field validation shared by HTTP/2 and HTTP/3 (util/request_fields.cpp).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/field_request.hpp"
#include "ruvicorn/header.hpp"

namespace ruvicorn {

// `fields` is the decoded field list; `headers`/`arena` receive the regular fields (cookie crumbs
// joined in `arena`, sized here so that views into it stay valid). `connect_protocol`: extended
// CONNECT (:protocol) is allowed. Returns a static reason when the request is malformed.
std::string_view validate_request(const std::vector<Header>& fields, bool connect_protocol,
                                  FieldRequest& out, std::vector<Header>& headers,
                                  std::string& arena);
// Trailers: no pseudo-fields, and the same rules for names and values.
std::string_view validate_trailers(const std::vector<Header>& fields);

}  // namespace ruvicorn
