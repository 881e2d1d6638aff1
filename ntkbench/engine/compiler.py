"""How an ntkbench process compiles: the persistent cache, and the Threefry hash unrolled on CPU.

`configure()` is called once per process by `ntkbench run`, its worker processes and the tests.
Neither setting changes a result: a cached program is the executable the compiler would build,
and the unrolled hash computes the same integers.

Why unroll: JAX lowers the Threefry-2x32 hash (every `jax.random` call: `split`, `fold_in`,
`randint`, `normal`, `permutation`) to a rolled `fori_loop` of 5 iterations on CPU, and to the 20
rounds written out everywhere else. XLA:CPU compiles every fusion of a program as a kernel of its
own, so each rolled hash is a while loop of several small kernels, and a training program draws
keys and minibatches in a dozen places. Written out, the rounds fuse into one elementwise kernel
(the LZA d=8 MLP learning-curve program: 258 fused kernels -> 94). Measured on the quick suite,
cold (empty compile cache), alternating with the commit before (b4eb3aa) twice in one sitting:
compile 104.2 / 106.5 s -> 81.1 / 77.1 s, wall 269.3 / 268.9 s -> 223.8 / 228.0 s (the training
loops, which hash once per step, run faster too), every metric identical (with the learning
curves' data as program inputs, 65b3379); the bits are checked in tests/test_compiler.py.
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
        primitive = getattr(threefry, "threefry2x32_p", None)
        if rule is None or primitive is None:
            return False
        mlir.register_lowering(primitive, rule, platform="cpu")
        _UNROLLED = True
    return _UNROLLED


def configure() -> Path | None:
    """Both settings for this process; returns the compile cache's folder (None: cache off)."""
    unroll_threefry_on_cpu()
    return enable_compile_cache()
