// ruvicorn._core: the Python binding over the C++ core. Registers the classes defined in the other
// files of this directory.
#include <pybind11/pybind11.h>

#include "ruvicorn/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "ruvicorn's C++ protocol core (HTTP/1.1, WebSocket) as an asyncio Protocol";
  m.attr("__version__") = RUVICORN_VERSION;
}
