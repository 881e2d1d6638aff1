"""Finite networks for the sample-complexity task: the MNIST-1D MLP and CNN (greydanus/mnist1d).

Defaults follow the MNIST-1D reference training: Adam, lr 1e-2, batch 100, 6000 steps; the MLP
has two hidden layers of 100, the CNN three conv layers of 25 channels (kernel 5, stride 2,
SAME padding, so a length-40 signal becomes 5 positions x 25 channels before the readout).
The kernel methods regress centred one-hot labels with the infinite-width NTK / NNGP of exactly
these architectures (the width only names the architecture; the kernel is its infinite limit).
"""

import optax

from ntkbench import api as nb


def mlp_arch(num_classes, *, width, depth):
    return nb.models.mlp(num_classes, (width,) * depth)


def cnn_arch(num_classes, *, channels, depth, kernel_size, stride, readout="flatten"):
    return nb.models.convnet(num_classes, (channels,) * depth, kernel_size=kernel_size, stride=stride, readout=readout)


def _fit(key, train, arch, lr, steps, batch_size):
    model = lambda rngs: nb.models.Network(arch, train.input_shape, rngs=rngs)
    return nb.fit_classifier(key, model, train, optimizer=optax.adam(lr), steps=steps, batch_size=batch_size)


# padded_subsets: these read their data only through nb.fit_classifier(steps=...), so a whole
# learning curve can share one compiled program (see the task's protocol).
@nb.method("mlp", task="sample_complexity", version="1", arch=mlp_arch, padded_subsets=True)
def mlp(
    key,
    train: nb.Split,
    *,
    width: nb.PositiveInt = 100,
    depth: nb.NonNegativeInt = 2,
    lr: nb.PositiveFloat = 1e-2,
    steps: nb.Steps = 6000,
    batch_size: nb.PositiveInt = 100,
):
    """ReLU MLP trained with Adam on cross-entropy."""
    arch = mlp_arch(train.num_classes, width=width, depth=depth)
    return _fit(key, train, arch, lr, steps, batch_size)


@nb.method("cnn", task="sample_complexity", version="1", arch=cnn_arch, padded_subsets=True)
def cnn(
    key,
    train: nb.Split,
    *,
    channels: nb.PositiveInt = 25,
    depth: nb.NonNegativeInt = 3,
    kernel_size: nb.PositiveInt = 5,
    stride: nb.PositiveInt = 2,
    readout="flatten",
    lr: nb.PositiveFloat = 1e-2,
    steps: nb.Steps = 6000,
    batch_size: nb.PositiveInt = 100,
):
    """ReLU ConvNet (1-D or 2-D by input) trained with Adam on cross-entropy."""
    arch = cnn_arch(
        train.num_classes, channels=channels, depth=depth, kernel_size=kernel_size, stride=stride, readout=readout
    )
    return _fit(key, train, arch, lr, steps, batch_size)


# deterministic: the kernel fit depends on the training examples alone (not the key, not their
# order), so the task fits once per distinct subset: at n = the whole training set, once for all seeds.
def _kernel_method(kind, arch_fn):
    def fit(key, train: nb.Split, *, ridge=1e-4, **arch_params):
        arch = arch_fn(train.num_classes, **arch_params)
        return nb.krr_predictor(arch, kind, train.x, train.y, train.num_classes, ridge=ridge)

    return fit


@nb.method("ntk-mlp", task="sample_complexity", version="1", jittable=False, deterministic=True, arch=mlp_arch)
def ntk_mlp(
    key,
    train: nb.Split,
    *,
    width: nb.PositiveInt = 100,
    depth: nb.NonNegativeInt = 2,
    ridge: nb.NonNegativeFloat = 1e-4,
):
    """Kernel regression with the infinite-width NTK of the `mlp` architecture."""
    return _kernel_method("ntk", mlp_arch)(key, train, ridge=ridge, width=width, depth=depth)


@nb.method("nngp-mlp", task="sample_complexity", version="1", jittable=False, deterministic=True, arch=mlp_arch)
def nngp_mlp(
    key,
    train: nb.Split,
    *,
    width: nb.PositiveInt = 100,
    depth: nb.NonNegativeInt = 2,
    ridge: nb.NonNegativeFloat = 1e-4,
):
    """Kernel regression with the infinite-width NNGP of the `mlp` architecture."""
    return _kernel_method("nngp", mlp_arch)(key, train, ridge=ridge, width=width, depth=depth)


@nb.method("ntk-cnn", task="sample_complexity", version="1", jittable=False, deterministic=True, arch=cnn_arch)
def ntk_cnn(
    key,
    train: nb.Split,
    *,
    channels: nb.PositiveInt = 25,
    depth: nb.NonNegativeInt = 3,
    kernel_size: nb.PositiveInt = 5,
    stride: nb.PositiveInt = 2,
    readout="flatten",
    ridge: nb.NonNegativeFloat = 1e-4,
):
    """Kernel regression with the infinite-width NTK of the `cnn` architecture."""
    return _kernel_method("ntk", cnn_arch)(
        key, train, ridge=ridge, channels=channels, depth=depth, readout=readout, kernel_size=kernel_size, stride=stride
    )


@nb.method("nngp-cnn", task="sample_complexity", version="1", jittable=False, deterministic=True, arch=cnn_arch)
def nngp_cnn(
    key,
    train: nb.Split,
    *,
    channels: nb.PositiveInt = 25,
    depth: nb.NonNegativeInt = 3,
    kernel_size: nb.PositiveInt = 5,
    stride: nb.PositiveInt = 2,
    readout="flatten",
    ridge: nb.NonNegativeFloat = 1e-4,
):
    """Kernel regression with the infinite-width NNGP of the `cnn` architecture."""
    return _kernel_method("nngp", cnn_arch)(
        key, train, ridge=ridge, channels=channels, depth=depth, readout=readout, kernel_size=kernel_size, stride=stride
    )
