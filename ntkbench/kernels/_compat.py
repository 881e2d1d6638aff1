"""Compatibility shim: import neural-tangents 0.6.5 (archived) on current JAX without TensorFlow.

neural-tangents 0.6.5 was released against JAX ~0.4.30. On JAX 0.10 and 0.12 (both checked) its
imports fail because
  * `jax.core.{Jaxpr, JaxprEqn, Literal, Var, Primitive}` moved to `jax.extend.core`,
  * `jax.util` (safe_map / safe_zip) was removed,
  * `jax.interpreters.ad.zeros_like_p` was removed (nt only uses it as a dict key when it
    registers structured-derivative rules),
and `import neural_tangents` also imports `neural_tangents.experimental.empirical_tf`, which
imports TensorFlow (slow, and on a GPU machine it grabs accelerator memory).

`import_neural_tangents()` patches exactly those names back in (only where they are missing, so
it is idempotent and harmless on a JAX that still has them), installs a stub for
`neural_tangents.experimental` so TensorFlow is never imported, and then imports
`neural_tangents`. It is the only place in ntkbench that imports neural-tangents.

What works afterwards: `neural_tangents.stax` (infinite-width kernels, init/apply functions) and
the empirical NTK with implementations 1 (Jacobian contraction) and 2 (NTK-vector products).
Implementation 3 (structured derivatives) relies on further JAX internals
(`ad.source_info_util`, `ad.reducing_transposes`, `core.get_aval`, ...) that no longer exist;
it is not patched and `ntkbench.kernels.empirical_ntk` refuses it with a clear error.

JAX 0.12 removed nothing more that the used paths need: the same patches suffice (every
`jax.*` name neural-tangents' stax and empirical modules refer to resolves, except the
implementation-3 ones above). Both versions still warn (DeprecationWarning, "a future JAX release
will make this an error") that neural-tangents calls `jnp.size` on a `jax.ShapeDtypeStruct` and
`linear_util.wrap_init` without a DebugInfo.
"""

from __future__ import annotations

import sys
import types

# The names patched into jax.core, taken from jax.extend.core.
_CORE_NAMES = ("Jaxpr", "JaxprEqn", "Literal", "Var", "Primitive", "ClosedJaxpr")

_nt = None  # the imported neural_tangents module, once imported


def _safe_map(f, *args):
    """map() that insists all arguments have the same length (what jax.util.safe_map did)."""
    args = [list(a) for a in args]
    n = len(args[0])
    for a in args[1:]:
        if len(a) != n:
            raise ValueError(f"safe_map: length mismatch {[len(a) for a in args]}")
    return list(map(f, *args))


def _safe_zip(*args):
    """zip() that insists all arguments have the same length (what jax.util.safe_zip did)."""
    args = [list(a) for a in args]
    n = len(args[0])
    for a in args[1:]:
        if len(a) != n:
            raise ValueError(f"safe_zip: length mismatch {[len(a) for a in args]}")
    return list(zip(*args))


def patch_jax() -> list[str]:
    """Put back the JAX names neural-tangents 0.6.5 imports. Idempotent.

    Returns the list of names patched by this call (empty when everything was already there).
    """
    import jax
    import jax.core
    import jax.extend.core
    import jax.interpreters.ad as ad

    patched = []
    for name in _CORE_NAMES:
        if name not in jax.core.__dict__ and hasattr(jax.extend.core, name):
            setattr(jax.core, name, getattr(jax.extend.core, name))
            patched.append(f"jax.core.{name}")

    if "jax.util" not in sys.modules:
        try:  # a JAX that still has it
            import jax.util  # noqa: F401
        except ImportError:
            util = types.ModuleType("jax.util")
            util.__doc__ = "ntkbench shim for the removed jax.util (safe_map, safe_zip only)."
            util.safe_map = _safe_map
            util.safe_zip = _safe_zip
            sys.modules["jax.util"] = util
            jax.util = util
            patched.append("jax.util")

    if not hasattr(ad, "zeros_like_p"):
        # Only used by neural-tangents as a key in its structured-derivative rule tables
        # (implementation 3). A fresh primitive that nothing ever binds.
        ad.zeros_like_p = jax.extend.core.Primitive("zeros_like")
        patched.append("jax.interpreters.ad.zeros_like_p")
    return patched


def _install_experimental_stub() -> None:
    """Stop `neural_tangents/__init__` from importing its TensorFlow-based experimental module."""
    name = "neural_tangents.experimental"
    if name in sys.modules:
        return
    stub = types.ModuleType(name)
    stub.__doc__ = ("ntkbench stub: neural_tangents.experimental (empirical_tf) needs TensorFlow "
                    "and is deliberately not imported.")
    stub.__path__ = []  # a package, so submodule imports fail cleanly instead of loading TF

    def __getattr__(attr):
        raise AttributeError(
            f"neural_tangents.experimental.{attr} is disabled by ntkbench (it imports TensorFlow)")

    stub.__getattr__ = __getattr__
    sys.modules[name] = stub


def import_neural_tangents():
    """Patch JAX, stub out the TF part, import and return the `neural_tangents` module."""
    global _nt
    if _nt is not None:
        return _nt
    patch_jax()
    _install_experimental_stub()
    import neural_tangents as nt
    import neural_tangents.stax  # noqa: F401

    _nt = nt
    return nt
