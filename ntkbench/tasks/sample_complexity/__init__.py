"""Sample complexity, CNN vs MLP (`sample_complexity`, protocol version 1).

Protocol:
- For each training-set size n on the budget's grid `n`, the harness draws a seeded,
  class-balanced subset of n training examples (the same subsets for every method: the subset key
  depends on the seed and n only), hands it to the method as `Split(x, y, num_classes)`, and the
  method returns a predictor x -> logits. The harness computes test accuracy on the full test
  split (or its first `test_points`). Metrics: `test_acc@n=<n>` (percent, mean ± std over seeds).
- n*(target) for each target of the budget: the smallest n whose MEAN accuracy reaches the target,
  interpolated linearly in log n between the grid points around the first crossing; `None` when
  the target is not reached on the grid ("> n_max"). Metric `n_star@<target>`: `mean` is n* of
  the mean curve, `per_seed` the same rule on each seed's curve.
- On `lza-<d>` datasets, `aggregate` fits the exponent α of n*(target) ∝ d^α over the grid of d
  each method ran on (least squares in log-log over the d where n* was reached), written as a
  derived result on dataset `lza` with metric `alpha@<target>`.
Method contract: `fn(key, train: Split, **params) -> predictor`; the predictor must map (B, ...)
inputs to finite (B, num_classes) logits. Seeds are vmapped when the method is pure.
"""

from ntkbench.tasks.sample_complexity.budget import Budget
from ntkbench.tasks.sample_complexity.metrics import fit_exponent, n_star
from ntkbench.tasks.sample_complexity.task import TASK, SampleComplexity

__all__ = ["Budget", "SampleComplexity", "TASK", "fit_exponent", "n_star"]
