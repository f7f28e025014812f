// One HTTP/2 stream as the server connection tracks it: its state (RFC 9113 5.1) as two half
// states plus the owner's view of it, both flow-control windows, the request body accounting and
// the response bytes waiting for window.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http2/window.hpp"
#include "util/free_memory.hpp"

namespace ruvicorn::http2 {

struct Stream {
  // The response as the owner submits it.
  enum class Response : std::uint8_t {
    kNone,   // no final HEADERS yet (informational ones may have gone)
    kBody,   // final HEADERS sent; body and trailers may follow
    kEnded,  // END_STREAM submitted (it may still wait in the queue for window)
  };

  std::uint32_t id = 0;

  // Wire state: open = neither closed; half-closed(remote) = remote_closed; closed = both.
  bool remote_closed = false;  // END_STREAM received, or reset
  bool local_closed = false;   // END_STREAM written to the output, or reset
  bool reset = false;          // RST_STREAM sent or received: nothing more goes out
  bool reset_by_us = false;    // ... sent by us: late frames from the client are ignored

  // The owner's view.
  bool delivered = false;      // on_request was called: the stream holds its slot until release()
  bool released = false;
  bool rejected = false;       // answered by the core itself (431, 413, 400)
  bool reset_notified = false; // on_reset was called: nothing more is delivered
  bool writable_note = false;  // queued data was framed during this feed(): on_writable owed
  bool in_ready = false;       // listed in the connection's ready list

  // Request body.
  Window recv_window;              // what the client may still send on this stream
  std::uint32_t credit = 0;        // consumed bytes not yet returned in a WINDOW_UPDATE
  std::uint64_t unconsumed = 0;    // delivered by on_data, not yet consume()d
  std::uint64_t received = 0;      // DATA payload bytes so far
  bool has_content_length = false;
  std::uint64_t content_length = 0;

  // Response.
  Response response = Response::kNone;
  bool no_body = false;            // HEAD, 204, 304: END_STREAM went with the HEADERS
  bool has_length = false;         // the app's content-length
  std::uint64_t length = 0;
  std::uint64_t submitted = 0;     // body bytes the app gave us
  Window send_window;              // what we may still send on this stream
  std::string queue;               // body bytes not framed yet, from queue_pos on
  std::size_t queue_pos = 0;
  bool end_queued = false;         // END_STREAM follows the queue (on DATA, or on trailers)
  bool trailers_queued = false;    // `trailers` go out as HEADERS after the queue
  std::vector<std::pair<std::string, std::string>> trailers;

  std::unique_ptr<Stream> next_spare;  // StreamTable's list of spare streams (null while live)

  std::size_t pending() const { return queue.size() - queue_pos; }
  // Something waits that the windows allow to go out now?
  bool sendable() const {
    if (reset || local_closed) return false;
    if (pending() > 0) return send_window.value > 0;
    return end_queued;  // END_STREAM alone (empty DATA or trailers) needs no window
  }

  // Body bytes that must wait. The part of the queue already framed is dropped first once it is
  // at least as large as what waits (each byte moves once at most, on average), so a queue that
  // never quite drains stays within about twice its pending bytes.
  void enqueue(std::string_view bytes) {
    if (queue_pos != 0 && queue_pos >= pending()) {
      queue.erase(0, queue_pos);
      queue_pos = 0;
    }
    queue.append(bytes.data(), bytes.size());
  }
  // `n` queued bytes were framed. The queue holds memory only while something waits.
  void dequeued(std::size_t n) {
    queue_pos += n;
    if (pending() == 0) drop_queue();
  }
  void drop_queue() {
    free_memory(queue);
    queue_pos = 0;
  }

  // Back to a fresh state for reuse (its queue and trailers freed). Not on a spare (it would
  // free the spares linked after it).
  void recycle() {
    drop_queue();  // first: assigning a fresh string would keep the queue's capacity
    free_memory(trailers);
    *this = Stream{};
  }
};

}  // namespace ruvicorn::http2
