"""The work-horse's memory cap. A render that runs away must fail as a job – its row says
MemoryError – and never take the worker with it (the kernel's out-of-memory killer, or a C
library aborting when an allocation fails).

Two limits, set in each work-horse by `limit_memory` (grants.worker.GrantsWorker):

- a watchdog on resident memory (WORKER_MEMORY_MB): the running job's heartbeat thread
  (grants.jobs.runner.heartbeat) looks every 0.2 s and, once the cap is passed, interrupts the
  job with MemoryCapExceeded (a MemoryError) through a signal to the main thread. The job
  unwinds as any failing job does: rolled back, its row failed with the reason.
- a hard cap on address space (RLIMIT_AS, the cap plus HEADROOM_MB), for an allocation too
  sudden for the watchdog: Python then raises MemoryError itself.
"""

from __future__ import annotations

import os
import resource
import signal
import threading

HEADROOM_MB = 1024
MB = 1024 * 1024
_cap = {"bytes": 0}


class MemoryCapExceeded(MemoryError):
    """The job used more memory than the work-horse may."""


def _interrupt(signum, frame) -> None:
    raise MemoryCapExceeded(f"the job used more than {_cap['bytes'] // MB} MB of memory "
                            "and was stopped")


def limit_memory(megabytes: int) -> None:
    """Cap this process (a work-horse, in its main thread). 0 leaves it unlimited."""
    if megabytes <= 0:
        return
    _cap["bytes"] = megabytes * MB
    address_space = (megabytes + HEADROOM_MB) * MB
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        address_space = min(address_space, hard)
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    signal.signal(signal.SIGUSR1, _interrupt)


def cap_bytes() -> int:
    return _cap["bytes"]


def resident_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Watchdog:
    """Called from the heartbeat thread: interrupts the main thread once, when the resident
    memory has passed the cap."""

    def __init__(self):
        self.main = threading.main_thread().ident
        self.fired = False

    def check(self) -> None:
        if self.fired or not _cap["bytes"] or self.main is None:
            return
        try:
            over = resident_bytes() > _cap["bytes"]
        except OSError:  # pragma: no cover - not Linux
            return
        if over:
            self.fired = True
            signal.pthread_kill(self.main, signal.SIGUSR1)
