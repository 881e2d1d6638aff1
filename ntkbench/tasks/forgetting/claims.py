"""Forgetting claims `ntkbench reproduce --claims` tests (`ntkbench.tasks.claims`)."""

from __future__ import annotations

from ntkbench.tasks.claims import Claim

CLAIMS = (
    Claim(
        name="ntk-ranks-forgetting",
        statement=(
            "The NTK-predicted drop ranks which old tasks are forgotten most: Spearman's ρ between "
            "the predicted drop (logit residual) and the measured drop on the old task's test split > 0 "
            "(plain SGD, Split Fashion-MNIST)"
        ),
        task="forgetting",
        dataset="fashion_mnist",
        kind="pairs",
        metric="ntk.pairs: predicted_drop@logits vs measured_drop_test",
        a="sgd",
        x="predicted_drop@logits",
        y="measured_drop_test",
        direction="greater",
    ),
)
