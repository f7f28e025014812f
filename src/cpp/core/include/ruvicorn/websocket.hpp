// The WebSocket codec of the core: opening handshake (ws_handshake.hpp) and framing with
// permessage-deflate (ws_frame.hpp). Include this one header.
#pragma once
#include "ruvicorn/utf8.hpp"
#include "ruvicorn/ws_frame.hpp"
#include "ruvicorn/ws_handshake.hpp"
