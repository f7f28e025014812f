"""The Python API as uvicorn's users call it: Config.load() errors, reload options that name
missing or absolute paths, and run()'s signature."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Iterator

import pytest

import ruvicorn
from helpers import free_port, run_cli
from ruvicorn.config import Config

APPS = str(Path(__file__).resolve().parent.parent / "server")

# uvicorn 0.54.0's run() parameters, in order.
UVICORN_RUN = (
    "app host port uds fd loop http http2 ws ws_max_size ws_max_queue ws_ping_interval "
    "ws_ping_timeout ws_per_message_deflate lifespan interface reload reload_dirs "
    "reload_includes reload_excludes reload_delay workers env_file log_config log_level "
    "access_log proxy_headers server_header date_header forwarded_allow_ips root_path "
    "limit_concurrency backlog limit_max_requests limit_max_requests_jitter timeout_keep_alive "
    "timeout_graceful_shutdown timeout_worker_healthcheck ssl_keyfile ssl_certfile "
    "ssl_keyfile_password ssl_version ssl_cert_reqs ssl_ca_certs ssl_ciphers "
    "ssl_context_factory headers use_colors app_dir factory h11_max_incomplete_event_size "
    "reset_contextvars"
).split()
RUVICORN_OWN = ["timeout_request_header", "limit_request_line", "limit_request_fields",
                "limit_request_field_size", "limit_request_body", "wsgi_workers",
                "http2_max_concurrent_streams", "http2_initial_stream_window_size",
                "http2_initial_connection_window_size", "http2_max_frame_size",
                "http2_max_header_list_size", "http2_keep_alive_interval",
                "http2_keep_alive_timeout", "ws_max_queue_bytes", "http3",
                "http3_max_concurrent_streams", "http3_idle_timeout", "http3_max_datagram_size",
                "metrics", "metrics_address", "metrics_port"]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def server_log() -> Iterator[list[str]]:
    """What the server logs (Configs made with log_config=None keep this handler)."""
    handler = _Lines()
    logger = logging.getLogger("ruvicorn.error")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        Config("os:getcwd")  # the default log configuration again


@pytest.mark.parametrize("app", ["no_such_module_xyz:app", "no_such_pkg_xyz.sub:app"])
def test_load_of_an_unimportable_app_raises_import_error(app: str) -> None:
    config = Config(app)
    with pytest.raises(ImportError, match="Could not import module") as info:
        config.load()
    assert isinstance(info.value, ModuleNotFoundError)
    assert info.value.name == app.partition(":")[0]
    assert not config.loaded


def test_load_of_a_missing_attribute_exits_1(server_log: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        Config("os:no_such_attr", log_config=None).load()
    assert info.value.code == 1
    assert server_log == ['Error loading ASGI app. Attribute "no_such_attr" not found in module '
                          '"os".']


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]])
def test_cli_keeps_one_line_for_an_unimportable_app(extra: list[str]) -> None:
    # A free port: with --workers the supervisor binds before a worker imports the app (as
    # uvicorn does), so a busy default port 8000 would fail first.
    port = str(free_port())
    result = run_cli(["--port", port, *extra, "no_such_module_xyz:app"], timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert 'Error loading ASGI app. Could not import module "no_such_module_xyz".' \
        in result.stderr


def test_missing_reload_dir_warns_and_goes_on(tmp_path: Path, server_log: list[str]) -> None:
    (tmp_path / "src").mkdir()
    missing = tmp_path / "missing"
    config = Config("apps:hello", reload=True, log_config=None,
                    reload_dirs=[str(missing), str(tmp_path / "src")])
    assert config.reload_dirs == [tmp_path / "src"]
    assert f"Reload directory '{missing}' does not exist; not watching it." in server_log


def test_absolute_reload_include_glob(tmp_path: Path) -> None:
    for name in ("app_one", "app_two", "other"):
        (tmp_path / name).mkdir()
    config = Config("apps:hello", reload=True, reload_dirs=[str(tmp_path / "other")],
                    reload_includes=[str(tmp_path / "app_*"), str(tmp_path / "*.txt")])
    Config("os:getcwd")
    assert sorted(config.reload_dirs) == [tmp_path / n for n in ("app_one", "app_two", "other")]
    assert str(tmp_path / "*.txt") in config.reload_includes


def test_excluded_subdirectories_are_folded(tmp_path: Path) -> None:
    (tmp_path / "app" / "sub").mkdir(parents=True)
    (tmp_path / "keep").mkdir()
    config = Config("apps:hello", reload=True, reload_dirs=[str(tmp_path)],
                    reload_excludes=[str(tmp_path / "app"), str(tmp_path / "app" / "sub")])
    Config("os:getcwd")
    assert config.reload_dirs == [tmp_path]
    assert config.reload_dirs_excludes == [tmp_path / "app"]


def test_run_has_uvicorns_signature() -> None:
    params = inspect.signature(ruvicorn.run).parameters
    assert list(params) == UVICORN_RUN + RUVICORN_OWN
    assert all(p.kind is p.KEYWORD_ONLY for name, p in params.items() if name != "app")
    config = inspect.signature(Config.__init__).parameters
    for name, param in params.items():
        if name != "app_dir":
            # The same annotation and default as Config's (uvicorn's, but for the documented
            # 30 s graceful shutdown).
            assert repr(param) == repr(config[name]), name
    assert params["timeout_graceful_shutdown"].default == 30
    assert params["ws_max_size"].default == 16 * 1024 * 1024
    assert params["log_level"].default is None and params["reload_delay"].default == 0.25
