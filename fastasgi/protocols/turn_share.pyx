# cython: language_level=3
"""A count of work that every connection of a server shares per turn of the event loop.

A bound per connection and turn keeps one connection from holding the loop, but not fifty: fifty
WebSocket connections flooding pings, each handling its own budget of frames, made every turn
fifty budgets long, and a normal client's requests waited that long. Each connection asks its
TurnAllowance how much it may do now (its own units for the turn, and no more than the share has
``left``), does it, then says how much it did: all connections together do at most ``per_turn``
per turn, and a connection that finds none left defers its work to a later turn, behind those
that deferred before it.

A turn here runs from one renewal to the next. The spend that brings what was spent since the
last renewal to ``renew_after`` schedules the next with ``call_soon``, which runs it in the
loop's next iteration, before the callbacks of the connections that deferred meanwhile. Until
then no renewal is due: a light load (an echo, a frame per turn) would otherwise pay a callback
per turn. So what is spent over several quiet turns counts against the next busy one, which can
only make it shorter. ``turn`` counts the renewals,
so that a connection can keep its own count per turn: with ``renew_after`` no larger than what a
connection may spend, a connection that has spent all of it has scheduled the next renewal.
"""

cimport cython


@cython.final
cdef class TurnShare:

    def __init__(self, loop, Py_ssize_t per_turn, Py_ssize_t renew_after):
        self.loop = loop
        self.per_turn = per_turn
        self.renew_after = renew_after
        self.left = per_turn
        self.renewal_scheduled = False
        self.turn = 0

    cpdef void spend(self, Py_ssize_t used):
        self.left = max(0, self.left - used)
        if not self.renewal_scheduled and self.per_turn - self.left >= self.renew_after:
            self.renewal_scheduled = True
            self.loop.call_soon(self.renew)

    def renew(self):
        self.left = self.per_turn
        self.renewal_scheduled = False
        self.turn += 1


@cython.final
cdef class TurnAllowance:
    """One connection's part of a TurnShare: at most ``per_turn`` units per turn, and never more
    than the share has left. In Cython, because a connection asks before every batch of work:
    the same few lines in the connection's Python made a WebSocket echo cost 114,169
    instructions per message instead of 109,884 (callgrind)."""

    def __init__(self, TurnShare share not None, Py_ssize_t per_turn):
        self.share = share
        self.per_turn = per_turn
        self.turn = share.turn
        self.left = per_turn

    cpdef Py_ssize_t grant(self):
        if self.turn != self.share.turn:
            self.turn = self.share.turn
            self.left = self.per_turn
        return min(self.left, self.share.left)

    cpdef void used(self, Py_ssize_t n):
        if n:
            self.left -= n
            self.share.spend(n)
