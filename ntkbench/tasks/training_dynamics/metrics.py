"""The task's metric specs (the computations are in `spectral.py`; the task assembles them)."""

from __future__ import annotations

from ntkbench.tasks.base import MetricSpec

METRICS = (
    # spectral bias, every dataset (needs the method's arch= hook for the kernel)
    # Not the headline: it is 1.00 for every method on most datasets (the NTK's eigenvalue order is
    # the order in which every network fits), so it ties rather than ranks; a column of the tables.
    MetricSpec(
        "spearman_speed",
        description="Spearman rank correlation between a band's NTK eigenvalue (geometric mean) and its measured"
        " decay speed 1/τ over the top `bands` log-spaced bands (a band not decayed by the last step: speed 0)",
    ),
    MetricSpec(
        "tau_ratio_median",
        higher_is_better=None,
        description="median over the top bands of measured ÷ NTK-predicted decay time (1: the linearised"
        " dynamics of the infinite-width NTK; > 1 slower)",
    ),
    MetricSpec(
        "tau_ratio@band=<b>",
        higher_is_better=None,
        description="measured ÷ predicted decay time of band b (eigen-indices 2^b − 1 ... 2^(b+1) − 2)",
    ),
    MetricSpec(
        "tau@band=<b>",
        unit="steps",
        higher_is_better=None,
        missing="> steps",
        description="measured step at which the training residual inside band b falls to 1/e of its start",
    ),
    MetricSpec(
        "ntk_tau@band=<b>",
        unit="steps",
        higher_is_better=None,
        missing="never",
        description="the same time for the linearised GD with the infinite-width NTK, from the measured r_0",
    ),
    # the same scores against each seed's empirical NTK at initialisation (budget `empirical_ntk`)
    MetricSpec(
        "entk_spearman_speed",
        description="spearman_speed with the eigenvalues and bands of each seed's empirical NTK at initialisation",
    ),
    MetricSpec(
        "entk_tau_ratio_median",
        higher_is_better=None,
        description="median over the top bands of measured ÷ predicted decay time, both in the eigenbasis of the"
        " seed's empirical NTK at init (1: the network moved as its own linearisation)",
    ),
    MetricSpec(
        "entk_tau_ratio@band=<b>",
        higher_is_better=None,
        description="measured ÷ predicted decay time of band b of the seed's empirical NTK at init",
    ),
    MetricSpec(
        "entk_tau@band=<b>",
        unit="steps",
        higher_is_better=None,
        missing="> steps",
        description="measured step at which the training residual inside band b of the seed's empirical NTK at"
        " init falls to 1/e of its start",
    ),
    MetricSpec(
        "entk_pred_tau@band=<b>",
        unit="steps",
        higher_is_better=None,
        missing="never",
        description="the same time for the linearised GD with the seed's empirical NTK at init, from the measured r_0",
    ),
    MetricSpec(
        "linearisation_gap@width=<w>",
        higher_is_better=False,
        description="‖f_T − f_T^lin‖ / ‖f_T^lin‖ on the probe after T = `gap_steps` of the protocol's GD, for the"
        " method's architecture at hidden width w and its first-order Taylor expansion around the same init",
        seeds_field="gap_seeds",  # measured for the first `gap_seeds` seeds
    ),
    # computational complexity, classification datasets
    MetricSpec("test_acc@final", unit="%", description="test accuracy (argmax of the outputs) after `steps`"),
    # The headline where the data are classes: how fast a method gets there (the highest target most
    # runs have, see leaderboard.tables.headline_name); steps_to_fit on the controlled datasets.
    MetricSpec(
        "steps_to@<target>",
        unit="steps",
        higher_is_better=False,
        headline=True,
        missing="> steps",
        description="first step whose test accuracy reaches the target (log-step interpolation)",
    ),
    MetricSpec(
        "ntk_steps_to@<target>",
        unit="steps",
        higher_is_better=None,
        missing="> steps",
        description="the same for the infinite-width NTK's GD dynamics (mean prediction, f_0 = 0)",
        per_run=True,  # the infinite-width mean does not depend on the seed
    ),
    MetricSpec(
        "ntk_from_init_steps_to@<target>",
        unit="steps",
        higher_is_better=None,
        missing="> steps",
        description="the same for the linearised dynamics of the infinite-width NTK started from the seed's own"
        " initial outputs f_0 (train and test), so the initial function's noise is in the prediction too",
    ),
    MetricSpec(
        "flops_per_step",
        unit="FLOPs",
        higher_is_better=None,
        description="XLA's cost analysis of one full-batch GD step (forward, backward, update) of the method's"
        " architecture on the n training examples",
        per_run=True,
    ),
    MetricSpec(
        "flops_to@<target>",
        unit="FLOPs",
        higher_is_better=False,
        missing="> steps",
        description="steps_to@<target> × flops_per_step",
    ),
    # the controlled datasets (fourier1d, sphere3): the truth is known mode by mode
    MetricSpec(
        "steps_to_fit@k=<k>",
        unit="steps",
        higher_is_better=False,
        headline=True,
        missing="> steps",
        description="first step at which the training residual's amplitude in mode k of the target is below"
        " fit_threshold × the mode's amplitude in the target (fourier1d: frequency k, a quadrature over the training"
        " angles, the DFT coefficient on a regular grid; sphere3: spherical-harmonic degree k, the least-squares"
        " coefficient on the target's degree-k component)",
    ),
    MetricSpec(
        "ntk_steps_to_fit@k=<k>",
        unit="steps",
        higher_is_better=None,
        missing="> steps",
        description="the same for the infinite-width NTK's GD dynamics (f_0 = 0)",
        per_run=True,  # the infinite-width mean does not depend on the seed
    ),
    MetricSpec(
        "low_before_high",
        description="share of seeds whose modes are fitted in order of frequency or degree (1: every seed)",
    ),
    MetricSpec(
        "frequency_exponent",
        higher_is_better=None,
        description="slope of log steps_to_fit against log k over the fitted modes (Basri et al. 2019: 2 on the"
        " circle; on the sphere S^(d-1) the ReLU NTK's eigenvalues fall like k^-d, Bietti & Mairal 2019, so about 3"
        " on sphere3)",
    ),
)


def target_label(target: float) -> str:
    return f"{target:g}"
