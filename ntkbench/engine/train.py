"""The shared trainer: a whole training run is one `lax.scan`, pure in (key, data).

Methods call `fit_classifier` (or `train_params` for a custom loss) inside their own function;
the harness vmaps the seeds around the method, so one compiled program trains every seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


class NotPaddable(ValueError):
    """A padded `Split` (see `Split.count`) that this training recipe cannot honour exactly."""


@dataclasses.dataclass(frozen=True)
class Split:
    """Training data handed to a method: inputs (n, ...) and integer labels (n,).

    With `count` (a traced integer), only the first `count` rows are data and the rest is padding,
    so one compiled program serves every n of a learning curve; `min_count` (static) is the
    smallest `count` the program will see. Only methods that declare they read their data through
    `train_params` / `fit_classifier` (with `steps=`) are handed a padded split, and those draw
    exactly the minibatches they would draw from the unpadded rows.
    """

    x: jax.Array
    y: jax.Array
    num_classes: int
    count: Any = None
    min_count: int | None = None

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])


@dataclasses.dataclass(frozen=True)
class Record:
    """Opt-in trajectory recording for `train_params` / `fit_classifier`: the network's outputs on
    the fixed probe inputs `x` (m, ...) after each number of updates in `steps` (0 = at
    initialisation), written inside the training `lax.scan` (no host round trip).

    `steps`: strictly increasing ints in [0, total steps] (Python ints: they shape the program).
    `apply(params, x) -> outputs` maps the trained pytree to outputs; `fit_classifier` fills it
    (its network), `train_params` needs it. The recorded array is (len(steps), *apply(params, x).shape).
    Recording changes nothing else: the parameters, losses and minibatches are those of the same
    call without `record=` (tested).
    """

    x: Any
    steps: tuple[int, ...]
    apply: Callable[[Any, jax.Array], jax.Array] | None = None

    def checked_steps(self, total: int) -> tuple[int, ...]:
        steps = tuple(int(s) for s in self.steps)
        if not steps:
            raise ValueError("Record.steps is empty")
        if any(b <= a for a, b in zip(steps, steps[1:])):
            raise ValueError(f"Record.steps must be strictly increasing, got {steps}")
        if steps[0] < 0 or steps[-1] > total:
            raise ValueError(f"Record.steps must lie in [0, {total}] (the training steps), got {steps}")
        return steps


def linearize(apply: Callable[[Any, jax.Array], jax.Array], params0: Any) -> Callable[[Any, jax.Array], jax.Array]:
    """The first-order Taylor expansion of `apply` around `params0`:

        f_lin(params, x) = apply(params0, x) + J(params0, x) (params − params0)

    computed with one `jax.jvp` (no Jacobian is formed). Train it like any network, e.g. with
    `train_params(key, loss(f_lin(p, x), y), params0, ...)`: gradient descent on it is exactly the
    kernel dynamics of the empirical NTK at `params0`.
    """

    def f_lin(params: Any, x: jax.Array) -> jax.Array:
        delta = jax.tree.map(lambda p, p0: p - p0, params, params0)
        out, tangent = jax.jvp(lambda p: apply(p, x), (params0,), (delta,))
        return out + tangent

    return f_lin


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def mse_one_hot(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return 0.5 * jnp.sum((logits - jax.nn.one_hot(labels, logits.shape[-1])) ** 2, -1).mean()


LOSSES = {"cross_entropy": cross_entropy, "mse": mse_one_hot}


def build(model_fn: Callable[[nnx.Rngs], nnx.Module], key: jax.Array) -> tuple[nnx.GraphDef, nnx.State]:
    """Build `model_fn(rngs)` from `key` and split it: (graphdef, params) (traceable).

    `graphdef` is the network's static structure, `params` an `nnx.State` holding its variables
    (for `nb.models` networks, only `nnx.Param` arrays): a pytree, so it can be the state of a
    learner, be differentiated and be handed to an optimizer. Run the network with
    `nnx.merge(graphdef, params)(x)` (`from flax import nnx`); the structure does not depend on
    the key, so `graphdef, _ = build(model_fn, jax.random.key(0))` outside jit is fine. With
    `train_params`, for a custom loss:

        graphdef, params = nb.build(model_fn, k_init)
        def loss_fn(p, x, y, key):
            return optax.softmax_cross_entropy_with_integer_labels(nnx.merge(graphdef, p)(x), y).mean()
        params, losses = nb.train_params(k_train, loss_fn, params, train, optimizer=optax.adam(1e-3),
                                         steps=1000, batch_size=128)
        predictor = nnx.merge(graphdef, params)     # x -> logits; an NNX module, so a pytree
    """
    graphdef, params = nnx.split(model_fn(nnx.Rngs(key)))
    return graphdef, params


def train_params(
    key: jax.Array,
    loss_fn: Callable[[Any, jax.Array, jax.Array, jax.Array], jax.Array],
    params: Any,
    data: Split,
    *,
    optimizer: optax.GradientTransformation,
    steps: int | None = None,
    batch_size: int | None,
    epochs: int | None = None,
    grad_transform: Callable[[Any, Any, jax.Array], Any] | None = None,
    record: Record | None = None,
) -> Any:
    """Minimise `loss_fn(params, x_batch, y_batch, key)` over minibatch steps (one `lax.scan`).

    `params` is any pytree of arrays (e.g. the `params` of `build`); `key` in `loss_fn` is a fresh
    per-step key (for random starts, dropout, augmentation); `data` is an `nb.Split` (wrap other
    arrays as `nb.Split(x, y, num_classes)`).

    With `steps`, minibatches are drawn uniformly with replacement (one `randint` per step), so the
    program does not depend on n dividing the batch size and stays vmappable over seeds and subsets.
    With `epochs` instead, every epoch visits a fresh random permutation of the data in batches of
    `batch_size` (the last incomplete batch is dropped): epochs · ⌊n / batch_size⌋ steps.
    `grad_transform(grads, params, key) -> grads`, if given, is applied to every step's gradient
    before the optimizer (e.g. the projections of OGD or A-GEM).
    `batch_size=None` (with `steps`): full-batch training, every step on all n rows in order
    (gradient descent, no minibatch draw).
    Returns (params, per-step losses); with `record` (an `nb.Record`), (params, per-step losses,
    recorded outputs (len(record.steps), ...)).
    """
    if (steps is None) == (epochs is None):
        raise ValueError("train_params: give exactly one of steps= or epochs=")
    rows = data.n if data.count is None else data.count
    full_batch = batch_size is None
    if full_batch and epochs is not None:
        raise ValueError("train_params: batch_size=None (full batch) needs steps=, not epochs=")
    if data.count is not None:  # padded: the same minibatches as from the first `count` rows alone
        smallest = data.min_count or 1
        if full_batch:
            raise NotPaddable("batch_size=None (full batch) would train on the padding rows")
        assert batch_size is not None  # for mypy: full_batch is False here
        if epochs is not None or min(batch_size, smallest) != min(batch_size, data.n):
            raise NotPaddable(f"batch_size {batch_size} with counts from {smallest} to {data.n} (or epochs=)")
    batch_size = data.n if batch_size is None else min(batch_size, data.n)

    def step(carry: tuple[Any, Any], xs: Any) -> tuple[tuple[Any, Any], jax.Array]:
        params, opt_state = carry
        if full_batch:
            x, y, k_loss = data.x, data.y, xs[1]
        else:
            if epochs is None:
                k_idx, k_loss = xs[0], xs[1]
                idx = jax.random.randint(k_idx, (batch_size,), 0, rows)
            else:
                idx, k_loss = xs
            x, y = data.x[idx], data.y[idx]
        if grad_transform is not None:
            k_loss, k_transform = jax.random.split(k_loss)
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y, k_loss)
        if grad_transform is not None:
            grads = grad_transform(grads, params, k_transform)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    xs: jax.Array | tuple[jax.Array, jax.Array]
    if epochs is None:
        assert steps is not None  # exactly one of steps= / epochs= (checked above)
        xs = jax.random.split(key, (steps, 2))  # all step keys up front: no key splitting in the loop
    else:
        per_epoch = data.n // batch_size
        k_perm, k_steps = jax.random.split(key)
        perms = jax.vmap(lambda k: jax.random.permutation(k, data.n)[: per_epoch * batch_size])(
            jax.random.split(k_perm, epochs)
        )
        xs = (perms.reshape(epochs * per_epoch, batch_size), jax.random.split(k_steps, epochs * per_epoch))
    if record is None:
        (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), xs)
        return params, losses
    return _train_recording(step, params, optimizer.init(params), xs, record)


def _train_recording(
    step: Callable[[tuple[Any, Any], Any], tuple[tuple[Any, Any], jax.Array]],
    params: Any,
    opt_state: Any,
    xs: Any,
    record: Record,
) -> tuple[Any, jax.Array, jax.Array]:
    """The same scan with the recorded outputs carried along: before update i, the outputs of the
    parameters after i updates are written to their slot when i is a recorded step (a `lax.cond`
    whose predicate is a per-step constant, so the probe is evaluated only at the recorded steps,
    vmapped seeds included); the outputs after the last update are written after the scan."""
    if record.apply is None:
        raise ValueError("train_params: record= needs Record.apply (apply(params, x) -> outputs)")
    apply, x_probe = record.apply, record.x
    total = jax.tree.leaves(xs)[0].shape[0]
    steps = record.checked_steps(total)
    slot = np.full((total,), -1, np.int32)
    for j, s in enumerate(steps):
        if s < total:
            slot[s] = j
    out = jax.eval_shape(apply, params, x_probe)
    buffer = jnp.zeros((len(steps), *out.shape), out.dtype)

    def write(buffer: jax.Array, j: jax.Array | int, params: Any) -> jax.Array:
        return jax.lax.dynamic_update_index_in_dim(buffer, apply(params, x_probe).astype(out.dtype), j, 0)

    def recording_step(carry: tuple[Any, jax.Array], step_xs: Any) -> tuple[tuple[Any, jax.Array], jax.Array]:
        state, buffer = carry
        xs_i, j = step_xs
        buffer = jax.lax.cond(j >= 0, lambda b: write(b, j, state[0]), lambda b: b, buffer)
        state, loss = step(state, xs_i)
        return (state, buffer), loss

    ((params, _), buffer), losses = jax.lax.scan(recording_step, ((params, opt_state), buffer), (xs, jnp.asarray(slot)))
    if steps[-1] == total:
        buffer = write(buffer, len(steps) - 1, params)
    return params, losses, buffer


def fit_classifier(
    key: jax.Array,
    model_fn: Callable[[nnx.Rngs], nnx.Module],
    data: Split,
    *,
    optimizer: optax.GradientTransformation,
    steps: int,
    batch_size: int | None,
    loss: str | Callable = "cross_entropy",
    record: Record | None = None,
) -> Any:
    """Initialise `model_fn(rngs)` from `key`, train it, return the predictor x -> logits.

    `model_fn(rngs) -> nnx.Module`, e.g. `lambda rngs: nb.models.Network(arch, train.input_shape,
    rngs=rngs)`; `loss` "cross_entropy", "mse" (to one-hot targets) or `loss(logits, labels) ->
    scalar`. `steps` minibatches drawn with replacement (see `train_params`). The predictor is a
    closure, not a pytree (the adversarial task then runs seeds in turn); for a pytree, or for a
    loss that needs the parameters, use `build` + `train_params`. `batch_size=None`: full-batch
    gradient steps. With `record=nb.Record(x_probe, steps)`, returns (predictor, outputs on
    x_probe after each of `steps` updates, (len(steps), m, C)), recorded inside the same scan.
    """
    k_init, k_train = jax.random.split(key)
    graphdef, params = build(model_fn, k_init)
    loss_of = LOSSES[loss] if isinstance(loss, str) else loss

    def loss_fn(p: Any, x: jax.Array, y: jax.Array, _key: jax.Array) -> jax.Array:
        return loss_of(nnx.merge(graphdef, p)(x), y)

    if record is not None:
        record = dataclasses.replace(record, apply=lambda p, x: nnx.merge(graphdef, p)(x))
        params, _, outputs = train_params(
            k_train, loss_fn, params, data, optimizer=optimizer, steps=steps, batch_size=batch_size, record=record
        )
        return (lambda x: nnx.merge(graphdef, params)(x)), outputs
    params, _ = train_params(k_train, loss_fn, params, data, optimizer=optimizer, steps=steps, batch_size=batch_size)
    return lambda x: nnx.merge(graphdef, params)(x)
