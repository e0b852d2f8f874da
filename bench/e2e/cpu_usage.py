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


def _process_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, process group, utime + stime in ticks) of every live process."""
    table: dict[int, tuple[int, int, int]] = {}
    if not _PROC.is_dir():
        return table
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12]))
    return table


def server_processes(roots: set[int]) -> set[int]:
    """The live processes of the servers started as ``roots``: their process groups and every
    descendant (a worker that moved to a group of its own is still the server's)."""
    table = _process_table()
    found = {pid for pid, (_, pgid, _) in table.items() if pgid in roots or pid in roots}
    grew = True
    while grew:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in found} - found
        found |= children
        grew = bool(children)
    return found


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (ticks since boot), to tell it from a later one with its pid."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def servers_cpu_seconds(roots: set[int]) -> float:
    """User + system CPU seconds the servers started as ``roots`` have used so far (their live
    processes and threads); a difference of two readings is what they spent in between."""
    table = _process_table()
    return sum(table[pid][2] for pid in server_processes(roots) if pid in table) / _TICK


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
    def take(cls, server_pids: set[int]) -> "CpuSample | None":
        busy = _machine_busy_seconds()
        if busy is None:
            return None
        ours = servers_cpu_seconds(server_pids) + _own_and_children_seconds()
        return cls(time.monotonic(), busy, ours)


def others_share(before: CpuSample | None, after: CpuSample | None, cpus: int) -> float | None:
    """Share (0..1) of ``cpus`` CPUs that other processes used between the two samples."""
    if before is None or after is None or after.wall <= before.wall:
        return None
    others = (after.machine_busy - before.machine_busy) - (after.ours - before.ours)
    return max(0.0, others) / ((after.wall - before.wall) * cpus)
