// WsChannel: what a WebSocket session runs over — the HTTP/1.1 connection it upgraded (RFC 6455)
// or an HTTP/2 stream opened by an extended CONNECT (RFC 8441). The session does the ASGI side
// and the frames (through the core's codec); the channel carries the handshake answer and the
// frame bytes, and owns flow control.
#pragma once
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "context.hpp"
#include "ruvicorn/error.hpp"
#include "ruvicorn/ws_handshake.hpp"

namespace ruvicorn::py {

namespace pb = pybind11;
class ResponseSink;

class WsChannel {
 public:
  virtual ~WsChannel() = default;

  virtual HttpContext& ctx() const = 0;
  // Nothing written now can reach the client.
  virtual bool gone() const = 0;

  // websocket.accept: the handshake answer with the negotiated subprotocol and extension and the
  // app's headers (validated: raises on an invalid one, with nothing sent).
  virtual void accept(const WsUpgrade& upgrade, std::string_view subprotocol,
                      PyObject* headers) = 0;
  // An error answer before the handshake (403, 500, ...), then the end of the channel.
  virtual void reject(const HttpError& error) = 0;
  // The app's own denial response (websocket.http.response.*); the channel ends after it.
  virtual ResponseSink& denial(int http_minor) = 0;

  // Frame bytes. out() collects; hold() writes by the end of the loop iteration; flush() now.
  virtual std::string& out() = 0;
  virtual void hold() = 0;
  virtual void flush() = 0;
  virtual void write(PyObject* bytes) = 0;  // a whole frame as one bytes object
  virtual pb::object writable() = 0;        // what send() awaits

  // Input flow control: stop/start delivering bytes; `consumed` bytes were read as frames.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual bool reading_paused() const = 0;
  virtual void consumed(std::size_t n) = 0;

  // The session is over (after the closing handshake, or on failure): end the connection or
  // the stream. Never throws.
  virtual void close() noexcept = 0;
  // The app's task ended (after close()): an HTTP/2 stream gives its slot back.
  virtual void session_ended() noexcept {}
};

}  // namespace ruvicorn::py
