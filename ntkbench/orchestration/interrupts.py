"""Ctrl-C during `ntkbench run`: exit 130 promptly, with every result file whole."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

from ntkbench.orchestration.locks import release_all
from ntkbench.orchestration.one_run import WRITE_LOCK

INTERRUPTED = "interrupted; finished runs are saved, rerun to resume"


class Interrupts:
    """Ctrl-C during `ntkbench run`.

    The first SIGINT raises KeyboardInterrupt in the main thread (`main` prints a note and exits
    130). Python runs that handler only between bytecodes, so while the main thread is inside a
    long native call (an XLA compile) nothing would happen: a watcher thread, woken by the
    signal's wakeup fd the moment it arrives, ends the process with 130 itself if the main thread
    has not exited `grace` seconds later, or at once on a second Ctrl-C. It waits for a result
    file being written (one_run.WRITE_LOCK), so nothing is left half-written.
    """

    GRACE = 3.0  # seconds

    def __init__(self, grace: float | None = None):
        self.grace, self.count = self.GRACE if grace is None else grace, 0
        self._r, self._w = socket.socketpair()
        self._w.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._w.fileno(), warn_on_full_buffer=False)
        self._old_handler = signal.signal(signal.SIGINT, self._handler)
        threading.Thread(target=self._watch, name="ntkbench-interrupts", daemon=True).start()

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def _watch(self) -> None:
        deadline = None
        while True:
            self._r.settimeout(None if deadline is None else max(0.0, deadline - time.monotonic()))
            try:
                data = self._r.recv(64)
            except TimeoutError:
                self.hard_exit()
                return
            except OSError:
                return
            if not data:
                return
            for b in data:
                if b != signal.SIGINT:
                    continue
                self.count += 1
                if self.count >= 2:
                    self.hard_exit()
                    return
                deadline = time.monotonic() + self.grace

    def hard_exit(self) -> None:
        WRITE_LOCK.acquire(timeout=10)
        try:
            release_all()  # the runs' lock files: the kernel drops the locks, the files we remove
            sys.stdout.flush()
        except Exception:
            pass
        os.write(2, f"\n{INTERRUPTED}\n".encode())
        os._exit(130)

    def close(self) -> None:
        signal.signal(signal.SIGINT, self._old_handler)
        signal.set_wakeup_fd(self._old_fd)
        if self.count == 0:
            self._w.close()  # the watcher reads EOF and ends; after a Ctrl-C it stays, to end a hung exit
