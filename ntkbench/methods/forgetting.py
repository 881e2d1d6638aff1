"""Reference continual learners for the `forgetting` task, written against the public API.

Every network learner is the default MLP 2×256 ReLU (`nb.models.mlp(C, (256, 256))`) trained with
plain SGD (lr 0.01, the Mirzadeh et al. 2020 naive-SGD setting) through `nb.train_params`,
`epochs` passes over each task in batches of `batch_size` (the protocol's budget). Cross-entropy is
masked to `TaskData.logit_mask` (the task's classes under task-il, all classes otherwise).

- sgd        naive fine-tuning.
- ewc        + λ/2 Σ_i A_i (θ_i − θ*_i)², A = Σ_k F_k the diagonal Fishers of the past tasks (labels
             sampled from the model, `fisher_samples` examples, mean of squared per-example
             log-likelihood gradients), θ* the parameters after the LAST task (`anchor="latest"`,
             the default: the Laplace recursion of Huszár 2018, PNAS 115:E2496, which Kirkpatrick et
             al. accept in their reply, = online EWC of Schwarz et al. 2018 with γ = 1).
             `anchor="per-task"` is the literal multi-penalty form of Kirkpatrick et al. 2017,
             Σ_k F_k (θ − θ*_k)²: its minimum is the Fisher-weighted MEAN of the old anchors, not
             θ*_{k}, so at every task start the penalty pulls the network back towards old solutions
             and wipes the most recent tasks (permuted Fashion-MNIST, 8 tasks, λ = 100: tasks 6, 7
             fall from 74/72 to 33/35 % after one more task; forgetting 17.7 vs 4.9 for SGD).
             Kept in O(#params) as A, B = Σ F_k θ*_k (or A θ*), c = Σ F_k θ*_k² (or Σ A θ*²). The
             penalty's gradient step is implicit (proximal): θ ← (θ − lr g + lr λ B)/(1 + lr λ A),
             same fixed points as explicit SGD on the penalty but stable for any lr·λ·A (explicit
             SGD on the penalty diverged at λ = 100 on Fashion-MNIST).
- ogd        Farajtabar et al. 2020 (OGD-GTL): after each task, the gradients of the ground-truth
             logit at `memory_per_task` random training points, orthonormalised against the stored
             basis; every later gradient is projected onto the basis' orthogonal complement. The
             basis grows by `memory_per_task` rows per task (each task's program compiles anew).
- er         experience replay: loss on the batch + loss on a replay batch from a reservoir buffer
             of `buffer_size` examples (reservoir sampling over the stream, applied at task end).
- agem       A-GEM (Chaudhry et al. 2019) with the same reservoir buffer: if g·g_ref < 0,
             g ← g − (g·g_ref / ‖g_ref‖²) g_ref, g_ref the gradient on `ref_batch` buffer examples.
- multitask  joint training on every task seen so far (its own copy of what it was shown):
             at task k, `epochs` passes over the union of tasks 1..k, from the current parameters.
- ntk-krr    Bennani et al. 2020: f_t = f_{t−1} + Θ(·, X_t)(Θ(X_t, X_t) + λI)⁻¹(Y_t − f_{t−1}(X_t)),
             Θ the infinite-width NTK of the default MLP, Y one-hot, X_t a random subsample of
             `points_per_task` training points of task t (λ = ridge · mean diag Θ(X_t, X_t)).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.flatten_util import ravel_pytree

from ntkbench import api as nb
from ntkbench.kernels import kernel_fn, krr_solve

NEG = -1e9


def _masked(logits, mask):
    return jnp.where(mask, logits, NEG)


def _ce(logits, y, mask):
    return optax.softmax_cross_entropy_with_integer_labels(_masked(logits, mask), y)


class _Net:
    """The default MLP as a pure function of its parameters, plus an SGD pass over one task."""

    def __init__(self, info: nb.StreamInfo, width: int, depth: int, lr: float):
        arch = nb.models.mlp(info.num_classes, (width,) * depth)
        self.model_fn = lambda rngs: nb.models.Network(arch, info.input_shape, rngs=rngs)
        self.graphdef, _ = nb.build(self.model_fn, jax.random.key(0))
        self.info, self.opt = info, optax.sgd(lr)

    def init(self, key):
        return nb.build(self.model_fn, key)[1]

    def apply(self, params, x):
        return nnx.merge(self.graphdef, params)(x)

    def network(self, params):
        return nnx.merge(self.graphdef, params)

    def fit(self, key, params, task: nb.TaskData, loss_fn=None, grad_transform=None, x=None, y=None, masks=None):
        """`epochs` passes over (x, y) (default: the task's data) with masked CE + loss_fn(params, key)."""
        x = task.x if x is None else x
        y = task.y if y is None else y
        idx_data = nb.Split(jnp.arange(x.shape[0]), jnp.zeros(x.shape[0], jnp.int32), self.info.num_classes)

        def loss(p, idx, _y, k):
            m = task.logit_mask if masks is None else masks[idx]
            out = _ce(self.apply(p, x[idx]), y[idx], m).mean()
            return out if loss_fn is None else out + loss_fn(p, k)

        params, _ = nb.train_params(
            key,
            loss,
            params,
            idx_data,
            optimizer=self.opt,
            epochs=self.info.epochs,
            batch_size=self.info.batch_size,
            grad_transform=grad_transform,
        )
        return params

    def predict(self, state, x, task_id):
        return self.apply(state["params"], x)


def _learner(net: _Net, init, learn) -> nb.Learner:
    return nb.Learner(init=init, learn=learn, predict=net.predict, network=lambda s: net.network(s["params"]))


@nb.method("sgd", task="forgetting", version="1")
def sgd(info: nb.StreamInfo, *, lr: nb.PositiveFloat = 0.01, width: nb.PositiveInt = 256, depth: nb.NonNegativeInt = 2):
    """Naive fine-tuning with SGD (no protection against forgetting)."""
    net = _Net(info, width, depth, lr)
    return _learner(
        net, lambda key: {"params": net.init(key)}, lambda s, key, task: {"params": net.fit(key, s["params"], task)}
    )


@nb.method("ewc", task="forgetting", version="3")
def ewc(
    info: nb.StreamInfo,
    *,
    lr: nb.PositiveFloat = 0.01,
    ewc_lambda: nb.NonNegativeFloat = 100.0,
    fisher_samples: nb.PositiveInt = 200,
    anchor="latest",
    width: nb.PositiveInt = 256,
    depth: nb.NonNegativeInt = 2,
):
    """Elastic weight consolidation: accumulated diagonal Fisher, anchored at the latest parameters."""
    if anchor not in ("latest", "per-task"):
        raise ValueError(f"ewc: anchor must be 'latest' or 'per-task', got {anchor!r}")
    net = _Net(info, width, depth, lr)

    def init(key):
        p = net.init(key)
        z = jax.tree.map(jnp.zeros_like, p)
        return {"params": p, "A": z, "B": z, "c": jnp.zeros(())}

    def learn(s, key, task):
        k_fit, k_sub, k_lab = jax.random.split(key, 3)

        def proximal(grads, q, _k):
            # SGD on task loss + penalty, the penalty's (diagonal quadratic) part taken implicitly:
            # θ ← (θ − lr g + lr λ B) / (1 + lr λ A). Same objective and fixed points as the explicit
            # step, but stable where lr·λ·ΣF > 2 makes explicit SGD diverge.
            c = lr * ewc_lambda
            return jax.tree.map(
                lambda g, t, a, b: (t - (t - lr * g + c * b) / (1 + c * a)) / lr, grads, q, s["A"], s["B"]
            )

        p = net.fit(k_fit, s["params"], task, grad_transform=proximal)
        idx = jax.random.choice(k_sub, task.n, (min(fisher_samples, task.n),), replace=False)
        logits = _masked(net.apply(p, task.x[idx]), task.logit_mask)
        labels = jax.random.categorical(k_lab, logits)
        grads = jax.vmap(
            jax.grad(lambda q, x, y: -jax.nn.log_softmax(_masked(net.apply(q, x[None]), task.logit_mask))[0, y]),
            (None, 0, 0),
        )(p, task.x[idx], labels)
        fisher = jax.tree.map(lambda g: jnp.mean(g * g, 0), grads)
        A = jax.tree.map(jnp.add, s["A"], fisher)
        if anchor == "latest":  # one quadratic: precision A, centred on θ*_k (its minimum stays at p)
            B = jax.tree.map(jnp.multiply, A, p)
            c = sum(jnp.sum(a * q * q) for a, q in zip(jax.tree.leaves(A), jax.tree.leaves(p)))
        else:  # one quadratic per task, centred on each θ*_j
            B = jax.tree.map(lambda b, f, q: b + f * q, s["B"], fisher, p)
            c = s["c"] + sum(jnp.sum(f * q * q) for f, q in zip(jax.tree.leaves(fisher), jax.tree.leaves(p)))
        return {"params": p, "A": A, "B": B, "c": c}

    return _learner(net, init, learn)


@nb.method("ogd", task="forgetting", version="2")
def ogd(
    info: nb.StreamInfo,
    *,
    lr: nb.PositiveFloat = 0.01,
    memory_per_task: nb.NonNegativeInt = 20,
    width: nb.PositiveInt = 256,
    depth: nb.NonNegativeInt = 2,
):
    """Orthogonal gradient descent (ground-truth-logit gradients of past tasks)."""
    net = _Net(info, width, depth, lr)
    m = memory_per_task

    def init(key):
        p = net.init(key)
        size = ravel_pytree(p)[0].shape[0]
        return {"params": p, "basis": jnp.zeros((0, size))}  # grows by m rows per task

    def learn(s, key, task):
        k_fit, k_sub = jax.random.split(key)
        basis = s["basis"]

        def project(grads, _params, _k):
            g, unravel = ravel_pytree(grads)
            return unravel(g - basis.T @ (basis @ g))

        p = net.fit(k_fit, s["params"], task, grad_transform=project)
        idx = jax.random.choice(k_sub, task.n, (min(m, task.n),), replace=False)
        g = jax.vmap(jax.grad(lambda q, x, y: net.apply(q, x[None])[0, y]), (None, 0, 0))(p, task.x[idx], task.y[idx])
        g = jax.vmap(lambda t: ravel_pytree(t)[0])(g)  # (m, P)
        for _ in range(2):  # "twice is enough" Gram-Schmidt against the stored basis
            g = g - (g @ basis.T) @ basis
        q, _ = jnp.linalg.qr(g.T)  # (P, m) orthonormal columns
        q = q - basis.T @ (basis @ q)
        q = q / jnp.maximum(jnp.linalg.norm(q, axis=0, keepdims=True), 1e-12)
        return {"params": p, "basis": jnp.concatenate([basis, q.T])}

    return _learner(net, init, learn)


def _buffer(info: nb.StreamInfo, size: int):
    return {
        "x": jnp.zeros((size, *info.input_shape)),
        "y": jnp.zeros(size, jnp.int32),
        "mask": jnp.ones((size, info.num_classes), bool),
        "seen": jnp.zeros((), jnp.int32),
    }


def _reservoir_add(buf, key, task: nb.TaskData):
    """Reservoir sampling of the task's examples, in order, into the buffer (last writer wins)."""
    n, size = task.n, buf["y"].shape[0]
    pos = buf["seen"] + jnp.arange(n)
    slot = jnp.where(pos < size, pos, jax.random.randint(key, (n,), 0, pos + 1))
    winner = jax.ops.segment_max(jnp.arange(n), jnp.where(slot < size, slot, size), num_segments=size + 1)[:size]
    has, w = winner >= 0, jnp.clip(winner, 0, n - 1)
    pick = lambda new, old: jnp.where(has.reshape((-1,) + (1,) * (old.ndim - 1)), new, old)
    return {
        "x": pick(task.x[w], buf["x"]),
        "y": pick(task.y[w], buf["y"]),
        "mask": pick(jnp.broadcast_to(task.logit_mask, buf["mask"].shape), buf["mask"]),
        "seen": buf["seen"] + n,
    }


def _replay_batch(net, buf, params, key, size):
    filled = jnp.minimum(buf["seen"], buf["y"].shape[0])
    idx = jax.random.randint(key, (size,), 0, jnp.maximum(filled, 1))
    loss = _ce(net.apply(params, buf["x"][idx]), buf["y"][idx], buf["mask"][idx]).mean()
    return jnp.where(filled > 0, loss, 0.0)


@nb.method("er", task="forgetting", version="1")
def er(
    info: nb.StreamInfo,
    *,
    lr: nb.PositiveFloat = 0.01,
    buffer_size: nb.PositiveInt = 500,
    replay_batch: nb.PositiveInt = 10,
    width: nb.PositiveInt = 256,
    depth: nb.NonNegativeInt = 2,
):
    """Experience replay from a reservoir buffer."""
    net = _Net(info, width, depth, lr)

    def learn(s, key, task):
        k_fit, k_buf = jax.random.split(key)
        replay = lambda p, k: _replay_batch(net, s["buffer"], p, k, replay_batch)
        return {
            "params": net.fit(k_fit, s["params"], task, loss_fn=replay),
            "buffer": _reservoir_add(s["buffer"], k_buf, task),
        }

    return _learner(net, lambda key: {"params": net.init(key), "buffer": _buffer(info, buffer_size)}, learn)


@nb.method("agem", task="forgetting", version="1")
def agem(
    info: nb.StreamInfo,
    *,
    lr: nb.PositiveFloat = 0.01,
    buffer_size: nb.PositiveInt = 500,
    ref_batch: nb.PositiveInt = 64,
    width: nb.PositiveInt = 256,
    depth: nb.NonNegativeInt = 2,
):
    """Averaged gradient episodic memory with a reservoir buffer."""
    net = _Net(info, width, depth, lr)

    def learn(s, key, task):
        k_fit, k_buf = jax.random.split(key)

        def project(grads, params, k):
            g, unravel = ravel_pytree(grads)
            ref = ravel_pytree(jax.grad(lambda p: _replay_batch(net, s["buffer"], p, k, ref_batch))(params))[0]
            dot = g @ ref
            return unravel(jnp.where(dot < 0, g - dot / jnp.maximum(ref @ ref, 1e-12) * ref, g))

        return {
            "params": net.fit(k_fit, s["params"], task, grad_transform=project),
            "buffer": _reservoir_add(s["buffer"], k_buf, task),
        }

    return _learner(net, lambda key: {"params": net.init(key), "buffer": _buffer(info, buffer_size)}, learn)


@nb.method("multitask", task="forgetting", version="1")
def multitask(
    info: nb.StreamInfo, *, lr: nb.PositiveFloat = 0.01, width: nb.PositiveInt = 256, depth: nb.NonNegativeInt = 2
):
    """Joint training on all tasks seen so far (the upper bound); keeps its own copy of them."""
    net = _Net(info, width, depth, lr)

    def init(key):
        return {
            "params": net.init(key),
            "x": jnp.zeros((0, *info.input_shape)),
            "y": jnp.zeros(0, jnp.int32),
            "mask": jnp.zeros((0, info.num_classes), bool),
        }

    def learn(s, key, task):
        x = jnp.concatenate([s["x"], task.x])
        y = jnp.concatenate([s["y"], task.y])
        mask = jnp.concatenate([s["mask"], jnp.broadcast_to(task.logit_mask, (task.n, info.num_classes))])
        return {"params": net.fit(key, s["params"], task, x=x, y=y, masks=mask), "x": x, "y": y, "mask": mask}

    return _learner(net, init, learn)


@functools.lru_cache(maxsize=8)
def _ntk(num_classes, input_shape):
    return kernel_fn(nb.models.mlp(num_classes, (256, 256)), input_shape, "ntk")


@nb.method("ntk-krr", task="forgetting", version="1")
def ntk_krr(info: nb.StreamInfo, *, ridge: nb.NonNegativeFloat = 1e-3, points_per_task: nb.PositiveInt = 500):
    """Infinite-width NTK regression updated task by task (Bennani et al. 2020)."""
    k = _ntk(info.num_classes, tuple(info.input_shape))
    m = min(points_per_task, info.max_train_per_task)

    def init(key):
        return {"x": jnp.zeros((0, *info.input_shape)), "alpha": jnp.zeros((0, info.num_classes))}

    def f(s, x):
        if s["x"].shape[0] == 0:
            return jnp.zeros((x.shape[0], info.num_classes))
        return k(x, s["x"]) @ s["alpha"]

    def learn(s, key, task):
        idx = jax.random.choice(key, task.n, (min(m, task.n),), replace=False)
        x = task.x[idx]
        kxx = k(x, x)
        resid = jax.nn.one_hot(task.y[idx], info.num_classes) - f(s, x)
        alpha = krr_solve(kxx, resid, ridge=ridge, diag_reg="relative")
        return {"x": jnp.concatenate([s["x"], x]), "alpha": jnp.concatenate([s["alpha"], alpha])}

    return nb.Learner(init=init, learn=learn, predict=lambda s, x, task_id: f(s, x))
