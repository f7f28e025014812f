# Pinned third-party sources, obtained at build time by package name from the package index.
# name  version  sha256 of the sdist archive  subdirectory of the archive that holds the C sources;
# UPSTREAM is the parser's own release (or commit) inside that sdist, reported by `ruvicorn --version`
# and checked against its header when the build is configured.
set(RUVICORN_LLHTTP_PACKAGE "llhttp")
set(RUVICORN_LLHTTP_VERSION "9.3.0.0")
set(RUVICORN_LLHTTP_SHA256 "0d989363e7fb6f270b9d49956e7a3945c26778f8c70a166815264309ac6a8295")
set(RUVICORN_LLHTTP_SUBDIR "lib")
set(RUVICORN_LLHTTP_UPSTREAM "9.3.0")

set(RUVICORN_PICO_PACKAGE "pypicohp")
set(RUVICORN_PICO_VERSION "0.1.3")
set(RUVICORN_PICO_SHA256 "4d3899f8530557b71dd4bd3198c11d5584bc1e53ee1b5bfa727afb81a635b5b3")
set(RUVICORN_PICO_SUBDIR "pypicohp")
set(RUVICORN_PICO_UPSTREAM "066d2b1e")
