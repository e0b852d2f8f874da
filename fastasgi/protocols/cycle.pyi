"""Types of fastasgi/protocols/cycle.pyx: one HTTP/1.1 request (fields in cycle.pxd)."""

from fastasgi.protocols.connection import Connection

class CycleOwner(Connection):
    """The connection a RequestCycle belongs to; HTTPProtocol is the one implementation."""

class RequestCycle:
    """One request; made only by HTTPProtocol, its receive and send are the app's."""
