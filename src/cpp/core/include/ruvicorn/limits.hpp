// The one place where every size and count bound of the core lives. Filled from ruvicorn.Config
// (src/ruvicorn/config.py) or by an embedding program; no other file hard-codes a limit.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ruvicorn {

// What one thread's pool of idle buffers keeps, per kind of buffer (ruvicorn/buffer_pool.hpp):
// enough for the connections that hold one at the same moment (a few on one event loop), so a
// busy keep-alive connection allocates nothing per request while an idle one holds nothing.
constexpr std::size_t kBufferPoolBytes = 256 * 1024;
constexpr std::size_t kBufferPoolEntries = 64;
// What a busy HTTP/2 connection keeps of one scratch list or buffer from one request to the
// next (field lists, the response head's fields, per-read lists; buffer_pool.hpp: clear_within)
// until it goes idle: what usual requests need. The output buffer is bounded by high_water.
constexpr std::size_t kKeptScratchBytes = 16 * 1024;

struct Limits {
  // Request line ("GET /path HTTP/1.1"), without CRLF. gunicorn's --limit-request-line. 0: only
  // max_head_size applies. Exceeding it: 414.
  std::size_t max_request_line = 0;
  // Number of header fields. gunicorn's --limit-request-fields. Exceeding it: 431.
  std::size_t max_header_count = 100;
  // One header line (name + value). gunicorn's --limit-request-field-size. 0: only max_head_size.
  std::size_t max_header_field_size = 0;
  // Whole request head including the blank line (uvicorn's --h11-max-incomplete-event-size maps
  // here). Exceeding it: 431.
  std::size_t max_head_size = 65536;
  // Request body size; 0 means unlimited. Exceeding it: 413.
  std::uint64_t max_body_size = 0;
  // Bytes the connection may hold that the application has not consumed (pipelined requests,
  // unread body). Above it the transport is paused (pause_reading) until the app catches up.
  std::size_t high_water = 64 * 1024;
  // HTTP/1.1: request body bytes still to come when the response is already complete that are
  // read (same framing rules) and discarded so that the connection serves the next request;
  // a body with more left (Content-Length), or that goes on past it (chunked, counted on the
  // wire), closes the connection instead. 0: always close.
  std::size_t max_drain = 64 * 1024;
  // WebSocket: largest message after reassembly and inflation (--ws-max-size), close 1009.
  std::size_t ws_max_message = 16 * 1024 * 1024;
  // WebSocket: messages queued for an application that is not receiving (--ws-max-queue), and
  // their payload bytes (--ws-max-queue-bytes). Reading pauses at either; a message larger than
  // the byte bound is still queued (alone), so a queue holds at most max(bytes, one message).
  std::size_t ws_max_queue = 32;
  std::size_t ws_max_queue_bytes = 4 * 1024 * 1024;

  // HTTP/2 (RFC 9113 6.5.2): what we announce in SETTINGS and then enforce.
  // Streams with a slot at once (--http2-max-concurrent-streams); a reset or finished stream
  // keeps its slot until its application task ends. Beyond it: RST_STREAM(REFUSED_STREAM).
  std::uint32_t h2_max_concurrent_streams = 100;
  // Request body bytes a stream may send ahead of its application (SETTINGS_INITIAL_WINDOW_SIZE,
  // --http2-initial-stream-window-size); credit returns as the app reads.
  std::uint32_t h2_initial_stream_window = 1024 * 1024;
  // Body bytes all streams together may send ahead of their applications
  // (--http2-initial-connection-window-size): bounds what one connection buffers.
  std::uint32_t h2_initial_connection_window = 1024 * 1024;
  // Largest frame payload we accept (SETTINGS_MAX_FRAME_SIZE, --http2-max-frame-size).
  std::uint32_t h2_max_frame_size = 16384;
  // Largest request header list, counted as RFC 7541 4.1 does (name + value + 32 per field)
  // (SETTINGS_MAX_HEADER_LIST_SIZE, --http2-max-header-list-size). Beyond it: 431.
  std::uint32_t h2_max_header_list_size = 64 * 1024;
  // Our HPACK decoder's dynamic table (SETTINGS_HEADER_TABLE_SIZE).
  std::uint32_t h2_header_table_size = 4096;

  // HTTP/2 abuse budgets. Each *_burst/*_rate pair is a token bucket (burst tokens, refilled at
  // rate per second); an empty bucket ends the connection with GOAWAY(ENHANCE_YOUR_CALM).
  // Rapid Reset (CVE-2023-44487): RST_STREAMs from the client on streams whose response was not
  // complete. nghttp2's figures.
  std::uint32_t h2_reset_burst = 1000;
  std::uint32_t h2_reset_rate = 33;
  // "Glitches" (MadeYouReset CVE-2025-8671 and the 2019 floods): stream errors the client
  // provokes, refused streams, 431/413 answers, DATA/HEADERS/CONTINUATION frames that carry
  // nothing, WINDOW_UPDATEs beyond one per DATA frame we sent, frames on closed streams,
  // unsolicited ACKs. nghttp2's figures.
  std::uint32_t h2_glitch_burst = 1000;
  std::uint32_t h2_glitch_rate = 33;
  // PING and SETTINGS frames, each of which makes us queue an ACK (CVE-2019-9512, -9515).
  std::uint32_t h2_control_burst = 1000;
  std::uint32_t h2_control_rate = 100;
  // CONTINUATION flood (2024): CONTINUATION frames after one HEADERS frame (nghttp2: 8), and the
  // compressed bytes of one header block. Beyond either: GOAWAY(ENHANCE_YOUR_CALM). The byte cap
  // is above h2_max_header_list_size so that a list just over that limit still gets its 431.
  std::uint32_t h2_max_continuation_frames = 8;
  std::uint32_t h2_max_header_block_size = 128 * 1024;
  // Control frames (ACKs, RST_STREAM, WINDOW_UPDATE) queued while the owner's transport is
  // paused (Connection::pause_output): a peer that sends but does not read is cut off above it.
  std::size_t h2_max_control_backlog = 64 * 1024;

  // HTTP/3 (RFC 9114): what we announce and then enforce. The HTTP/2 reset and glitch budgets
  // above bound HTTP/3 too (client resets of unfinished requests; stream errors, refused streams,
  // 431/413 answers), answered with H3_EXCESSIVE_LOAD.
  // Request streams with a slot at once (--http3-max-concurrent-streams), also the QUIC limit on
  // the bidirectional streams a client may open. A reset or finished stream keeps its slot until
  // its application task ends. Beyond it: H3_REQUEST_REJECTED.
  std::uint32_t h3_max_concurrent_streams = 100;
  // Largest request field section (SETTINGS_MAX_FIELD_SECTION_SIZE, RFC 9114 4.2.2), counted as
  // RFC 7541 4.1 does. A HEADERS frame longer than this is refused before it is buffered; a
  // section that decodes to more gets a 431.
  std::uint32_t h3_max_field_section_size = 64 * 1024;
  // Request body bytes the streams of one connection may hold unread by their applications; also
  // the QUIC stream and connection receive windows. The QUIC libraries return credit as bytes
  // arrive, not as the app reads, so above this the owner stops taking the connection's packets
  // until the apps catch up (the client retransmits them).
  std::uint32_t h3_receive_buffer = 1024 * 1024;
};

}  // namespace ruvicorn
