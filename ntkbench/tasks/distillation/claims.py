"""Distillation claims `ntkbench reproduce --claims` tests (`ntkbench.tasks.claims`)."""

from __future__ import annotations

from ntkbench.tasks.claims import Claim


def _kip_beats_random(evaluator: str, label: str) -> Claim:
    return Claim(
        name=f"kip-beats-random@{evaluator}",
        statement=f"A set distilled for the NTK (KIP) beats as many random real images under {label}",
        task="distillation",
        dataset="fashion_mnist",
        kind="difference",
        metric=f"test_acc@{evaluator}",
        a="kip",
        b="random",
        direction="greater",
    )


CLAIMS = (
    _kip_beats_random("krr-ntk", "the NTK (kernel regression)"),
    _kip_beats_random("convnet", "a trained ConvNet"),
)
