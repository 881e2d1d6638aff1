"""How an ntkbench process compiles: the persistent cache, and the Threefry hash unrolled on CPU.

`configure()` is called once per process by `ntkbench run`, its worker processes and the tests.
Neither setting changes a result: a cached program is the executable the compiler would build,
and the unrolled hash computes the same integers.

Why unroll: JAX lowers the Threefry-2x32 hash (every `jax.random` call: `split`, `fold_in`,
`randint`, `normal`, `permutation`) to a rolled `fori_loop` of 5 iterations on CPU, and to the
20 rounds written out everywhere else. XLA:CPU compiles every fusion of a program as a kernel of
its own, so each rolled hash is a while loop of several small kernels, and a training program
draws keys and minibatches in a dozen places. Written out, the rounds fuse into one elementwise
kernel: measured on the quick suite's slices (empty compile cache, `ntkbench run --only`),
backend compile 18.0 s -> 13.3 s for the four forgetting runs, 10.2 s -> 8.5 s for the two
LZA d=8 runs, with bit-identical metrics; the training loops, which hash once per step, run
faster too (tests/test_compiler.py checks the bits).
"""

from __future__ import annotations

from pathlib import Path

from ntkbench.engine.cache import enable_compile_cache

_UNROLLED = False


def unroll_threefry_on_cpu() -> bool:
    """Lower Threefry-2x32 on CPU as on other backends (rounds written out). Returns whether it
    is in effect; a JAX without the (private) lowering rule keeps its own and returns False."""
    global _UNROLLED
    if not _UNROLLED:
        try:
            from jax._src.interpreters import mlir
            from jax._src.random import threefry2x32 as threefry
        except ImportError:
            return False
        rule = getattr(threefry, "_threefry2x32_lowering_rule", None)
        if rule is None:
            return False
        mlir.register_lowering(threefry.threefry2x32_p, rule, platform="cpu")
        _UNROLLED = True
    return _UNROLLED


def configure() -> Path | None:
    """Both settings for this process; returns the compile cache's folder (None: cache off)."""
    unroll_threefry_on_cpu()
    return enable_compile_cache()
