// Test helpers for the WebSocket codec tests: a handler that records events, and byte helpers.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "ruvicorn/websocket.hpp"

namespace wstest {

struct Event {
  std::string kind;  // "text", "binary", "ping", "pong", "close", "error"
  int code = 0;      // close code or error code
  std::string data;  // payload or reason
};

struct Recorder : ruvicorn::WsHandler {
  std::vector<Event> events;
  void on_message(ruvicorn::WsOpcode op, std::string_view payload) override {
    const char* kind = op == ruvicorn::WsOpcode::kText ? "text" : "binary";
    events.push_back({kind, 0, std::string(payload)});
  }
  void on_ping(std::string_view p) override { events.push_back({"ping", 0, std::string(p)}); }
  void on_pong(std::string_view p) override { events.push_back({"pong", 0, std::string(p)}); }
  void on_close(int code, std::string_view reason) override {
    events.push_back({"close", code, std::string(reason)});
  }
  void on_error(const ruvicorn::WsError& e) override {
    events.push_back({"error", e.code, std::string(e.reason)});
  }
  // One line per event, for compact comparisons: "text:Hello", "error:1002", "close:1000:bye".
  std::string summary() const {
    std::string s;
    for (const auto& e : events) {
      if (!s.empty()) s += '|';
      s += e.kind;
      if (e.kind == "error") {
        s += ':' + std::to_string(e.code);
      } else if (e.kind == "close") {
        s += ':' + std::to_string(e.code) + ':' + e.data;
      } else {
        s += ':' + e.data;
      }
    }
    return s;
  }
};

inline std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += char(c);
  return s;
}

// A client frame (masked with a fixed key) built by the codec's own frame writer.
inline std::string client_frame(ruvicorn::WsOpcode op, std::string_view payload, bool fin = true,
                                bool rsv1 = false) {
  static const std::uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string out;
  ruvicorn::ws_write_frame(out, op, payload, fin, rsv1, kMask);
  return out;
}

}  // namespace wstest
