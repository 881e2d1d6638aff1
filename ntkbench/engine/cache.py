"""A persistent cache of compiled XLA programs, shared by every ntkbench process of a user.

Most of a small run's time is compiling (each task's programs are the same from one run of a
suite to the next), so `ntkbench run` turns on JAX's persistent compilation cache: a program
compiled once is loaded from disk by the next process instead of being compiled again. It lives
in `$NTKBENCH_COMPILE_CACHE` (default `~/.cache/ntkbench/jax-compile-cache`); set it to `0` to
turn the cache off. Every program is stored, however small: a run compiles hundreds of programs
of a few tens of milliseconds each (kernel blocks, eager steps of the NTK views), and loading one
costs less than compiling it (profiled, the two warm MNIST-1D learning-curve runs of the quick
suite compiled 302 such programs again, 11.6 s, when only those over a second were stored).
Results do not depend on it: a cached program is the same executable the compiler would produce.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

ENV = "NTKBENCH_COMPILE_CACHE"


def cache_dir() -> Path | None:
    """The cache folder, or None when `$NTKBENCH_COMPILE_CACHE` is `0` (off)."""
    value = os.environ.get(ENV, "")
    if value.strip().lower() in ("0", "off", "false", "no"):
        return None
    return Path(value).expanduser() if value else Path.home() / ".cache" / "ntkbench" / "jax-compile-cache"


def enable_compile_cache() -> Path | None:
    """Point JAX's persistent compilation cache at `cache_dir()` (once per process; a folder the
    user already configured through JAX's own flag is left alone). Returns the folder in use."""
    configured = jax.config.values.get("jax_compilation_cache_dir")
    if configured:
        return Path(configured)
    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: run without the cache rather than fail
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder


# What the cache did, counted from JAX's monitoring events: programs looked up, found (hits), and
# the compile seconds the hits saved. A run's provenance records the difference over the run.
_USE = {"requests": 0, "hits": 0, "saved_seconds": 0.0}
_EVENTS = {
    "/jax/compilation_cache/compile_requests_use_cache": "requests",
    "/jax/compilation_cache/cache_hits": "hits",
}


def _on_event(event: str, **kwargs: str | int) -> None:
    if event in _EVENTS:
        _USE[_EVENTS[event]] += 1


def _on_duration(event: str, duration_secs: float, **kwargs: str | int) -> None:
    if event == "/jax/compilation_cache/compile_time_saved_sec":
        _USE["saved_seconds"] += duration_secs


jax.monitoring.register_event_listener(_on_event)
jax.monitoring.register_event_duration_secs_listener(_on_duration)


def cache_use() -> dict:
    """The counts so far in this process (subtract two of them for what happened in between)."""
    return dict(_USE)


def cache_use_since(before: dict) -> dict | None:
    """For a result's provenance: the cache's folder and its use since `before` (None: cache off)."""
    folder = jax.config.values.get("jax_compilation_cache_dir")
    if not folder:
        return None
    now = cache_use()
    return {
        "dir": str(folder),
        "requests": now["requests"] - before["requests"],
        "hits": now["hits"] - before["hits"],
        "saved_seconds": round(now["saved_seconds"] - before["saved_seconds"], 3),
    }
