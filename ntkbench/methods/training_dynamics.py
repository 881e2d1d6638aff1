"""Reference methods for the training-dynamics task: full-batch gradient descent on the protocol's
MSE loss, outputs recorded inside the training scan (`nb.Record`).

- `mlp-ntk`: a wide ReLU MLP in NTK parameterisation (width 512, two hidden layers): the network
  whose infinite-width limit is the kernel of the predictions.
- `linearised-mlp`: the first-order Taylor expansion of `mlp-ntk` around its initialisation
  (`nb.linearize`): GD on it is exactly the dynamics of the empirical NTK at init.
- `mlp-gd`, `cnn-gd`: the MNIST-1D MLP (two hidden layers of 100) and CNN (three conv layers of 25
  channels, kernel 5, stride 2) of the sample-complexity task's `mlp` and `cnn`, in standard
  parameterisation, trained here by the protocol's full-batch GD instead of Adam (the arch choice
  is repeated here: a plugin sees only the public API).

`centre=True` (every method but the linearised one) trains and reports f_θ − f_θ0, the network
minus its initial function: the same Jacobian, so the same kernel dynamics, but started from f_0 = 0
like the infinite-width mean the predictions use.
"""

import jax
import optax
from flax import nnx

from ntkbench import api as nb


def ntk_mlp_arch(num_outputs, *, width, depth):
    return nb.models.mlp(num_outputs, (width,) * depth, parameterization="ntk")


def mlp_arch(num_outputs, *, width, depth):
    return nb.models.mlp(num_outputs, (width,) * depth)


def cnn_arch(num_outputs, *, channels, depth, kernel_size, stride):
    return nb.models.convnet(num_outputs, (channels,) * depth, kernel_size=kernel_size, stride=stride)


def _gd(key, data: nb.DynamicsData, arch, model):
    """Full-batch GD at the protocol's η on `nb.mse`; the outputs on the probe at the checkpoints.
    What is trained is `model(net, params0)`, a function (params, x) -> outputs built from the
    network `net(params, x)` and its initial parameters: the network itself, centred, or linearised."""
    k_init, k_train = jax.random.split(key)  # as `fit_classifier` splits it: every method of one arch, one init
    graphdef, params0 = nb.build(lambda rngs: nb.models.Network(arch, data.input_shape, rngs=rngs), k_init)
    f = model(lambda p, x: nnx.merge(graphdef, p)(x), params0)
    _, _, outputs = nb.train_params(
        k_train,
        lambda p, x, y, _key: nb.mse(f(p, x), y),
        params0,
        data.split(),
        optimizer=optax.sgd(data.lr),
        steps=data.steps,
        batch_size=None,
        record=data.record(f),
    )
    return outputs


def network(centre: bool):
    """The network as it is (`centre` False), or f_θ(x) − f_θ0(x), the network minus its initial
    function (same Jacobian, so the same NTK dynamics, started from f_0 = 0 like the
    infinite-width mean)."""

    def model(net, params0):
        def f(p, x):
            out = net(p, x)
            return out - net(params0, x) if centre else out

        return f

    return model


@nb.method("mlp-ntk", task="training_dynamics", version="1", arch=ntk_mlp_arch)
def mlp_ntk(key, data: nb.DynamicsData, *, width: nb.PositiveInt = 512, depth: nb.NonNegativeInt = 2, centre=False):
    """Wide ReLU MLP, NTK parameterisation, full-batch GD on MSE."""
    return _gd(key, data, ntk_mlp_arch(data.num_outputs, width=width, depth=depth), network(centre))


@nb.method("linearised-mlp", task="training_dynamics", version="1", arch=ntk_mlp_arch)
def linearised_mlp(key, data: nb.DynamicsData, *, width: nb.PositiveInt = 512, depth: nb.NonNegativeInt = 2):
    """First-order Taylor expansion of `mlp-ntk` around its init, trained by full-batch GD on MSE."""
    return _gd(key, data, ntk_mlp_arch(data.num_outputs, width=width, depth=depth), nb.linearize)


@nb.method("mlp-gd", task="training_dynamics", version="1", arch=mlp_arch)
def mlp_gd(key, data: nb.DynamicsData, *, width: nb.PositiveInt = 100, depth: nb.NonNegativeInt = 2, centre=False):
    """The MNIST-1D MLP (standard parameterisation), full-batch GD on MSE."""
    return _gd(key, data, mlp_arch(data.num_outputs, width=width, depth=depth), network(centre))


@nb.method("cnn-gd", task="training_dynamics", version="1", arch=cnn_arch)
def cnn_gd(
    key,
    data: nb.DynamicsData,
    *,
    channels: nb.PositiveInt = 25,
    depth: nb.NonNegativeInt = 3,
    kernel_size: nb.PositiveInt = 5,
    stride: nb.PositiveInt = 2,
    centre=False,
):
    """The MNIST-1D CNN (standard parameterisation), full-batch GD on MSE."""
    arch = cnn_arch(data.num_outputs, channels=channels, depth=depth, kernel_size=kernel_size, stride=stride)
    return _gd(key, data, arch, network(centre))
