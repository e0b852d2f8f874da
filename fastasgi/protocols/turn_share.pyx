# cython: language_level=3
"""A count of work that every connection of a server shares per turn of the event loop.

A bound per connection and turn keeps one connection from holding the loop, but not fifty: fifty
WebSocket connections flooding pings, each handling its own budget of frames, made every turn
fifty budgets long, and a normal client's requests waited that long. Work taken from a TurnShare
is bounded per turn for all connections together; a connection that finds it used up defers
its work to a later turn, behind those that deferred before it.

A turn here runs from one renewal to the next: the first take of a turn schedules the renewal
with ``call_soon``, which runs it in the loop's next iteration, before the callbacks of the
connections that deferred meanwhile. ``turn`` counts the renewals, so that a taker can keep its
own count per turn: a taker's take always schedules the next renewal, so a turn it remembers is
still current only within the iteration it took in.
"""

cimport cython


@cython.final
cdef class TurnShare:

    def __init__(self, loop, Py_ssize_t per_turn):
        self.loop = loop
        self.per_turn = per_turn
        self.left = per_turn
        self.renewal_scheduled = False
        self.turn = 0

    cpdef Py_ssize_t take(self, Py_ssize_t wanted):
        cdef Py_ssize_t granted = min(wanted, self.left)
        self.left -= granted
        if not self.renewal_scheduled:
            self.renewal_scheduled = True
            self.loop.call_soon(self.renew)
        return granted

    cpdef void give_back(self, Py_ssize_t unused):
        self.left = min(self.per_turn, self.left + unused)

    def renew(self):
        self.left = self.per_turn
        self.renewal_scheduled = False
        self.turn += 1
