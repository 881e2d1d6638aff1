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


@functools.lru_cache(maxsize=1)
def _cpu() -> dict[str, object]:
    return cpu_info()


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


# The vector instruction sets XLA:CPU and the BLAS libraries choose their kernels by, widest first:
# the same program can round differently on two CPUs that differ here (a different ISA is the
# usual reason two machines' results are not bit-identical).
ISA_LEVELS = (
    ("avx512", "avx512f"),
    ("avx2", "avx2"),
    ("avx", "avx"),
    ("sse4.2", "sse4_2"),
    ("sve", "sve"),
    ("neon", "asimd"),
)
ISA_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
)


def cpu_info(cpuinfo: str | None = None) -> dict[str, object]:
    """The CPU's model, its widest vector ISA and the flags that change numerics (Linux's
    /proc/cpuinfo; elsewhere the model alone)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    flags = set((fields.get("flags") or fields.get("features") or "").split())
    isa = next((name for name, flag in ISA_LEVELS if flag in flags), None)
    model = fields.get("model name") or fields.get("cpu model") or platform.processor() or platform.machine()
    return {"model": model, "isa": isa, "flags": [f for f in ISA_FLAGS if f in flags]}


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
        "cpu": _cpu(),
        "xla_flags": os.environ.get("XLA_FLAGS") or None,
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
