"""fastasgi as a gunicorn worker class: ``gunicorn -k fastasgi.workers.FastASGIWorker main:app``.

gunicorn's arbiter then does the supervisor's job (binding, forking, replacing workers, its own
signals), and each of its workers runs a fastasgi server on the sockets gunicorn bound. gunicorn's
settings become fastasgi's:

  keepalive                  --timeout-keep-alive (0, "no keep-alive", becomes the shortest
                             timeout fastasgi has: idle connections close at the next tick)
  graceful_timeout           --timeout-graceful-shutdown
  max_requests (+ _jitter)   --limit-max-requests (gunicorn draws the jitter)
  limit_request_line         --limit-request-line (0, "unlimited", leaves only the head limit)
  limit_request_fields       --limit-request-headers
  limit_request_field_size   fastasgi limits the whole head, not each field: the head limit
                             is raised so that one field of this size fits (0 keeps it as is)
  backlog                    --backlog
  forwarded_allow_ips        --forwarded-allow-ips
  certfile, keyfile, ca_certs, cert_reqs, ciphers   the --ssl-* settings
  accesslog, loglevel        fastasgi's loggers write through gunicorn's handlers

Settings gunicorn has no name for (``--ws-max-size``, ``--loop`` ...) are read from the
``FASTASGI_<NAME>`` environment variables. The worker calls ``self.notify()`` (gunicorn's
``--timeout`` heartbeat) from its event loop, so a blocked loop gets it killed by the arbiter,
and it stops if the arbiter goes away. SIGTERM stops it gracefully; SIGQUIT, which gunicorn sends
for a quick shutdown, stops it at once (requests cancelled, lifespan shutdown still run).
A lifespan startup failure exits with code 3, which gunicorn reports as "Worker failed to boot".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from gunicorn.workers.base import Worker  # type: ignore[import-untyped]

from fastasgi.config import SETTING_BY_NAME, Config, build_config

if TYPE_CHECKING:
    from fastasgi.server import Server

__all__ = ["FastASGIWorker"]

NOTIFY_SECONDS = 1.0


class FastASGIWorker(Worker):
    """A gunicorn worker that serves the app with fastasgi."""

    # Settings set here win over gunicorn's and the environment's (subclasses may add to them).
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server: Server | None = None

    # -- gunicorn's hooks ----------------------------------------------------------------------

    def init_signals(self) -> None:
        super().init_signals()
        # The server installs its own SIGINT and SIGTERM handlers once it listens; these cover
        # the time before, and SIGQUIT throughout.
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGQUIT, self._on_quit)

    def run(self) -> None:
        from fastasgi.loops import setup_event_loop
        from fastasgi.server import Server

        config = self.fastasgi_config()
        self._route_logging()
        server = self.server = Server(config)
        if not self.alive:  # a stop signal came while the app was loading
            server.should_exit = True
        setup_event_loop(config.loop)
        code = asyncio.run(self._serve(server))
        if code:
            sys.exit(code)

    # -- settings ------------------------------------------------------------------------------

    def fastasgi_config(self) -> Config:
        """The fastasgi settings this worker runs with, from gunicorn's."""
        cfg = self.cfg
        head_limit = SETTING_BY_NAME["limit_request_header_bytes"].default
        line_limit = cfg.limit_request_line or head_limit
        if cfg.limit_request_field_size > 0:
            head_limit = max(head_limit, line_limit + cfg.limit_request_field_size)
        # fastasgi setting -> (gunicorn setting it comes from, value)
        taken: dict[str, tuple[str, Any]] = {
            "backlog": ("backlog", cfg.backlog),
            "timeout_keep_alive": (
                "keepalive",
                float(cfg.keepalive) or SETTING_BY_NAME["timeout_keep_alive"].minimum,
            ),
            "timeout_graceful_shutdown": ("graceful_timeout", float(cfg.graceful_timeout)),
            "limit_request_line": ("limit_request_line", line_limit),
            "limit_request_headers": ("limit_request_fields", cfg.limit_request_fields),
            "limit_request_header_bytes": ("limit_request_field_size", head_limit),
            "forwarded_allow_ips": ("forwarded_allow_ips", ",".join(cfg.forwarded_allow_ips)),
            "access_log": ("accesslog", bool(cfg.accesslog)),
        }
        if cfg.max_requests > 0:
            # gunicorn has added its jitter already.
            taken["limit_max_requests"] = ("max_requests", self.max_requests)
        if cfg.is_ssl:
            taken.update(
                ssl_certfile=("certfile", cfg.certfile),
                ssl_keyfile=("keyfile", cfg.keyfile or None),
                ssl_ca_certs=("ca_certs", cfg.ca_certs or None),
                ssl_cert_reqs=("cert_reqs", int(cfg.cert_reqs)),
                ssl_ciphers=("ciphers", cfg.ciphers or None),
            )
        given = {name: value for name, (_, value) in taken.items()}
        labels = {name: f"gunicorn's {origin}" for name, (origin, _) in taken.items()}
        given.update(app=self.wsgi, workers=1, **self.CONFIG_KWARGS)
        return build_config(given, labels)

    def _route_logging(self) -> None:
        """fastasgi's loggers write through gunicorn's handlers, at gunicorn's level."""
        pairs = [("fastasgi.error", self.log.error_log)]
        if self.cfg.accesslog:
            pairs.append(("fastasgi.access", self.log.access_log))
        for name, target in pairs:
            ours = logging.getLogger(name)
            ours.handlers = list(target.handlers)
            ours.setLevel(target.level)
            ours.propagate = False

    # -- serving -----------------------------------------------------------------------------

    async def _serve(self, server: Server) -> int:
        sockets = [getattr(sock, "sock", sock) for sock in self.sockets]
        notifying = asyncio.get_running_loop().create_task(self._keep_notifying(server))
        try:
            return await server.serve(sockets)
        finally:
            notifying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notifying

    async def _keep_notifying(self, server: Server) -> None:
        every = min(NOTIFY_SECONDS, self.timeout / 2) if self.timeout > 0 else NOTIFY_SECONDS
        while True:
            self.notify()
            if self.ppid != os.getppid() and not server.should_exit:
                self.log.warning("The gunicorn arbiter is gone; stopping worker %s", self.pid)
                server.handle_exit(signal.SIGTERM)
            await asyncio.sleep(every)

    def _on_term(self, sig: int, frame: Any) -> None:
        self.alive = False
        if self.server is not None:
            self.server.handle_exit(sig, frame)

    def _on_quit(self, sig: int, frame: Any) -> None:
        self.alive = False
        if self.server is not None:
            self.server.should_exit = True
            self.server.force_exit = True
