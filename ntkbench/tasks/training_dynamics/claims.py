"""Training-dynamics claims `ntkbench reproduce --claims` tests (`ntkbench.tasks.claims`).

Steps to a target use each protocol's first (lowest) target, fixed here before looking.
"""

from __future__ import annotations

from ntkbench.tasks.claims import Claim


def _fewer_steps(dataset: str, label: str, target: int) -> Claim:
    return Claim(
        name=f"cnn-fewer-steps-{dataset.replace('_', '-')}",
        statement=f"A CNN reaches {target} % test accuracy in fewer gradient steps than an MLP on {label}",
        task="training_dynamics",
        dataset=dataset,
        kind="difference",
        metric=f"steps_to@{target}",
        a="cnn-gd",
        b="mlp-gd",
        direction="less",
    )


CLAIMS = (
    _fewer_steps("mnist1d", "MNIST-1D", 40),
    _fewer_steps("fashion_mnist", "Fashion-MNIST", 50),
    _fewer_steps("lza-18", "LZA (d = 18)", 60),
    Claim(
        name="low-frequencies-first-fourier1d",
        statement="A network fits low frequencies first: steps to fit frequency k increase with k (Fourier 1-D)",
        task="training_dynamics",
        dataset="fourier1d",
        kind="trend",
        metric="steps_to_fit@k={x}",
        xs=(1, 2, 4, 8),
        a="mlp-ntk",
        direction="greater",
    ),
    Claim(
        name="low-degrees-first-sphere3",
        statement="A network fits low degrees first: steps to fit degree k increase with k (sphere S²)",
        task="training_dynamics",
        dataset="sphere3",
        kind="trend",
        metric="steps_to_fit@k={x}",
        xs=(1, 2, 4, 8),
        a="mlp-gd",
        direction="greater",
    ),
    Claim(
        name="ntk-eigenvalues-order-fitting-fourier1d",
        statement=(
            "Components are fitted in the order the NTK's eigenvalues predict: Spearman's ρ between "
            "measured and NTK-predicted fitting speed per band > 0 (Fourier 1-D)"
        ),
        task="training_dynamics",
        dataset="fourier1d",
        kind="mean",
        metric="spearman_speed",
        a="mlp-ntk",
        direction="greater",
    ),
    Claim(
        name="ntk-eigenvalues-order-fitting-mnist1d",
        statement=(
            "Components are fitted in the order the NTK's eigenvalues predict: Spearman's ρ between "
            "measured and NTK-predicted fitting speed per band > 0 (MNIST-1D, MLP)"
        ),
        task="training_dynamics",
        dataset="mnist1d",
        kind="mean",
        metric="spearman_speed",
        a="mlp-gd",
        direction="greater",
    ),
    Claim(
        name="wider-closer-to-ntk",
        statement="The wider the network, the closer it follows its linearisation: the gap falls with width",
        task="training_dynamics",
        dataset="fourier1d",
        kind="trend",
        metric="linearisation_gap@width={x}",
        xs=(16, 64, 256),
        a="mlp-ntk",
        direction="less",
    ),
)
