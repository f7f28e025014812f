// The one place where every size and count bound of the core lives. Filled from ruvicorn.Config
// (src/ruvicorn/config.py) or by an embedding program; no other file hard-codes a limit.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ruvicorn {

struct Limits {
  // Request line ("GET /path HTTP/1.1"), without CRLF. gunicorn's --limit-request-line. 0: only
  // max_head_size applies. Exceeding it: 414.
  std::size_t max_request_line = 4094;
  // Number of header fields. gunicorn's --limit-request-fields. Exceeding it: 431.
  std::size_t max_header_count = 100;
  // One header line (name + value). gunicorn's --limit-request-field-size. 0: only max_head_size.
  std::size_t max_header_field_size = 8190;
  // Whole request head including the blank line (uvicorn's --h11-max-incomplete-event-size maps
  // here). Exceeding it: 431.
  std::size_t max_head_size = 65536;
  // Request body size; 0 means unlimited. Exceeding it: 413.
  std::uint64_t max_body_size = 0;
  // Bytes the connection may hold that the application has not consumed (pipelined requests,
  // unread body). Above it the transport is paused (pause_reading) until the app catches up.
  std::size_t high_water = 64 * 1024;
  // WebSocket: largest message after reassembly and inflation (--ws-max-size), close 1009.
  std::size_t ws_max_message = 16 * 1024 * 1024;
  // WebSocket: messages queued for an application that is not receiving (--ws-max-queue).
  std::size_t ws_max_queue = 32;
};

}  // namespace ruvicorn
