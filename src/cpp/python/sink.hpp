// ResponseSink: where one request cycle's response goes — an HTTP/1.1 connection or an HTTP/2
// stream (later an HTTP/3 stream). HttpCycle does the ASGI side (message order, receive/send,
// access log) and never knows which; each sink does its version's framing, validation and flow
// control. Everything here may raise pb::error_already_set unless it says otherwise.
#pragma once
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string_view>

#include "context.hpp"
#include "ruvicorn/error.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class HttpCycle;

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;

  virtual HttpContext& ctx() const = 0;
  // Nothing sent now can reach the client (connection lost, stream reset).
  virtual bool gone() const = 0;

  // http.response.start: validates and queues the head. On invalid input it raises with nothing
  // queued.
  virtual void start(int status, PyObject* headers, bool trailers) = 0;
  // http.response.body. `body` is the app's exact bytes object when the sink may keep or write it
  // as is (large bodies), else nullptr; `data` is its content either way. A returned error is a
  // framing error of the app (e.g. more bytes than its content-length): nothing was queued.
  virtual HttpError body(PyObject* body, std::string_view data, bool more) = 0;
  virtual HttpError trailers(PyObject* headers, bool more) = 0;
  // A 1xx before the final response: 100 Continue (links == nullptr) or 103 Early Hints with one
  // Link field per item of `links`. Dropped where the protocol cannot carry it (HTTP/1.0).
  virtual void informational(int status, PyObject* links) = 0;
  // After body()/trailers(): has the whole response been queued?
  virtual bool complete() const = 0;
  // What the app's send() returns: a ready awaitable, or a Future resolved once the client reads.
  virtual pb::object writable() = 0;

  // The app took `n` bytes of the request body (flow control may let more in).
  virtual void consumed(std::size_t n) = 0;
  // The response is complete (the cycle has logged it): keep-alive and the next request
  // (HTTP/1.1), the stream's end (HTTP/2).
  virtual void response_done(HttpCycle& cycle) = 0;
  // The app cannot complete its response (it raised, returned early, broke the framing): answer
  // `error` if nothing was queued yet, else end the exchange after what was sent (HTTP/1.1: close
  // the connection; HTTP/2: reset the stream). Never throws.
  virtual void abort_response(const HttpError& error) noexcept = 0;
  // The app failed (raised, returned a value, sent after the end) after its response was
  // complete. HTTP/1.1 does not reuse the connection, as uvicorn; an HTTP/2 stream has ended and
  // the connection's other streams are not this app's: nothing more to do there. Never throws.
  virtual void failed_after_response() noexcept {}
  // The app's task ended (its slot and task bookkeeping can go).
  virtual void cycle_ended(HttpCycle& cycle) noexcept = 0;
};

}  // namespace ruvicorn::py
