"""Run one pure function of a PRNG key for every seed: vmapped into one program, or in turn.

A vmapped program's seeds are split over the process's devices when there are several
(`jax.sharding`: on a multi-GPU machine, or on CPU with
`XLA_FLAGS=--xla_force_host_platform_device_count=N`).

Compilation is done ahead of time (`lower().compile()`) so compile seconds are measured apart
from run seconds.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Hashable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


@dataclasses.dataclass
class Timing:
    compile_seconds: float = 0.0
    run_seconds: float = 0.0

    def add(self, other: Timing) -> None:
        self.compile_seconds += other.compile_seconds
        self.run_seconds += other.run_seconds


def seed_keys(root_seed: int, num_seeds: int, *tags: int) -> jax.Array:
    """Keys for seeds 0..S-1: fold_in(root, seed) then fold_in each tag; never reused across tags."""
    root = jax.random.key(root_seed)
    keys = []
    for s in range(num_seeds):
        k = jax.random.fold_in(root, s)
        for t in tags:
            k = jax.random.fold_in(k, t)
        keys.append(k)
    return jnp.stack(keys)


def run_seeds(fn: Callable[[jax.Array], Any], keys: jax.Array, *, vmap: bool, jit: bool = True) -> tuple[Any, Timing]:
    """fn(key) for every key; outputs stacked along a leading seed axis. `jit=False` runs fn
    eagerly seed by seed (its compile time is then inside run time)."""
    timing = Timing()
    if not jit:
        t0 = time.perf_counter()
        outs = [jax.block_until_ready(fn(k)) for k in keys]
        timing.run_seconds = time.perf_counter() - t0
        return jax.tree.map(lambda *xs: jnp.stack(xs), *outs), timing
    return SeedPrograms(vmap, timing)("run", fn, (keys,)), timing


class ProgramCache:
    """A keyed cache of compiled programs: `get_or_build(key, build)` returns the program stored
    under `key`, calling `build()` (which compiles it) only the first time. Keys are any hashable
    value; callers namespace them (e.g. a leading name) and include every input that changes the
    program (configuration, argument shapes and dtypes)."""

    def __init__(self) -> None:
        self._programs: dict[Hashable, Any] = {}

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        if key not in self._programs:
            self._programs[key] = build()
        return self._programs[key]

    def __contains__(self, key: object) -> bool:
        return key in self._programs

    def __len__(self) -> int:
        return len(self._programs)

    def clear(self) -> None:
        self._programs.clear()


PROGRAMS = ProgramCache()  # process-wide: programs shared by equal configurations across runs


def _sig(tree: Any) -> str:
    leaves, treedef = jax.tree.flatten(tree)
    return repr((treedef, [(tuple(np.shape(a)), str(getattr(a, "dtype", type(a)))) for a in leaves]))


def seed_shardings(num_seeds: int) -> tuple[NamedSharding, NamedSharding] | None:
    """(seed axis split over the local devices, replicated) shardings when this process has
    several devices and they divide the seeds evenly; else None (everything on one device).
    Each seed's computation is unchanged: only where it runs differs."""
    devices = jax.local_devices()
    if len(devices) < 2 or num_seeds % len(devices):
        return None
    mesh = Mesh(np.array(devices), ("seeds",))
    return NamedSharding(mesh, PartitionSpec("seeds")), NamedSharding(mesh, PartitionSpec())


class SeedPrograms:
    """fn(*per_seed_args, *shared_args) for every seed: one vmapped program, or seeds in turn.
    Compiled ahead of time once per input signature, compile seconds kept apart."""

    def __init__(self, vmap: bool, timing: Timing):
        self.vmap, self.timing, self.cache = vmap, timing, ProgramCache()

    def _compile(
        self, name: str, fn: Callable, args: tuple, in_axes: tuple | None, in_shardings: tuple | None = None
    ) -> Any:
        def build() -> Any:
            t0 = time.perf_counter()
            f = jax.vmap(fn, in_axes=in_axes) if in_axes is not None else fn
            jitted = jax.jit(f) if in_shardings is None else jax.jit(f, in_shardings=in_shardings)
            compiled = jitted.lower(*args).compile()
            self.timing.compile_seconds += time.perf_counter() - t0
            return compiled

        return self.cache.get_or_build((name, _sig(args)), build)

    def __call__(self, name: str, fn: Callable, per_seed: tuple, shared: tuple = ()) -> Any:
        if self.vmap:
            in_axes = (0,) * len(per_seed) + (None,) * len(shared)
            shardings = seed_shardings(jax.tree.leaves(per_seed)[0].shape[0])
            if shardings is None:
                compiled = self._compile(name, fn, (*per_seed, *shared), in_axes)
            else:  # the seeds split over this process's devices, the shared inputs on each
                by_seed, replicated = shardings
                per_seed, shared = jax.device_put(per_seed, by_seed), jax.device_put(shared, replicated)
                in_shardings = (by_seed,) * len(per_seed) + (replicated,) * len(shared)
                compiled = self._compile(name, fn, (*per_seed, *shared), in_axes, in_shardings)
            t0 = time.perf_counter()
            out = jax.block_until_ready(compiled(*per_seed, *shared))
            self.timing.run_seconds += time.perf_counter() - t0
            return out
        seeds = jax.tree.leaves(per_seed)[0].shape[0]
        outs = []
        for s in range(seeds):
            args = (*jax.tree.map(lambda a: a[s], per_seed), *shared)
            compiled = self._compile(name, fn, args, None)
            t0 = time.perf_counter()
            outs.append(jax.block_until_ready(compiled(*args)))
            self.timing.run_seconds += time.perf_counter() - t0
        return jax.tree.map(lambda *xs: jnp.stack(xs), *outs)


def predict_in_chunks(predictor: Callable[[jax.Array], jax.Array], x: jax.Array, chunk: int = 1000) -> jax.Array:
    """predictor over x in chunks of `chunk` rows (bounds activation memory inside the program)."""
    n = x.shape[0]
    if n <= chunk:
        return predictor(x)
    full, rest = divmod(n, chunk)
    head = jax.lax.map(predictor, x[: full * chunk].reshape(full, chunk, *x.shape[1:]))
    head = head.reshape(full * chunk, *head.shape[2:])
    return jnp.concatenate([head, predictor(x[full * chunk :])]) if rest else head
