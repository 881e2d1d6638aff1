"""Reference methods for the `distillation` task, written against the public API.

Contract: `fn(key, train: nb.Split, ipc: int, **params) -> (x_syn, y_syn)`, x_syn (ipc·C, *input
shape), y_syn int labels (ipc·C,) with ipc per class, or soft labels (ipc·C, C). `train` is the
whole (preprocessed) training split; the task evaluates what is returned.

- random   a class-balanced random real subset (the baseline of `gain_over_random`).
- herding  per class, greedy herding in pixel space (Welling 2009, as in iCaRL / DC-BENCH, which
           use a trained network's features instead): the next example keeps the running mean of
           the selected ones closest to the class mean. Over a random pool of `pool` per class
           (None: the whole smallest class' size).
- kcenter  per class, greedy k-center in pixel space (Sener & Savarese 2018) from a random first
           centre; same pool.
- kip      Kernel Inducing Points (Nguyen et al. 2021): support images (and optionally labels,
           `learn_labels`) optimised with Adam so that KRR with the infinite-width NTK (or NNGP) of
           an FC ReLU network (`kernel_depth` hidden layers, from `ntkbench.kernels`) on them fits
           random target batches of `target_batch` training examples (MSE to one-hot labels).
           Initialised from a random class-balanced real subset.
- dm       Distribution Matching (Zhao & Bilen 2023): every iteration samples a freshly initialised
           ConvNet and matches, per class, the mean embedding of a real batch and of the synthetic
           images (SGD on the images, lr 1, momentum 0.5). The paper runs 20 000 iterations with
           real batches of 256 on a GPU; the CPU defaults here (200, 64) are far smaller.
- dc       Dataset Condensation with gradient matching (Zhao et al. 2021): per random ConvNet,
           `outer_loop` times: match per-class gradients of the real and synthetic cross-entropy
           (layer-wise sum of 1 − cosine over output units), one SGD step on the images, then
           `inner_loop` SGD steps of the network on the synthetic set. The paper runs 1000
           iterations with outer/inner loops of 10/50 on a GPU; the CPU defaults (20 × 5 × 1) are
           tiny and slow nonetheless (second-order gradients through a ConvNet).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from ntkbench import api as nb
from ntkbench.data.subsets import class_balanced_indices, class_balanced_subset
from ntkbench.kernels import kernel_fn, krr_fit_predict


def _per_class_pool(key, train: nb.Split, pool):
    """(C, P) training indices, P per class (P = pool, at most the smallest class size)."""
    counts = np.bincount(np.asarray(train.y), minlength=train.num_classes)  # train is concrete data
    P = int(counts.min()) if pool is None else min(int(pool), int(counts.min()))
    idx = class_balanced_indices(key, train.y, P * train.num_classes, train.num_classes)
    return idx.reshape(train.num_classes, P)


def _labels(C, ipc):
    return jnp.repeat(jnp.arange(C, dtype=jnp.int32), ipc)


def _init_real(key, train: nb.Split, ipc):
    return class_balanced_subset(key, train.x, train.y, ipc, train.num_classes)


@nb.method("random", task="distillation", version="1")
def random(key, train: nb.Split, ipc: int):
    """Class-balanced random real subset."""
    return _init_real(key, train, ipc)


def _greedy_select(key, feats, ipc, rule):
    """ipc indices into feats (P, D) chosen by `rule` ("herding" or "kcenter")."""
    P = feats.shape[0]
    mu = feats.mean(0)
    if rule == "herding":

        def step(carry, _):
            acc, taken, t = carry
            d = jnp.sum((mu - (acc + feats) / t) ** 2, -1)
            i = jnp.argmin(jnp.where(taken, jnp.inf, d))
            return (acc + feats[i], taken.at[i].set(True), t + 1.0), i

        _, picks = jax.lax.scan(step, (jnp.zeros_like(mu), jnp.zeros(P, bool), 1.0), None, length=ipc)
        return picks
    first = jax.random.randint(key, (), 0, P)
    dist = lambda i: jnp.sum((feats - feats[i]) ** 2, -1)

    def farthest_step(min_d, _):
        i = jnp.argmax(min_d)
        return jnp.minimum(min_d, dist(i)), i

    _, rest = jax.lax.scan(farthest_step, dist(first), None, length=ipc - 1)
    return jnp.concatenate([first[None], rest])


def _select(key, train, ipc, pool, rule):
    k_pool, k_sel = jax.random.split(key)
    idx = _per_class_pool(k_pool, train, pool)  # (C, P)
    feats = train.x[idx].reshape(*idx.shape, -1)
    keys = jax.random.split(k_sel, train.num_classes)
    picks = jax.vmap(lambda k, f: _greedy_select(k, f, ipc, rule))(keys, feats)  # (C, ipc)
    chosen = jnp.take_along_axis(idx, picks, axis=1).reshape(-1)
    return train.x[chosen], _labels(train.num_classes, ipc)


@nb.method("herding", task="distillation", version="1")
def herding(key, train: nb.Split, ipc: int, *, pool=None):
    """Per-class herding towards the class mean, pixel space."""
    return _select(key, train, ipc, pool, "herding")


@nb.method("kcenter", task="distillation", version="1")
def kcenter(key, train: nb.Split, ipc: int, *, pool=None):
    """Per-class greedy k-center, pixel space, random first centre."""
    return _select(key, train, ipc, pool, "kcenter")


@nb.method("kip", task="distillation", version="1")
def kip(
    key,
    train: nb.Split,
    ipc: int,
    *,
    steps: nb.Steps = 1000,
    lr: nb.PositiveFloat = 0.01,
    target_batch: nb.PositiveInt = 1000,
    learn_labels=False,
    kernel="ntk",
    kernel_depth: nb.NonNegativeInt = 2,
    ridge: nb.NonNegativeFloat = 1e-5,
):
    """Kernel Inducing Points with an FC NTK/NNGP (Adam on images, optionally labels)."""
    C = train.num_classes
    arch = nb.models.mlp(C, (128,) * kernel_depth, parameterization="ntk")
    k = kernel_fn(arch, train.input_shape, kernel)
    k_init, k_train = jax.random.split(key)
    x0, y0 = _init_real(k_init, train, ipc)
    params = {"x": x0, "y": jax.nn.one_hot(y0, C)}

    def loss(p, xt, yt, _key):
        ys = p["y"] if learn_labels else jax.lax.stop_gradient(p["y"])
        pred = krr_fit_predict(k(p["x"], p["x"]), ys, k(xt, p["x"]), ridge=ridge)
        return 0.5 * jnp.sum((pred - jax.nn.one_hot(yt, C)) ** 2, -1).mean()

    params, _ = nb.train_params(
        k_train, loss, params, train, optimizer=optax.adam(lr), steps=steps, batch_size=target_batch
    )
    return params["x"], (params["y"] if learn_labels else y0)


def _convnet(C, input_shape, width, depth):
    arch = nb.models.convnet(C, (width,) * depth, kernel_size=3, pool="avg", norm="instance")
    return lambda rngs: nb.models.Network(arch, input_shape, rngs=rngs)


def _no_data(C):
    """A one-example Split for `nb.train_params` when the loss draws its own batches."""
    return nb.Split(jnp.zeros((1, 1)), jnp.zeros((1,), jnp.int32), C)


@nb.method("dm", task="distillation", version="1")
def dm(
    key,
    train: nb.Split,
    ipc: int,
    *,
    iterations: nb.Steps = 200,
    lr: nb.PositiveFloat = 1.0,
    momentum: nb.NonNegativeFloat = 0.5,
    batch_real: nb.PositiveInt = 64,
    width: nb.PositiveInt = 128,
    depth: nb.NonNegativeInt = 3,
    pool=None,
):
    """Distribution matching with randomly initialised ConvNet embeddings."""
    C = train.num_classes
    model_fn = _convnet(C, train.input_shape, width, depth)
    k_init, k_pool, k_train = jax.random.split(key, 3)
    x0, y0 = _init_real(k_init, train, ipc)
    idx = _per_class_pool(k_pool, train, pool)

    def loss(x_syn, _x, _y, k):
        k_net, k_real = jax.random.split(k)
        graphdef, params = nb.build(model_fn, k_net)
        net = nnx.merge(graphdef, params)
        pick = jax.random.randint(k_real, (C, batch_real), 0, idx.shape[1])
        real = train.x[jnp.take_along_axis(idx, pick, axis=1).reshape(-1)]
        emb_real = jax.lax.stop_gradient(net.features(real)).reshape(C, batch_real, -1).mean(1)
        emb_syn = net.features(x_syn).reshape(C, ipc, -1).mean(1)
        return jnp.sum((emb_real - emb_syn) ** 2)

    x, _ = nb.train_params(
        k_train, loss, x0, _no_data(C), optimizer=optax.sgd(lr, momentum=momentum), steps=iterations, batch_size=1
    )
    return x, y0


def _match_distance(g_real, g_syn):
    """DC's layer-wise distance: Σ over output units of 1 − cos(g_real, g_syn); 1-D leaves skipped."""
    total: float | jax.Array = 0.0
    for a, b in zip(jax.tree.leaves(g_real), jax.tree.leaves(g_syn)):
        if a.ndim < 2:
            continue
        a, b = jnp.moveaxis(a, -1, 0).reshape(a.shape[-1], -1), jnp.moveaxis(b, -1, 0).reshape(b.shape[-1], -1)
        norm = lambda v: jnp.sqrt(jnp.sum(v * v, -1) + 1e-12)  # differentiable at 0 (dead units)
        cos = jnp.sum(a * b, -1) / (norm(a) * norm(b) + 1e-6)
        total = total + jnp.sum(1.0 - cos)
    return total


@nb.method("dc", task="distillation", version="1")
def dc(
    key,
    train: nb.Split,
    ipc: int,
    *,
    iterations: nb.Steps = 20,
    outer_loop: nb.PositiveInt = 5,
    inner_loop: nb.PositiveInt = 1,
    lr_img: nb.PositiveFloat = 0.1,
    lr_net: nb.PositiveFloat = 0.01,
    batch_real: nb.PositiveInt = 64,
    width: nb.PositiveInt = 128,
    depth: nb.NonNegativeInt = 3,
    pool=None,
):
    """Gradient matching (DC) with random ConvNets; slow on a CPU, tiny defaults."""
    C = train.num_classes
    model_fn = _convnet(C, train.input_shape, width, depth)
    graphdef = nb.build(model_fn, jax.random.key(0))[0]
    k_init, k_pool, k_run = jax.random.split(key, 3)
    x0, y0 = _init_real(k_init, train, ipc)
    idx = _per_class_pool(k_pool, train, pool)
    img_opt, net_opt = optax.sgd(lr_img, momentum=0.5), optax.sgd(lr_net)
    ce = lambda p, x, y: optax.softmax_cross_entropy_with_integer_labels(nnx.merge(graphdef, p)(x), y).mean()
    class_grads = jax.vmap(jax.grad(ce), in_axes=(None, 0, 0))  # per-class gradients

    def match_loss(x_syn, p, real):
        y_real = jnp.broadcast_to(jnp.arange(C)[:, None], real.shape[:2])
        g_real = jax.lax.stop_gradient(class_grads(p, real, y_real))
        g_syn = class_grads(p, x_syn.reshape(C, ipc, *x_syn.shape[1:]), y0.reshape(C, ipc))
        return jnp.sum(jax.vmap(_match_distance)(g_real, g_syn))

    def outer(carry, k):
        x, img_state, p, net_state = carry
        pick = jax.random.randint(k, (C, batch_real), 0, idx.shape[1])
        real = train.x[jnp.take_along_axis(idx, pick, axis=1)]  # (C, B, ...)
        g = jax.grad(match_loss)(x, p, real)
        upd, img_state = img_opt.update(g, img_state, x)
        x = optax.apply_updates(x, upd)

        def inner(c, _):
            p, s = c
            u, s = net_opt.update(jax.grad(ce)(p, jax.lax.stop_gradient(x), y0), s, p)
            return (optax.apply_updates(p, u), s), None

        (p, net_state), _ = jax.lax.scan(inner, (p, net_state), None, length=inner_loop)
        return (x, img_state, p, net_state), None

    def iteration(carry, k):
        x, img_state = carry
        k_net, k_loop = jax.random.split(k)
        p = nb.build(model_fn, k_net)[1]
        (x, img_state, _, _), _ = jax.lax.scan(
            outer, (x, img_state, p, net_opt.init(p)), jax.random.split(k_loop, outer_loop)
        )
        return (x, img_state), None

    (x, _), _ = jax.lax.scan(iteration, (x0, img_opt.init(x0)), jax.random.split(k_run, iterations))
    return x, y0
