# cython: language_level=3
"""How many bytes of large response bodies the server writes per turn of the event loop.

A large body costs the loop the time the kernel takes to copy it into the socket's queue: a
third of a millisecond per MiB on a quiet machine, ten times that when the kernel is short of
memory (as it is with 500 clients that each asked for 1 MiB and read nothing: the kernel takes
a few MiB of each socket's body whatever its client reads). Responses that became
ready in one turn used to be written back to back, and every other connection waited for all
of them: a lone small GET waited 3 to 5 s for its answer. Written a budget per turn, in the
order they came, they let the loop poll between turns, so the events of every other connection
wait for at most one budget's copying.

The budget is measured, not fixed: every large write is timed, and a turn's budget is what the
kernel lately accepted in LARGE_WRITE_NS_PER_TURN (0.15 ms), between LARGE_BYTES_PER_TURN_MIN
(the smallest large write) and LARGE_BYTES_PER_TURN. A fixed 1 MiB made the slow kernel's turns
4 to 6 ms long, and kept the small GET's p99 at 10 to 15 times its own; a fixed 64 KiB would cut
every 1 MiB body into sixteen turns on a quiet machine. The
estimate follows a slower kernel at once and a faster one gradually, so that one quick write
does not open the budget to a burst the kernel cannot take as quickly.

One budget covers every write of LARGE_WRITE (the encoder's COPY_LIMIT, 32 KiB) bytes or more,
whatever path it takes:

- HTTP/1.1 body messages (``cycle.pyx``, ``send``), those the encoder hands over uncopied
  behind their framing and the app's own bytes that a Content-Length body's later messages
  are: one larger than a turn's budget is cut into pieces of a budget each, and the next
  piece waits for the transport to take writes again;
- ``http.response.pathsend`` files (``filesend.py``): each ``os.sendfile`` call, which asks
  for at most a piece and gives back what the kernel did not take, and each piece written
  through the transport under TLS;
- HTTP/2 DATA (``h2stream.pyx``, ``send_body``), bodies and files alike: what one call of the
  core may send is cut at a turn's budget and at the flow-control windows;
- WebSocket messages (``websocket.py``, ``send``): each frame whole, since a control frame may
  not go between its pieces, encoded once its turn came.

Every smaller write goes at once. The first write of a turn always goes. A writer over the
budget waits for a later turn, behind those already waiting; one whose task was cancelled
meanwhile is skipped, and one whose client left meanwhile writes nothing and raises
ClientDisconnected.
"""

cimport cython
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from fastasgi._serializer cimport COPY_LIMIT

from collections import deque

# The .pxd's constants, for the Python callers (filesend.py).
BYTES_PER_TURN = LARGE_BYTES_PER_TURN
BYTES_PER_TURN_MIN = LARGE_BYTES_PER_TURN_MIN
WRITE_NS_PER_TURN = LARGE_WRITE_NS_PER_TURN
LARGE_WRITE = COPY_LIMIT


@cython.final
cdef class LargeWriteBudget:

    def __init__(self, loop):
        self.loop = loop
        self.spent = 0
        self.granted = 0
        self.renewal_scheduled = False
        self.waiters = deque()
        self.turn_bytes = LARGE_BYTES_PER_TURN
        self.ns_per_byte = 0.0

    cpdef bint admit(self, Py_ssize_t size):
        # The waiters the last renewal woke write in the next turn, before its renewal, as may
        # the writer admitted here: the two count together.
        cdef Py_ssize_t counted = self.spent + self.granted
        if self.waiters or (counted and counted + size > self.turn_bytes):
            return False
        self.spend(size)
        return True

    cpdef object wait(self, Py_ssize_t size):
        waiter = self.loop.create_future()
        self.waiters.append((waiter, size))
        self.renew_next_turn()
        return waiter

    cpdef void give_back(self, Py_ssize_t size):
        # Another writer of this turn may have them; those already waiting get them with the
        # next renewal. A woken waiter's bytes are still in ``granted``: taken from ``spent``,
        # the budget may count more than was written, never less.
        self.spent = max(0, self.spent - size)

    cpdef void measured(self, Py_ssize_t accepted, long long nanoseconds):
        """A large write took ``nanoseconds`` and the kernel accepted ``accepted`` bytes of it.

        A write into a full socket returns at once having accepted little or nothing: it says
        nothing of the copying, and is not counted."""
        cdef double sample, budget
        if accepted < COPY_LIMIT or nanoseconds <= 0:
            return
        sample = <double>nanoseconds / accepted
        if sample > self.ns_per_byte:
            self.ns_per_byte += (sample - self.ns_per_byte) * 0.5
        else:
            self.ns_per_byte += (sample - self.ns_per_byte) * 0.125
        budget = LARGE_WRITE_NS_PER_TURN / self.ns_per_byte
        if budget >= LARGE_BYTES_PER_TURN:
            self.turn_bytes = LARGE_BYTES_PER_TURN
        elif budget <= LARGE_BYTES_PER_TURN_MIN:
            self.turn_bytes = LARGE_BYTES_PER_TURN_MIN
        else:
            self.turn_bytes = <Py_ssize_t>budget

    cpdef void write_measured(self, object transport, tuple pieces, Py_ssize_t size):
        """``transport.writelines(pieces)``, ``size`` bytes in all, timed: the bytes the
        transport kept in its buffer are those the kernel did not accept."""
        cdef Py_ssize_t buffered = transport.get_write_buffer_size()
        cdef long long started = monotonic_ns()
        transport.writelines(pieces)
        self.measured(size - (transport.get_write_buffer_size() - buffered),
                      monotonic_ns() - started)

    cdef void spend(self, Py_ssize_t size):
        self.spent += size
        self.renew_next_turn()

    cdef void renew_next_turn(self):
        if not self.renewal_scheduled:
            self.renewal_scheduled = True
            self.loop.call_soon(self.renew)

    def renew(self):
        """A new turn: the budget is whole again, less what the writers the last renewal woke
        have written in this turn; the writers waiting longest get a budget for the next.

        A woken waiter's task resumes in the next turn, before the renewal this schedules
        after waking it: that renewal counts the bytes granted here as written in its turn, so
        that writers admitted there at once do not get a whole budget on top of them."""
        cdef Py_ssize_t size
        self.renewal_scheduled = False
        self.spent = self.granted
        self.granted = 0
        waiters = self.waiters
        while waiters:
            waiter, size = waiters[0]
            if waiter.done():  # its task was cancelled
                waiters.popleft()
                continue
            if self.granted and self.granted + size > self.turn_bytes:
                break
            waiters.popleft()
            waiter.set_result(None)
            self.granted += size
        if self.spent or self.granted:
            self.renew_next_turn()


cdef long long monotonic_ns() noexcept nogil:
    cdef timespec now
    clock_gettime(CLOCK_MONOTONIC, &now)
    return <long long>now.tv_sec * 1000000000 + now.tv_nsec
