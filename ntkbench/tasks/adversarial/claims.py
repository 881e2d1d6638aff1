"""Adversarial claims `ntkbench reproduce --claims` tests (`ntkbench.tasks.claims`)."""

from __future__ import annotations

from ntkbench.tasks.claims import Claim


def _pgd_at(metric: str, direction: str, what: str) -> Claim:
    return Claim(
        name=f"adversarial-training-{what.split()[0]}-{metric.replace('_', '-')}",
        statement=f"Adversarial training (PGD-AT) {what} than standard training on Fashion-MNIST",
        task="adversarial",
        dataset="fashion_mnist",
        kind="difference",
        metric=metric,
        a="pgd-at",
        b="standard",
        direction=direction,  # type: ignore[arg-type]
    )


# Together: adversarial training trades clean accuracy for robust accuracy.
CLAIMS = (
    _pgd_at("clean_acc", "less", "costs clean accuracy: lower clean accuracy"),
    _pgd_at("robust_acc", "greater", "buys robust accuracy: higher worst-case accuracy"),
    Claim(
        name="ntk-top-eigenfeatures-robust",
        statement=(
            "The NTK's top eigen-features are the robust ones: Spearman's ρ between a feature's "
            "eigenvalue and its robust accuracy > 0 (Fashion-MNIST, Tsilivis & Kempe 2022)"
        ),
        task="adversarial",
        dataset="fashion_mnist",
        kind="pairs",
        metric="ntk.eigen_features.features: eigenvalue vs robustness",
        a="standard",  # the view is the dataset's and the kernel's, the same for every method
        rows="eigen_features.features",
        x="eigenvalue",
        y="robustness",
        direction="greater",
    ),
)
