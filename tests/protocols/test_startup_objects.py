"""What the app and the server made before serving is frozen out of the garbage collector's
walks (fastasgi/server.py, freeze_startup_objects): a worker's full collections then walk only
what its requests made, and pause its event loop for that long."""

from __future__ import annotations

import httpx

from tests.support.server import serve_cli


def test_objects_made_before_serving_are_not_walked_by_the_garbage_collector() -> None:
    with serve_cli("tests.support.apps:gc_report", "--lifespan", "off") as srv:
        report = httpx.get(srv.url).json()
    # The app module's own object among them, and the server's modules with it.
    assert report["walked"] is False
    assert report["frozen"] > 10_000
