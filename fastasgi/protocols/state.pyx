# cython: language_level=3
"""What every connection of one server shares: the settings, the app, the clock, the registries."""

import asyncio
import logging
import sys
from time import perf_counter
from ipaddress import ip_address, ip_network

from cpython.bytes cimport PyBytes_GET_SIZE

from fastasgi._parser cimport RequestHead
from fastasgi.protocols.eager_task cimport start_eager
from fastasgi.protocols.metrics cimport RequestMetrics
from fastasgi.access import AccessLogFormat, status_text
from fastasgi.logging import TRACE
from fastasgi.settings cimport ConnectionSettings


# Seconds between the server's ticks: every connection timeout is counted in them, so no
# request needs a timer of its own.
TICK_SECONDS = 1.0


# WebSocket frames (events of the codec: a message, a ping, a pong, a close) one connection
# handles in one turn of the event loop. One read may hold a quarter of a megabyte of tiny
# frames (37,000 pings), each answered by a write: handled at once, they hold the loop for a
# long time while every other connection waits. The rest waits for a later turn, with reading
# paused meanwhile. Far above what an interactive client sends per read, so an ordinary
# conversation never waits.
WEBSOCKET_FRAMES_PER_CONNECTION = 64
# What every connection together handles per turn: two connections' worth. At one to two
# microseconds a frame, a turn stays near a quarter of a millisecond however many connections
# flood (fifty flooding pings: a normal client's p99 1.3-1.5 times its own, against 1.6-2.2 at
# four connections' worth in the same three runs); echo throughput over 16 and 64 connections
# did not change. The budget is renewed after a connection's worth was spent (turn_share.pyx), so
# a connection that spent all of its own has always scheduled the renewal.
WEBSOCKET_FRAMES_PER_TURN = 2 * WEBSOCKET_FRAMES_PER_CONNECTION

# HTTP/1.1 requests every connection together starts in one turn of the event loop. A request
# whose app waits holds its task, scope and cycle meanwhile (as every request did, a turn
# long, when tasks did not start eagerly): 10,000 keep-alive clients whose requests came
# together made 10,000 of each at once, and the worker kept that peak's memory after they were
# gone (1 to 2 KB more per idle connection). The rest wait for a later turn, with reading
# paused meanwhile. Twice what 256 busy keep-alive connections start in a turn, so that no
# ordinary load waits; renewed after 64, so that a quiet turn's few count little against the
# next.
HTTP_REQUESTS_PER_TURN = 512
HTTP_REQUESTS_RENEW_AFTER = 64

# HTTP/2 input one connection hands its core in one turn of the event loop. The core's work goes
# by frames, and one read holds up to 64 KiB of them (7,000 WINDOW_UPDATEs or tiny DATA frames,
# each an event to act on), after which uvloop reads again in the same callback while the
# socket has more. A budget in bytes needs no parsing and bounds the frames a turn handles (at
# most 1,800 of the smallest); it is one frame of the default maximum size with its 9-octet
# header, so a full DATA frame still goes in one turn.
H2_BYTES_PER_CONNECTION = 16384 + 9
# What every HTTP/2 connection together hands its core per turn: two connections' worth. Fifty
# connections flooding WINDOW_UPDATEs made each turn fifty budgets long: a normal client's p99
# 14.8 ms, its worst request 23.6 ms. At four connections' worth it was 0.8-1.0 ms, at two
# 0.37-0.55 ms (0.2-0.4 ms with no flood); h2load's throughput did not change.
H2_BYTES_PER_TURN = 2 * H2_BYTES_PER_CONNECTION


cdef object Task = asyncio.Task
# asyncio.Task starts eagerly from Python 3.12 on; before, eager_task.pyx does.
cdef bint EAGER_START = sys.version_info >= (3, 12)
# Every request's task has this name. Without one, asyncio.Task formats "Task-<n>" for each:
# about 2,000 instructions of a 120,000-instruction request (Python 3.11, callgrind, before
# EagerTask, which takes the name as it is).
cdef str REQUEST_TASK_NAME = "fastasgi-request"


cdef class ServerState:
    """What every connection of one server shares: its settings (whole, as built from the
    Config), the app, the clock and the registries of connections and running tasks."""

    def __init__(self, loop, app, ConnectionSettings settings not None):
        self.loop = loop
        self.app = app
        self.settings = settings
        self.connections = set()
        self.tasks = set()
        self.tick = 0
        self.lifespan_state = {}
        self.large_writes = LargeWriteBudget(loop)
        self.websocket_frames = TurnShare(
            loop, WEBSOCKET_FRAMES_PER_TURN, WEBSOCKET_FRAMES_PER_CONNECTION)
        self.http_requests = TurnShare(loop, HTTP_REQUESTS_PER_TURN, HTTP_REQUESTS_RENEW_AFTER)
        self.h2_input = TurnShare(loop, H2_BYTES_PER_TURN, H2_BYTES_PER_CONNECTION)
        self.keep_alive_ticks = max(1, round(settings.timeout_keep_alive / TICK_SECONDS))
        self.header_read_ticks = max(1, round(settings.timeout_header_read / TICK_SECONDS))
        self.trust(settings.forwarded_allow_ips)
        self.access_logger = logging.getLogger("fastasgi.access")
        if settings.access_log_format is not None:
            self.access_format = AccessLogFormat(settings.access_log_format)
            # Decided once here: without a duration in the format no request reads the clock.
            self.access_timed = settings.access_log and self.access_format.needs_timing
        if settings.metrics:
            self.metrics = RequestMetrics()
        self.requests_timed = self.access_timed or self.metrics is not None
        self.log_trace = logging.getLogger("fastasgi.error").isEnabledFor(TRACE)

    cdef object start_app(self, object coro):
        """The task that runs one request's app coroutine, its first step run now
        (``asyncio.Task(eager_start=True)`` from Python 3.12 on, an ``EagerTask`` before): an
        app that does not wait finishes before this returns. A task factory the app set on the
        loop makes it instead, as it makes any other task."""
        if self.loop.get_task_factory() is not None:
            return self.loop.create_task(coro)
        if EAGER_START:
            return Task(coro, loop=self.loop, eager_start=True, name=REQUEST_TASK_NAME)
        return start_eager(coro, self.loop, REQUEST_TASK_NAME)

    cpdef tuple forwarded(self, list headers, object client, str scheme):
        """Client address and scheme from X-Forwarded-For/-Proto, when the peer is trusted.

        The client is the nearest address in X-Forwarded-For that is not itself a trusted proxy.
        A UNIX socket's peer (client None) has no address to check: it is trusted only under
        ``--forwarded-allow-ips '*'``, the usual proxy -> UNIX socket set-up."""
        cdef tuple pair
        cdef bytes name
        cdef Py_ssize_t n
        if not (self.trust_all if client is None else self.is_trusted(client[0])):
            return client, scheme
        forwarded_for = None
        proto = None
        for pair in headers:
            name = <bytes>pair[0]
            n = PyBytes_GET_SIZE(name)
            # NOTE: length first: this runs for every request from a trusted proxy.
            if n == 15 and name == b"x-forwarded-for":
                value = pair[1]
                forwarded_for = value if forwarded_for is None else forwarded_for + b"," + value
            elif n == 17 and name == b"x-forwarded-proto":
                proto = pair[1]
        if proto is not None:
            proto = proto.decode("latin-1").strip().lower()
            if proto in ("http", "https", "ws", "wss"):
                scheme = "https" if proto in ("https", "wss") else "http"
        if forwarded_for is not None:
            hops = [h.strip() for h in forwarded_for.decode("latin-1").split(",") if h.strip()]
            if hops:
                if self.trust_all:
                    client = (hops[0], 0)
                else:
                    for host in reversed(hops):
                        if not self.is_trusted(host):
                            client = (host, 0)
                            break
        return client, scheme

    cpdef bint is_trusted(self, str host):
        if self.trust_all or host in self.trusted_hosts:
            return True
        if self.trusted_networks:
            try:
                address = ip_address(host)
            except ValueError:
                return False
            for network in self.trusted_networks:
                if address in network:
                    return True
        return False

    cdef void trust(self, entries):
        """Trust these proxies: "*", IP addresses, CIDR networks, or literal names (UNIX sockets)."""
        hosts = set()
        networks = []
        self.trust_all = False
        for entry in entries:
            entry = entry.strip()
            if entry == "*":
                self.trust_all = True
            elif "/" in entry:
                try:
                    networks.append(ip_network(entry, strict=False))
                except ValueError:
                    hosts.add(entry)
            else:
                hosts.add(entry)
        self.trusted_hosts = frozenset(hosts)
        self.trusted_networks = networks

    cpdef void log_access(self, object client, object head, int status, bint disconnected=False,
                          object encoder=None, double started=0.0):
        """Log one request; ``status`` 0 means no response went out, ``disconnected`` that the
        client left before the response was complete. ``client`` is the socket peer; under
        --proxy-headers the line shows the forwarded client, as the app's scope does.

        ``encoder`` (the response's, for its size and headers) and ``started`` (a perf_counter
        reading, taken only when ``access_timed``) matter only to an --access-log-format."""
        cdef RequestHead h = <RequestHead>head
        if self.settings.proxy_headers:
            client = self.forwarded(h.headers, client, "http")[0]
        client_addr = "%s:%d" % client if client else "unix"
        path = h.raw_path.decode("ascii", "replace")
        if h.query_string:
            path += "?" + h.query_string.decode("ascii", "replace")
        request_line = "%s %s HTTP/%s" % (h.method, path, h.http_version)
        status_code = status_text(status)
        # uvicorn's record attributes, so a --log-config written for uvicorn formats these lines.
        extra = {"client_addr": client_addr, "request_line": request_line,
                 "status_code": status_code}
        if self.access_format is None:
            self.access_logger.info(
                '%s - "%s" %s%s', client_addr, request_line, status_code,
                " (client disconnected)" if disconnected else "", extra=extra,
            )
            return
        duration = perf_counter() - started if started else None
        if encoder is not None:
            sent = encoder.bytes_sent
            response_headers = encoder.headers
        else:
            sent = 0
            response_headers = None
        remote = client[0] if client else "unix"
        self.access_logger.info(
            self.access_format.format,
            self.access_format.render(remote, h, request_line, status, sent, response_headers,
                                      duration),
            extra=extra,
        )
