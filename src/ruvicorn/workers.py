"""A gunicorn worker class: ``gunicorn -k ruvicorn.workers.RuvicornWorker app:app``.

gunicorn owns the sockets and the processes; each worker runs one ruvicorn ``Server``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from ruvicorn.config import Config
from ruvicorn.logging import FAMILIES
from ruvicorn.server import Server, run_with_loop_factory


class RuvicornWorker(Worker):  # type: ignore[misc]
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "auto"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Ours and uvicorn's names (apps log through uvicorn.error too): gunicorn's handlers.
        for family in FAMILIES:
            for suffix, source in ((".error", self.log.error_log),
                                   (".access", self.log.access_log)):
                target = logging.getLogger(family + suffix)
                target.handlers = source.handlers
                target.setLevel(source.level)
                target.propagate = False

        kwargs_: dict[str, Any] = {
            "app": None,
            "log_config": None,
            "timeout_keep_alive": self.cfg.keepalive,
            "timeout_notify": self.timeout,
            "callback_notify": self.callback_notify,
            "limit_max_requests": self.max_requests or None,
            "forwarded_allow_ips": self.cfg.forwarded_allow_ips,
            "limit_request_line": self.cfg.limit_request_line,
            "limit_request_fields": self.cfg.limit_request_fields,
            "limit_request_field_size": self.cfg.limit_request_field_size,
            "timeout_graceful_shutdown": self.cfg.graceful_timeout,
        }
        if self.cfg.is_ssl:
            options = self.cfg.ssl_options
            kwargs_.update(
                ssl_keyfile=options.get("keyfile"), ssl_certfile=options.get("certfile"),
                ssl_keyfile_password=options.get("password"),
                ssl_version=options.get("ssl_version"), ssl_cert_reqs=options.get("cert_reqs"),
                ssl_ca_certs=options.get("ca_certs"), ssl_ciphers=options.get("ciphers"),
            )
        if self.cfg.settings["backlog"].value:
            kwargs_["backlog"] = self.cfg.settings["backlog"].value
        kwargs_.update(self.CONFIG_KWARGS)
        self.config = Config(**kwargs_)

    def init_signals(self) -> None:
        # Server installs its own SIGINT/SIGTERM handlers; gunicorn's SIGUSR1 reopens log files.
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.siginterrupt(signal.SIGUSR1, False)

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = Server(config=self.config)
        # gunicorn sends SIGQUIT for a quick stop.
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGQUIT, server.handle_exit, signal.SIGQUIT, None)
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    def run(self) -> None:
        run_with_loop_factory(self._serve(), self.config.get_loop_factory())

    async def callback_notify(self) -> None:
        self.notify()
