"""How much CPU the rest of the machine used while a benchmark ran (Linux /proc; None elsewhere).

On a machine shared with other work, a low figure can mean a slow server or a busy neighbour. The
load average cannot tell them apart (it counts the benchmark itself), so each wrk run records the
CPU time the whole machine spent minus what the servers, wrk and this process spent, as a share of
the CPUs available. Kernel time spent on the loopback traffic outside any process's account lands
in that share too, so an otherwise idle machine reads a few percent, not zero.
"""

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = Path("/proc")


def _machine_busy_seconds() -> float | None:
    try:
        first = (_PROC / "stat").read_text().split("\n", 1)[0]
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    fields = [int(v) for v in first.split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
    return busy / _TICK


def _groups_cpu_seconds(pgids: set[int]) -> float:
    """CPU time of the live processes in the given process groups."""
    total = 0
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) in pgids:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def _own_and_children_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once waited for
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class CpuSample:
    wall: float
    machine_busy: float
    ours: float

    @classmethod
    def take(cls, server_pgids: set[int]) -> "CpuSample | None":
        busy = _machine_busy_seconds()
        if busy is None:
            return None
        ours = _groups_cpu_seconds(server_pgids) + _own_and_children_seconds()
        return cls(time.monotonic(), busy, ours)


def others_share(before: CpuSample | None, after: CpuSample | None, cpus: int) -> float | None:
    """Share (0..1) of ``cpus`` CPUs that other processes used between the two samples."""
    if before is None or after is None or after.wall <= before.wall:
        return None
    others = (after.machine_busy - before.machine_busy) - (after.ours - before.ours)
    return max(0.0, others) / ((after.wall - before.wall) * cpus)
