"""Entry points: ``fastasgi.run(app, **settings)`` and the ``fastasgi`` command.

Both build a Config (the command line through ``fastasgi.cli``), set up logging, then either run
one server in this process or hand over to the supervisor (several workers, --reload, worker
recycling). With one worker the app is loaded and the sockets bound before the server starts, so a wrong import string or a busy port is reported at once.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import stat
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from fastasgi.cli import build_parser, config_from_args, version_text
from fastasgi.config import KEYWORDS, Config, build_config
from fastasgi.errors import ConfigError

__all__ = ["console_main", "main", "run", "serve"]

logger = logging.getLogger("fastasgi.error")


def run(app: Any, **settings: Any) -> None:
    """Serve ``app`` (an ASGI/WSGI app object, or an import string "module:attr") until stopped.

    ``settings`` are the command-line options by their Python names (``port=8001``,
    ``log_level="debug"``); uvicorn's names for them work too. An unknown name is a TypeError,
    a bad value a ConfigError. Raises SystemExit with the server's exit code if it is not 0."""
    given: dict[str, Any] = {"app": app}
    labels: dict[str, str] = {}
    for keyword, value in settings.items():
        name = KEYWORDS.get(keyword)
        if name is None or name == "app":
            raise TypeError(f"run() got an unexpected keyword argument {keyword!r}")
        if name in labels:
            raise TypeError(f"run() got {labels[name]!r} and {keyword!r}, which set the same thing")
        given[name] = value
        labels[name] = keyword
    code = serve(build_config(given, labels))
    if code:
        raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``fastasgi`` command (and ``python -m fastasgi``); returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        if args.version:
            print(version_text())
            return 0
        return serve(config_from_args(args))
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:  # before the server's own signal handling is in place
        return 130


def serve(config: Config) -> int:
    """Run ``config`` to completion in this process (or its workers); return the exit status."""
    from fastasgi.logging import configure_logging

    configure_logging(config)
    if config.loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ConfigError("--loop uvloop: uvloop is not installed (pip install uvloop)")
    if config.reload and config.workers > 1:
        logger.warning('"workers" flag is ignored when reloading is enabled.')
    elif not config.reload and (
        config.reload_dirs or config.reload_includes or config.reload_excludes
    ):
        # uvicorn's words for it.
        logger.warning("Current configuration will not reload as not all conditions are met, "
                       "please refer to documentation.")
    if config.supervised:
        from fastasgi.supervisor import Supervisor

        return Supervisor(config).run()

    from fastasgi.importer import load_app
    from fastasgi.server import Server
    from fastasgi.sockets import bind_sockets

    app = load_app(config)
    sockets = bind_sockets(config)
    try:
        return Server(config, app, serve_metrics=True).run(sockets=sockets)
    finally:
        _close(sockets, config.uds)


def _close(sockets: list[socket.socket], uds: str | None) -> None:
    for sock in sockets:
        sock.close()
    if uds:
        try:
            if stat.S_ISSOCK(os.stat(uds).st_mode):
                os.unlink(uds)
        except OSError:
            pass


def console_main() -> NoReturn:
    """The ``fastasgi`` console script."""
    sys.exit(main())
