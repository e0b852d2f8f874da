"""One abusive connection must not stall everyone else: while a connection floods the server
(WebSocket pings it never reads the pongs of, or pipelined requests), another client is still
answered; and what a turn leaves for later is all handled, in order.

The server runs in a process of its own for the flood tests. In a thread of the test process
it would share the GIL with the clients: the flooded server thread runs flat out, and every
blocking call of the client thread waits a switch interval for the GIL back, so the client, not
the server, is what stalls (building an httpx client took 1.6 to 2 s that way on a quiet run,
so a 3 s window could close before the first request was sent). Latency during such floods is
measured by bench/e2e/run_abuse.py; here only that the answers come.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastasgi._h2frames import PREFACE
from tests.protocols.h2.client import events_until, start_client
from tests.support import apps
from tests.support.server import Running, read_response, serve, serve_cli
from tests.support.websocket import RawClient, echo_or_hello, on_loop, wait_for
from tests.support.websocket_frames import PING, TEXT, client_frame

ANSWER_WITHIN = 10.0  # seconds: a hang guard, not a latency bound
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
SERVER_OPTIONS = ("--port", "0", "--lifespan", "off")


@contextmanager
def flooding(sock: socket.socket, piece: bytes, *, read: bool = False) -> Iterator[None]:
    """Send ``piece`` again and again on ``sock`` until the block ends; read and drop what the
    server sends only if ``read``. A full socket is fine: the server may stop reading."""
    stop = threading.Event()

    def send() -> None:
        sock.settimeout(0.2)
        view = memoryview(piece)
        while not stop.is_set():
            try:
                sent = sock.send(view)
            except TimeoutError:
                continue
            except OSError:
                return
            view = view[sent:] or memoryview(piece)  # whole frames and requests only

    def drain() -> None:
        while not stop.is_set():
            try:
                if not sock.recv(1 << 16):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    threads = [threading.Thread(target=send, daemon=True)]
    if read:
        threads.append(threading.Thread(target=drain, daemon=True))
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)


def answered(srv: Running) -> int:
    """The status of one GET on a new connection (TimeoutError if none comes in time)."""
    with srv.connect(timeout=ANSWER_WITHIN) as sock:
        sock.sendall(GET)
        status, _, _ = read_response(sock)
        return status


def test_a_websocket_ping_flood_does_not_stop_other_clients_being_served() -> None:
    with serve_cli("tests.support.websocket:echo_or_hello", *SERVER_OPTIONS) as srv, \
            RawClient.open(srv.port) as flooder, \
            flooding(flooder.sock, client_frame(PING, b"p") * 2000):
        statuses = [answered(srv) for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_a_pipelined_request_flood_does_not_stop_other_clients_being_served() -> None:
    """The flooder reads its responses, so the server keeps serving it as fast as it can."""
    with serve_cli("tests.support.apps:hello", *SERVER_OPTIONS) as srv, \
            srv.connect() as flooder, flooding(flooder, GET * 2000, read=True):
        statuses = [answered(srv) for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_an_http2_window_update_flood_does_not_stop_other_clients_being_served() -> None:
    """WINDOW_UPDATE frames on the connection, 13 octets each, that no flood limit counts: the
    server acts on each, a budget's worth per turn."""
    settings = bytes(9)[:3] + b"\x04" + bytes(5)  # an empty SETTINGS frame
    window_update = b"\x00\x00\x04\x08\x00" + bytes(4) + (1).to_bytes(4, "big")
    with serve_cli("tests.support.apps:hello", *SERVER_OPTIONS) as srv, \
            srv.connect() as flooder:
        flooder.sendall(PREFACE + settings)
        with flooding(flooder, window_update * 5000, read=True):
            statuses = [answered(srv) for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_a_client_that_pipelines_without_reading_does_not_grow_the_write_buffer() -> None:
    """Once the transport pauses our writing, no further pipelined request starts: reading
    stops too, and what waits to be written stays near the transport's high-water mark."""
    with serve(apps.hello) as srv, srv.connect() as flooder, flooding(flooder, GET * 2000):
        def stalled() -> bool:
            return any(c.writing_paused and c.reading_paused for c in srv.server.state.connections)

        def started_and_buffered() -> tuple[int, int]:
            state = srv.server.state
            return state.total_requests, max(
                c.transport.get_write_buffer_size() for c in state.connections)

        wait_for(srv, stalled, timeout=60)
        started, _ = on_loop(srv, started_and_buffered)
        for _ in range(20):  # turns of the loop, in which nothing more may start
            on_loop(srv, lambda: None)
        started_later, buffered = on_loop(srv, started_and_buffered)
    assert started_later == started
    assert buffered < 2 * 65536  # uvloop's default high-water mark is 64 KiB


def test_pipelined_requests_beyond_one_turn_are_all_answered_in_order() -> None:
    """The per-turn budget defers requests, never drops or reorders them."""
    count = 500
    requests = b"".join(b"GET /r%d HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in range(count))
    with serve(apps.path_echo) as srv, srv.connect(timeout=10) as sock:
        sock.sendall(requests)
        buffer = bytearray()
        bodies = [read_response(sock, buffer)[2] for _ in range(count)]
    assert bodies == [b"/r%d?" % n for n in range(count)]


def test_websocket_messages_beyond_one_turn_are_all_delivered_in_order() -> None:
    count = 1000
    frames = b"".join(client_frame(TEXT, b"m%d" % n) for n in range(count))
    with serve(echo_or_hello) as srv, RawClient.open(srv.port) as client:
        client.send(frames)
        echoed = [client.recv_frame().payload for _ in range(count)]
    assert echoed == [b"m%d" % n for n in range(count)]


def test_http2_input_beyond_one_turn_is_all_handled_in_order() -> None:
    """Three full DATA frames and a request on a second stream, sent at once: a turn takes
    about one frame, and the body arrives whole and in order, and the second stream is
    served as well."""
    import h2.events

    body = bytes(range(256)) * 192  # 48 KiB: three frames of 16 KiB
    with serve(apps.echo_body) as srv, srv.connect(timeout=10) as sock:
        client = start_client(sock)
        fields = [(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "t")]
        client.send_headers(1, fields)
        for start in range(0, len(body), 16384):  # the largest frame the server takes
            client.send_data(1, body[start:start + 16384],
                             end_stream=start + 16384 >= len(body))
        client.send_headers(3, fields, end_stream=True)
        sock.sendall(client.data_to_send())
        events = events_until(sock, client, lambda seen: sum(
            isinstance(e, h2.events.StreamEnded) for e in seen) == 2)
    received = {1: b"", 3: b""}
    for event in events:
        if isinstance(event, h2.events.DataReceived):
            received[event.stream_id] += event.data
    first, second = json.loads(received[1]), json.loads(received[3])
    assert (first["size"], first["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert second["size"] == 0
