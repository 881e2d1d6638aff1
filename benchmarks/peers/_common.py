"""What every peer comparison shares: the machine line, versions, and the one summary line.

Each comparison script (run in `.venv-peers`, torch and ntkbench in one process) ends with one or
more `comparison_line(...)` prints; `run.py` collects the lines that start with PREFIX.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Sequence

PREFIX = "PEER-COMPARISON "


def load_average() -> str:
    """The 1-minute load of the (shared) machine, recorded beside every timing."""
    return f"{os.getloadavg()[0]:.2f}"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {load_average()}"


def versions(*modules: str) -> str:
    import importlib

    out = []
    for name in modules:
        mod = importlib.import_module(name)
        out.append(f"{name} {getattr(mod, '__version__', '?')}")
    return ", ".join(out)


def torch_threads(default: int | None = None) -> int:
    """PyTorch's intra-op threads: PEERS_TORCH_THREADS if set, else `default` (a script's best
    setting for its peer), else as many as XLA:CPU uses (all cores)."""
    import torch

    torch.set_num_threads(int(os.environ.get("PEERS_TORCH_THREADS", default or os.cpu_count() or 1)))
    return torch.get_num_threads()


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.load_before = load_average()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        # wall seconds, and the CPU seconds of this process (all its threads): on a shared machine
        # the CPU seconds say what the work costs, the wall seconds what a user waits
        self.seconds = time.perf_counter() - self.t0
        self.cpu_seconds = time.process_time() - self.c0


def mean_std(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def comparison_line(work: str, peer: str, peer_s: float, ntkbench_s: float, numbers: dict[str, str]) -> str:
    """One line: the work, both times (per seed / per network), peer ÷ ntkbench, numbers side by side."""
    ratio = peer_s / ntkbench_s if ntkbench_s > 0 else float("nan")
    fields = {
        "work": work,
        "peer": peer,
        "peer_s": round(peer_s, 2),
        "ntkbench_s": round(ntkbench_s, 2),
        "ratio": round(ratio, 2),
        "numbers": numbers,
        "load": load_average(),
    }
    line = (
        f"{PREFIX}{work} | {peer} {peer_s:.1f} s | ntkbench {ntkbench_s:.1f} s | ratio {ratio:.2f}x | "
        + "; ".join(f"{k}: {v}" for k, v in numbers.items())
        + f" | load {fields['load']}"
    )
    return line + "\n" + PREFIX + "JSON " + json.dumps(fields, ensure_ascii=False)
