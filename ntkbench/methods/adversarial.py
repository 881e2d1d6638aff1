"""Reference methods for the `adversarial` task, written against the public API.

Contract (`ntkbench.tasks.adversarial.contract`): `fn(key, train, threat, *, **params) -> predictor`;
`threat` is the run's `ThreatModel` (norm, eps, box), passed by the harness, never a parameter.

Finite methods (`cnn_method`): one small CNN and its training, `CNNTraining`, whose fields are the
parameters all four share: `nb.models.convnet(C, widths=(32, 64), kernel_size=3, stride=2,
dense=(128,))` (ReLU, SAME padding, standard parameterisation; 2-D or 1-D convolutions by input
shape), Adam (lr 1e-3), `steps` minibatch steps of `batch_size` 128 through `nb.train_params`,
returned as `Classifier(model, init)` (the network at init feeds the kernel-distance view). Each
method adds only its loss and that loss's own parameters. Training attacks stay in the threat
model's eps-ball ∩ box (`ThreatModel.project`), use sign-gradient (L∞) or normalised-gradient (L2)
steps, and are not differentiated through.

- standard  cross-entropy on clean inputs.
- fgsm-at   fast adversarial training (Wong, Rice & Kolter 2020): δ uniform in the ball, one
            step of `attack_step_size` (default 1.25·eps), projected; CE on x + δ.
- pgd-at    Madry et al. 2018: CE on the final iterate of `attack_steps` (default 7) PGD steps of
            `attack_step_size` (default 2.5·eps/attack_steps) on the CE, from a uniform random start.
- trades    Zhang et al. 2019: CE(f(x), y) + β·KL(p(x) ‖ p(x′)), β = 6, x′ from `attack_steps`
            (default 7) steps maximising the KL from x + 0.001·N(0, I).
- ntk-krr   kernel regression with the infinite-width NTK of a 2-hidden-layer ReLU MLP (NTK
            parameterisation, `ntkbench.kernels.kernel_fn`) on `n_train` random training points
            (default 1000), targets one-hot − 1/C, ridge `ridge`·mean diag Θ. Logits
            Θ(x, X) α are differentiable in x: the attacks go through the kernel. Ignores the threat.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax import lax
from jax.tree_util import Partial

from ntkbench import api as nb
from ntkbench.kernels import kernel_fn, krr_solve
from ntkbench.tasks.adversarial.contract import Classifier


@dataclasses.dataclass(frozen=True)
class CNNTraining:
    """The parameters every finite method shares, with their defaults: the CNN and its training.

    A field's type reaches the methods' signatures only where it is a typed parameter (`nb.Steps`,
    ...: `_CNN_TYPES`); elsewhere its default's type is what the registry checks overrides against
    (a list for `widths` is accepted, as for any tuple default)."""

    widths: tuple = (32, 64)
    kernel_size: nb.PositiveInt = 3
    stride: nb.PositiveInt = 2
    dense: tuple = (128,)
    pool: str | None = None
    lr: nb.PositiveFloat = 1e-3
    steps: nb.Steps = 2000
    batch_size: nb.PositiveInt = 128

    def fit(self, key, train: nb.Split, loss) -> Classifier:
        """Train the CNN on loss(apply, x, y, key) and return Classifier(trained, init)."""
        arch = nb.models.convnet(
            train.num_classes,
            self.widths,
            kernel_size=self.kernel_size,
            stride=self.stride,
            dense=self.dense,
            pool=self.pool,
        )
        k_init, k_train = jax.random.split(key)
        graphdef, params0 = nb.build(lambda rngs: nb.models.Network(arch, train.input_shape, rngs=rngs), k_init)

        def loss_fn(p, x, y, k):
            return loss(lambda z: nnx.merge(graphdef, p)(z), x, y, k)

        params, _ = nb.train_params(
            k_train,
            loss_fn,
            params0,
            train,
            optimizer=optax.adam(self.lr),
            steps=self.steps,
            batch_size=self.batch_size,
        )
        return Classifier(nnx.merge(graphdef, params), nnx.merge(graphdef, params0))


def cnn_method(name: str, *, version: str):
    """Register `make_loss(threat, *, <its params>) -> loss(apply, x, y, key)` as the adversarial
    method `name`, `fn(key, train, threat, *, <CNNTraining fields>, <its params>) -> Classifier`.

    The registry reads a method's parameters from its signature; the one built here lists
    CNNTraining's fields first, then make_loss's keyword-only parameters, so the shared defaults
    are written once. Name, docstring and module are make_loss's (the method's description and
    origin)."""
    shared = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default) for f in _CNN_FIELDS]

    def register(make_loss):
        own = [p for p in inspect.signature(make_loss).parameters.values() if p.kind is p.KEYWORD_ONLY]

        @functools.wraps(make_loss)
        def train_cnn(key, train, threat, **params):
            cnn = CNNTraining(**{f.name: params.pop(f.name) for f in _CNN_FIELDS if f.name in params})
            return cnn.fit(key, train, make_loss(threat, **params))

        positional = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("key", "train", "threat")]
        train_cnn.__signature__ = inspect.Signature(positional + shared + own)  # type: ignore[attr-defined]
        train_cnn.__annotations__ = {**_CNN_TYPES, **inspect.get_annotations(make_loss, eval_str=True)}
        return nb.method(name, task="adversarial", version=version)(train_cnn)

    return register


_CNN_FIELDS = dataclasses.fields(CNNTraining)
# the typed fields' annotations (Annotated[...]), which the registry checks overrides against
_CNN_TYPES = {
    name: hint
    for name, hint in typing.get_type_hints(CNNTraining, include_extras=True).items()
    if typing.get_origin(hint) is typing.Annotated
}


def _ce(logits, y):
    return optax.softmax_cross_entropy_with_integer_labels(logits, y)


def _attack(objective, x, threat, x0, steps, step_size):
    """`steps` ascent steps on sum(objective(x')) from x0, projected onto the ball around x ∩ box."""

    def body(_, xa):
        g = jax.grad(lambda z: jnp.sum(objective(z)))(xa)
        return threat.project(xa + step_size * threat.steepest_direction(g), x)

    return lax.stop_gradient(lax.fori_loop(0, steps, body, x0))


def _pgd_step_size(threat, attack_steps, attack_step_size):
    return 2.5 * threat.eps / attack_steps if attack_step_size is None else attack_step_size


@cnn_method("standard", version="1")
def standard(threat):
    """Small CNN, cross-entropy on clean inputs (ignores the threat model)."""
    return lambda f, x, y, k: _ce(f(x), y).mean()


@cnn_method("fgsm-at", version="1")
def fgsm_at(threat, *, attack_step_size=None):
    """Fast adversarial training: FGSM from a uniform random start (Wong et al. 2020)."""
    alpha = 1.25 * threat.eps if attack_step_size is None else attack_step_size

    def loss(f, x, y, k):
        x_adv = _attack(lambda z: _ce(f(z), y), x, threat, threat.random_in_ball(k, x), 1, alpha)
        return _ce(f(x_adv), y).mean()

    return loss


@cnn_method("pgd-at", version="1")
def pgd_at(threat, *, attack_steps: nb.Steps = 7, attack_step_size=None):
    """PGD adversarial training (Madry et al. 2018): CE on PGD examples from a random start."""
    alpha = _pgd_step_size(threat, attack_steps, attack_step_size)

    def loss(f, x, y, k):
        x_adv = _attack(lambda z: _ce(f(z), y), x, threat, threat.random_in_ball(k, x), attack_steps, alpha)
        return _ce(f(x_adv), y).mean()

    return loss


def _kl(p_logits, q_logits):
    """KL(softmax p ‖ softmax q) per point."""
    lp, lq = jax.nn.log_softmax(p_logits), jax.nn.log_softmax(q_logits)
    return jnp.sum(jnp.exp(lp) * (lp - lq), axis=-1)


@cnn_method("trades", version="1")
def trades(threat, *, beta: nb.NonNegativeFloat = 6.0, attack_steps: nb.Steps = 7, attack_step_size=None):
    """TRADES (Zhang et al. 2019): CE + β·KL(p(x) ‖ p(x')), x' maximising the KL."""
    alpha = _pgd_step_size(threat, attack_steps, attack_step_size)

    def loss(f, x, y, k):
        clean = f(x)
        target = lax.stop_gradient(clean)
        x0 = threat.project(x + 0.001 * jax.random.normal(k, x.shape, x.dtype), x)
        x_adv = _attack(lambda z: _kl(target, f(z)), x, threat, x0, attack_steps, alpha)
        return (_ce(clean, y) + beta * _kl(clean, f(x_adv))).mean()

    return loss


@functools.lru_cache(maxsize=8)
def _krr_logits(depth: int, input_shape: tuple):
    """(X, alpha, x) -> Θ(x, X) alpha; one function per kernel, so seeds share compiled attacks."""
    k = kernel_fn(nb.models.mlp(2, (512,) * depth, parameterization="ntk"), input_shape)

    def logits(X, alpha, x):
        return k(x, X) @ alpha

    return logits, k


@nb.method("ntk-krr", task="adversarial", version="1")
def ntk_krr(
    key,
    train: nb.Split,
    threat,
    *,
    n_train: nb.PositiveInt = 1000,
    depth: nb.NonNegativeInt = 2,
    ridge: nb.NonNegativeFloat = 1e-3,
):
    """Kernel ridge regression with the infinite-width MLP NTK on n_train training points."""
    logits, k = _krr_logits(int(depth), tuple(train.input_shape))
    n = min(int(n_train), train.n)
    idx = jax.random.permutation(key, train.n)[:n]
    X = train.x[idx]
    Y = jax.nn.one_hot(train.y[idx], train.num_classes) - 1.0 / train.num_classes
    K = k(X, X)
    alpha = krr_solve(K, Y, ridge=ridge, diag_reg="relative")
    return Partial(logits, X, alpha)
