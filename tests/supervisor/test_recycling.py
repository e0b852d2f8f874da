"""--workers-lifetime and --workers-max-rss: a worker past its limit is replaced by a rolling
restart, with no failed request, over real sockets."""

from __future__ import annotations

import re

from tests.supervisor.supervised import load, supervise


def test_worker_past_its_lifetime_is_replaced_without_a_failed_request() -> None:
    with supervise("--workers-lifetime", "2", workers=1) as server:
        first = server.answering_pid()
        with load(server) as sent:
            server.wait_for(lambda: f"Finished server process [{first}]" in server.log, 30,
                            "the first worker to be replaced and stop")
            server.wait_for(lambda: any(pid != first for pid in sent.pids), 10,
                            "a request answered by the replacement")
        assert sent.failures == []
        assert first in sent.pids
        assert (f"Replacing worker [{first}]: it has run for 2 s (--workers-lifetime)"
                in server.log)
        # The replacement served before the old worker was told to stop.
        log = server.log
        replacement = next(pid for pid in sent.pids if pid != first)
        assert log.index(f"Rolling restart: stopping worker [{first}]") > log.index(
            f"Started server process [{replacement}]")


def test_worker_over_its_memory_limit_is_replaced_without_a_failed_request() -> None:
    with supervise("--workers-max-rss", "160", workers=1) as server:
        first = server.answering_pid()
        with load(server) as sent:
            status, body = server.get("/grow?200")  # 200 MiB more: over the limit
            assert (status, int(body)) == (200, first)
            server.wait_for(lambda: f"Finished server process [{first}]" in server.log, 30,
                            "the grown worker to be replaced and stop")
            server.wait_for(lambda: any(pid != first for pid in sent.pids), 10,
                            "a request answered by the replacement")
        assert sent.failures == []
        found = re.search(rf"Replacing worker \[{first}\]: it uses (\d+) MiB, over "
                          r"--workers-max-rss 160", server.log)
        assert found is not None, server.log
        assert int(found.group(1)) > 160
        # The replacement has not grown: it keeps serving, alone.
        server.wait_for(lambda: len(server.workers()) == 1 and first not in server.workers(),
                        10, "the grown worker to exit")
        assert server.log.count("Replacing worker") == 1
