"""One small method for each ntkbench task, written from the documentation only.

Uses nothing but `import ntkbench as nb` (public names), jax, optax and flax.nnx:

- `docs-rf-ridge`     (sample_complexity) random ReLU features + closed-form ridge regression.
- `docs-l2-anchor`    (forgetting)        MLP fine-tuned task by task with an L2 pull towards the
                                          parameters it had after the previous task.
- `docs-class-means`  (distillation)      the synthetic set is per-class means of random groups of
                                          real examples (ipc = 1: the class means).
- `docs-fgsm-mlp`     (adversarial)       MLP trained on a mix of clean and FGSM examples (random
                                          start) of the run's threat model; returns nb.Classifier.
"""

import jax
import jax.numpy as jnp
import optax
from flax import nnx

import ntkbench as nb


def _mlp(num_classes, input_shape, width, depth):
    arch = nb.models.mlp(num_classes, (width,) * depth)
    return lambda rngs: nb.models.Network(arch, input_shape, rngs=rngs)


# --- sample_complexity -------------------------------------------------------------------------


@nb.method("docs-rf-ridge", task="sample_complexity", version="0.1.0")
def rf_ridge(key, train: nb.Split, *, features=1024, ridge=1e-3, scale=1.0):
    """Random ReLU features (Gaussian weights) + ridge regression on one-hot targets."""
    d = 1
    for s in train.input_shape:
        d *= s
    kw, kb = jax.random.split(key)
    w = jax.random.normal(kw, (d, features)) * (scale / jnp.sqrt(d))
    b = jax.random.normal(kb, (features,)) * scale

    def phi(x):
        return jax.nn.relu(x.reshape(x.shape[0], -1) @ w + b) / jnp.sqrt(features)

    f = phi(train.x)
    targets = jax.nn.one_hot(train.y, train.num_classes) - 1.0 / train.num_classes
    gram = f.T @ f
    reg = ridge * jnp.trace(gram) / features  # ridge relative to the mean eigenvalue
    beta = jnp.linalg.solve(gram + reg * jnp.eye(features), f.T @ targets)
    return lambda x: phi(x) @ beta


# --- forgetting --------------------------------------------------------------------------------


@nb.method("docs-l2-anchor", task="forgetting", version="0.1.0")
def l2_anchor(info: nb.StreamInfo, *, width=256, depth=2, lr=0.05, strength=0.01):
    """MLP + SGD per task, with strength/2·‖θ − θ_prev‖² towards the previous task's parameters."""
    model_fn = _mlp(info.num_classes, info.input_shape, width, depth)
    graphdef, _ = nb.build(model_fn, jax.random.key(0))  # structure only; no data is looked at

    def apply(params, x):
        return nnx.merge(graphdef, params)(x)

    def init(key):
        _, params = nb.build(model_fn, key)
        return {"params": params, "anchor": params, "tasks_seen": jnp.zeros((), jnp.float32)}

    def learn(state, key, task: nb.TaskData):
        anchor = state["anchor"]
        weight = strength * jnp.minimum(state["tasks_seen"], 1.0)  # no anchor on the first task

        def loss_fn(params, xb, yb, k):
            logits = jnp.where(task.logit_mask, apply(params, xb), -1e9)
            ce = optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
            sq = sum(jnp.sum((p - a) ** 2) for p, a in zip(jax.tree.leaves(params), jax.tree.leaves(anchor)))
            return ce + 0.5 * weight * sq

        data = nb.Split(task.x, task.y, info.num_classes)
        params, _ = nb.train_params(
            key, loss_fn, state["params"], data, optimizer=optax.sgd(lr), epochs=info.epochs, batch_size=info.batch_size
        )
        return {"params": params, "anchor": params, "tasks_seen": state["tasks_seen"] + 1.0}

    def predict(state, x, task_id):
        return apply(state["params"], x)

    return nb.Learner(
        init=init, learn=learn, predict=predict, network=lambda state: nnx.merge(graphdef, state["params"])
    )


# --- distillation ------------------------------------------------------------------------------


@nb.method("docs-class-means", task="distillation", version="0.1.0")
def class_means(key, train: nb.Split, ipc: int):
    """Per class, the means of ipc random groups of its examples (ipc = 1: the class mean)."""
    n, c = train.x.shape[0], train.num_classes
    flat = train.x.reshape(n, -1)
    group = jax.random.randint(key, (n,), 0, ipc)
    slot = train.y * ipc + group  # (n,) in [0, ipc·C), class-major
    sums = jax.ops.segment_sum(flat, slot, num_segments=ipc * c)
    counts = jax.ops.segment_sum(jnp.ones((n,)), slot, num_segments=ipc * c)
    cls_sums = jax.ops.segment_sum(flat, train.y, num_segments=c)
    cls_counts = jax.ops.segment_sum(jnp.ones((n,)), train.y, num_segments=c)
    fallback = jnp.repeat(cls_sums / jnp.maximum(cls_counts, 1.0)[:, None], ipc, axis=0)
    means = jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1.0)[:, None], fallback)
    x_syn = means.reshape((ipc * c,) + tuple(train.input_shape)).astype(train.x.dtype)
    y_syn = jnp.repeat(jnp.arange(c, dtype=jnp.int32), ipc)
    return x_syn, y_syn


# --- adversarial -------------------------------------------------------------------------------


@nb.method("docs-fgsm-mlp", task="adversarial", version="0.1.0")
def fgsm_mlp(
    key,
    train: nb.Split,
    threat: nb.ThreatModel,
    *,
    width=128,
    depth=2,
    lr=1e-3,
    steps=400,
    batch_size=64,
    adv_weight=0.5,
    step_scale=1.25,
):
    """ReLU MLP, Adam; loss = (1−w)·CE(clean) + w·CE(FGSM from a random start in the threat model)."""
    model_fn = _mlp(train.num_classes, train.input_shape, width, depth)
    k_init, k_train = jax.random.split(key)
    graphdef, params0 = nb.build(model_fn, k_init)

    def ce(params, x, y):
        logits = nnx.merge(graphdef, params)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def loss_fn(params, xb, yb, k):
        fixed = jax.lax.stop_gradient(params)
        x0 = threat.random_in_ball(k, xb)
        g = jax.grad(lambda z: ce(fixed, z, yb))(x0)
        x_adv = threat.project(x0 + step_scale * threat.eps * threat.steepest_direction(g), xb)
        x_adv = jax.lax.stop_gradient(x_adv)
        return (1.0 - adv_weight) * ce(params, xb, yb) + adv_weight * ce(params, x_adv, yb)

    params, _ = nb.train_params(
        k_train, loss_fn, params0, train, optimizer=optax.adam(lr), steps=steps, batch_size=batch_size
    )
    return nb.Classifier(nnx.merge(graphdef, params), init=nnx.merge(graphdef, params0))
