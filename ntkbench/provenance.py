"""Where and how a result was produced (never part of the config hash)."""

from __future__ import annotations

import datetime
import functools
import importlib.metadata as md
import os
import platform
import subprocess
from pathlib import Path

import jax


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def slurm_job() -> dict | None:
    """The Slurm job this process runs in (its id, array task included, and node), else None."""
    env = os.environ
    if "SLURM_JOB_ID" not in env:
        return None
    array = env.get("SLURM_ARRAY_JOB_ID")
    job_id = f"{array}_{env['SLURM_ARRAY_TASK_ID']}" if array else env["SLURM_JOB_ID"]
    return {"job_id": job_id, "node": env.get("SLURMD_NODENAME") or platform.node()}


def provenance(start_time: str, wall_seconds: float, compile_seconds: float, *, devices: bool = True) -> dict:
    """`devices=False`: backend and device None (asking JAX for them would start its backend)."""
    record = {
        "ntkbench_version": _version("ntkbench"),
        "git_commit": git_commit(),
        "versions": {
            d: _version(d)
            for d in ("jax", "jaxlib", "flax", "optax", "neural-tangents", "numpy", "tensorflow-datasets")
        },
        "python": platform.python_version(),
        "platform": platform.platform(),
        "x64": bool(jax.config.values["jax_enable_x64"]),
        "dtype": "float64" if jax.config.values["jax_enable_x64"] else "float32",
        "prng_impl": str(jax.config.values["jax_default_prng_impl"]),
        "start_time": start_time,
        "wall_seconds": round(wall_seconds, 3),
        "compile_seconds": round(compile_seconds, 3),
    }
    record["backend"] = record["device"] = None  # unknown: nothing ran here
    if devices:
        device = jax.devices()[0]
        record["backend"] = jax.default_backend()
        record["device"] = f"{device.platform}:{getattr(device, 'device_kind', '?')} x{jax.device_count()}"
    job = slurm_job()
    if job:
        record["slurm"] = job
    return record
