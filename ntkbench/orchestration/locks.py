"""One process at a time per run: two `ntkbench run` on one `--out` never do the same work twice.

A run's lock is `flock` on a dot-file beside its result file, held by the process that hands the
run to an executor until the run has finished (or that process has died: the kernel releases
an flock with its holder, so a killed run leaves no stale lock). The second process skips a run
whose lock is held and says so; its next `ntkbench run` picks the run up if it failed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

HELD: set[RunLock] = set()  # this process's locks, released by a hard exit too (interrupts.py)


def release_all() -> None:
    for lock in list(HELD):
        lock.release()


class RunLock:
    """The lock of the run whose result file is `path`; `acquire()` is False when another
    process holds it."""

    def __init__(self, path: Path):
        self.path = path.with_name(f".{path.stem}.lock")
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            # The holder before us may have removed the file between our open and our lock: then
            # we hold a lock nobody else can see, so take the one at the path instead.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                HELD.add(self)
                return True
            os.close(fd)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # while still held, so no one locks the old file after us
        os.close(self.fd)
        self.fd = None
        HELD.discard(self)
