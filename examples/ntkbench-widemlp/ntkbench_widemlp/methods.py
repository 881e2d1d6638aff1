"""A wide MLP trained with label smoothing: a method for ntkbench's sample_complexity task.

Uses only ntkbench's public API: `nb.method` registers it, `nb.models` builds the network from an
architecture description (so the harness can also compute its infinite-width NTK, via `arch=`),
and `nb.fit_classifier` trains it as one `lax.scan` program.
"""

import jax
import optax

import ntkbench as nb


def arch(num_classes, *, width, depth):
    return nb.models.mlp(num_classes, (width,) * depth)


@nb.method("wide-mlp-ls", task="sample_complexity", version="0.1.0", arch=arch)
def wide_mlp_ls(key, train: nb.Split, *, width=512, depth=2, lr=1e-3, steps=2000, batch_size=100, smoothing=0.1):
    """Wide ReLU MLP, Adam, label-smoothed cross-entropy."""
    model = lambda rngs: nb.models.Network(
        arch(train.num_classes, width=width, depth=depth), train.input_shape, rngs=rngs
    )

    def loss(logits, labels):
        targets = optax.smooth_labels(jax.nn.one_hot(labels, logits.shape[-1]), smoothing)
        return optax.softmax_cross_entropy(logits, targets).mean()

    return nb.fit_classifier(key, model, train, optimizer=optax.adam(lr), steps=steps, batch_size=batch_size, loss=loss)
