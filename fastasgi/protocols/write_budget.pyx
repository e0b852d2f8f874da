# cython: language_level=3
"""How many bytes of large response bodies the server writes per turn of the event loop.

A large body costs the loop the time the kernel takes to copy it into the socket's queue, a few
milliseconds per MiB. Responses that became ready in one turn used to be written back to back,
and every other connection waited for all of them: with 500 clients that each asked for 1 MiB
and read nothing, a lone small GET waited 3 to 5 s for its answer. Written at most
LARGE_BYTES_PER_TURN per turn, in the order they came, they let the loop poll between turns,
so the events of every other connection wait for at most one budget's copying.

One budget covers every write of LARGE_WRITE (the encoder's COPY_LIMIT, 32 KiB) bytes or more,
whatever path it takes:

- HTTP/1.1 body messages (``cycle.pyx``, ``send``), each whole: those the encoder hands over
  uncopied behind their framing, and the app's own bytes that a Content-Length body's later
  messages are;
- ``http.response.pathsend`` files (``filesend.py``): each ``os.sendfile`` call, which asks
  for at most one piece and gives back what the kernel did not take, and each piece written
  through the transport under TLS;
- HTTP/2 DATA (``h2stream.pyx``, ``send_body``), bodies and files alike: what one call of the
  core may send is cut at LARGE_BYTES_PER_TURN and at the flow-control windows.

Every smaller write goes at once. The first write of a turn always goes, so a body larger than
the budget is written whole, in a turn of its own. A writer over the budget waits for a later
turn, behind those already waiting; one whose task was cancelled meanwhile is skipped, and one
whose client left meanwhile writes nothing and raises ClientDisconnected.
"""

cimport cython
from fastasgi._serializer cimport COPY_LIMIT

from collections import deque

# The .pxd's constants, for the Python callers (filesend.py).
BYTES_PER_TURN = LARGE_BYTES_PER_TURN
LARGE_WRITE = COPY_LIMIT


@cython.final
cdef class LargeWriteBudget:

    def __init__(self, loop):
        self.loop = loop
        self.spent = 0
        self.granted = 0
        self.renewal_scheduled = False
        self.waiters = deque()

    cpdef bint admit(self, Py_ssize_t size):
        # The waiters the last renewal woke write in the next turn, before its renewal, as may
        # the writer admitted here: the two count together.
        cdef Py_ssize_t counted = self.spent + self.granted
        if self.waiters or (counted and counted + size > LARGE_BYTES_PER_TURN):
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
            if self.granted and self.granted + size > LARGE_BYTES_PER_TURN:
                break
            waiters.popleft()
            waiter.set_result(None)
            self.granted += size
        if self.spent or self.granted:
            self.renew_next_turn()
