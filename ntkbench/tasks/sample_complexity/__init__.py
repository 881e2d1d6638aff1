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
- NTK view (`ntk.py`, budget `ntk_view`, the first `ntk_seeds` seeds, n ≤ `ntk_max_n`): kernel
  regression with the infinite-width NTK of the method's architecture on the same subsets, the
  finite − infinite gap per n, label energy in the top `ntk_top_k` eigendirections and
  kernel-target alignment. The architecture comes from the method's `arch=` hook,
  `@nb.method(..., arch=fn)` with `fn(num_classes, *, <method params>) -> nb.models.Arch` (its
  keyword-only arguments are filled from the method's parameters of the same names). Without the
  hook the run succeeds and the result's `ntk` holds only a note saying there is no NTK view.
Method contract: `fn(key, train: nb.Split, *, <params with defaults>) -> predictor`; the predictor
must map (B, ...) inputs to finite (B, num_classes) logits. `key` is a typed PRNG key; `train.x`
and `train.y` are traced arrays (unless `jittable=False`), `train.num_classes` and
`train.input_shape` Python values. Seeds are vmapped when the method is pure.
Speed, not results: a method registered with `padded_subsets=True` (it reads its data only through
`nb.fit_classifier` / `nb.train_params` with `steps=`) compiles once per curve, not once per n:
it is handed the subset padded to the largest n with `train.count = n` traced, and the trainer
draws exactly the minibatches of the unpadded subset (tested: identical metrics). An n below the
method's batch size, where the batch would shrink, runs in a program of its own. A method
registered with `deterministic=True` (its fit depends on the training examples alone, not on the
key or their order: the kernel methods) is fitted once per distinct subset, so at n = the whole
training set one fit serves every seed. A kernel fit too large for the dense solve runs CG
(`nb.krr_predictor`); its iterations, residual and Nyström rank are in the result's
`kernel_solver`, per n.
Budget: every field with its type and default in `budget.py`, or `ntkbench list sample_complexity`.
Full protocol: the defaults, `n` and `targets` containing the protocol's grid (a curve may extend
it, up to the whole training set), a reference method's default params, ≥ 3 seeds. Anything else is recorded as
reduced, with its deviations (`ntkbench/tasks/conformance.py`).
"""

from ntkbench.tasks.sample_complexity.budget import Budget
from ntkbench.tasks.sample_complexity.metrics import fit_exponent, n_star
from ntkbench.tasks.sample_complexity.task import TASK, SampleComplexity

__all__ = ["Budget", "SampleComplexity", "TASK", "fit_exponent", "n_star"]
