// Test and benchmark hooks: the core's HPACK codec from Python, for the differential tests
// against the python hpack package (tests/http2/test_hpack_differential.py) and bench/micro.
// Not used by the server.
//   _core.HpackDecoder(table_limit, max_list).decode(block) -> [(name, value), ...]
//   _core.HpackEncoder(table_size).encode(status or None, [(name, value), ...]) -> block
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "ruvicorn/hpack.hpp"

namespace pb = pybind11;

namespace {

std::string_view bytes_view(PyObject* o) {
  char* p = nullptr;
  Py_ssize_t n = 0;
  if (PyBytes_AsStringAndSize(o, &p, &n) != 0) throw pb::error_already_set();
  return {p, static_cast<std::size_t>(n)};
}

pb::bytes to_bytes(std::string_view s) { return pb::bytes(s.data(), s.size()); }

class PyHpackDecoder {
 public:
  PyHpackDecoder(std::size_t table_limit, std::size_t max_list) : decoder_(table_limit, max_list) {}

  // The fields of one block; ValueError(reason) on a decoding error. `oversize` tells whether
  // the list went over max_list (the fields past it are missing).
  pb::list decode(const pb::bytes& block) {
    const ruvicorn::hpack::DecodeError err = decoder_.decode(bytes_view(block.ptr()), fields_, oversize_);
    if (err) throw pb::value_error(std::string(err.reason));
    pb::list out(fields_.size());
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      out[i] = pb::make_tuple(to_bytes(fields_[i].name), to_bytes(fields_[i].value));
    }
    return out;
  }

  // The dynamic table, newest entry first.
  pb::list table() const {
    const ruvicorn::hpack::DynamicTable& t = decoder_.table();
    pb::list out;
    for (std::size_t i = 0; i < t.count(); ++i) {
      out.append(pb::make_tuple(to_bytes(t.at(i).name), to_bytes(t.at(i).value)));
    }
    return out;
  }

  ruvicorn::hpack::Decoder decoder_;
  std::vector<ruvicorn::Header> fields_;
  bool oversize_ = false;
};

class PyHpackEncoder {
 public:
  explicit PyHpackEncoder(std::size_t table_size) : encoder_(table_size) {}

  pb::bytes encode(const pb::object& status, const pb::list& fields) {
    out_.clear();
    encoder_.begin(out_);
    if (!status.is_none()) encoder_.status(status.cast<int>(), out_);
    for (const pb::handle item : fields) {
      const auto pair = pb::reinterpret_borrow<pb::tuple>(item);
      if (pair.size() != 2) throw pb::value_error("fields are (name, value) pairs of bytes");
      encoder_.field(bytes_view(pair[0].ptr()), bytes_view(pair[1].ptr()), out_);
    }
    return to_bytes(out_);
  }

  ruvicorn::hpack::Encoder encoder_;
  std::string out_;
};

}  // namespace

void register_hpack_hooks(pb::module_& m) {
  pb::class_<PyHpackDecoder>(m, "HpackDecoder")
      .def(pb::init<std::size_t, std::size_t>(), pb::arg("table_limit"), pb::arg("max_list"))
      .def("decode", &PyHpackDecoder::decode, pb::arg("block"))
      .def("table", &PyHpackDecoder::table)
      .def_property_readonly("oversize", [](const PyHpackDecoder& d) { return d.oversize_; })
      .def_property_readonly("table_size",
                             [](const PyHpackDecoder& d) { return d.decoder_.table().size(); });
  pb::class_<PyHpackEncoder>(m, "HpackEncoder")
      .def(pb::init<std::size_t>(), pb::arg("table_size") = 4096)
      .def("encode", &PyHpackEncoder::encode, pb::arg("status"), pb::arg("fields"))
      .def("set_peer_table_size",
           [](PyHpackEncoder& e, std::size_t n) { e.encoder_.set_peer_table_size(n); })
      .def_property_readonly("table_size",
                             [](const PyHpackEncoder& e) { return e.encoder_.table().size(); });
}
