"""The unrolled Threefry hash on CPU (ntkbench/engine/compiler.py): the same bits, no loop."""

import os
import pickle
import subprocess
import sys

import numpy as np

from ntkbench.engine import compiler

# Every kind of draw the tasks make, in one program and eagerly, as integers and floats.
DRAWS = """
import jax, jax.numpy as jnp, numpy as np

def draws(key):
    k1, k2 = jax.random.split(jax.random.fold_in(key, 7))
    return (
        jax.random.key_data(jax.random.split(k1, (5, 2))),
        jax.random.randint(k2, (64,), 0, 1000),
        jax.random.normal(k1, (33, 3)),
        jax.random.permutation(k2, 257),
        jax.random.bits(key, (17,), jnp.uint32),
    )

def sample():
    keys = jax.random.split(jax.random.key(3), 4)
    jitted = jax.jit(jax.vmap(draws))(keys)
    eager = draws(jax.random.key(11))
    return [np.asarray(a) for a in (*jitted, *eager)]
"""


SPLIT_PROGRAM = "jax.jit(lambda k: jax.random.split(k, 4)).lower(jax.random.key(0)).compile().as_text()"


def _with_jax_lowering():
    """The draws and the compiled text of a `split` in a fresh process, with JAX's own lowering."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    code = DRAWS + f"\nimport pickle, sys\nsys.stdout.buffer.write(pickle.dumps((sample(), {SPLIT_PROGRAM})))\n"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    return pickle.loads(out.stdout)


def test_unrolled_threefry_draws_the_same_bits_as_jax_rolled_one():
    """JAX's rolled hash compiles to a while loop (kernels of its own per round trip); written out
    (this process: conftest configured it), there is no loop and every draw is the same."""
    assert compiler.unroll_threefry_on_cpu()  # idempotent
    rolled, rolled_split = _with_jax_lowering()
    here: dict = {}
    exec(DRAWS, here)
    unrolled, unrolled_split = here["sample"](), eval(SPLIT_PROGRAM, here)
    assert " while(" in rolled_split and " while(" not in unrolled_split
    assert len(rolled) == len(unrolled) == 10
    for a, b in zip(rolled, unrolled):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
