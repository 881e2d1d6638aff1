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

Sources (each budget default: where it comes from and where that was read; "departs:" says how
ntkbench differs and why; "not read at the source" where the source could not be opened). MNIST-1D
is Greydanus & Kobak, read in greydanus/mnist1d (README.md, mnist1d/data.py, notebooks/models.py,
notebooks/train.py, notebooks/mnist1d-classification.ipynb).
- The data (read: mnist1d/data.py) `make_dataset(get_dataset_args())`: 5000 signals of length 40,
  `train_split` 0.8 (4000 train / 1000 test), one fixed permutation of the 40 positions for every
  signal with `shuffle_seq` ("mnist1d-shuffled"; the README's "shuffle").
- `n` (100, 200, 500, 1000, 2000, 4000): ntkbench's own grid, steps of 2 to 2.5 up to 4000, the
  whole MNIST-1D training split, where the README's accuracies are measured.
- `targets` (60, 80, 90): ntkbench's own, chosen between the README's accuracies at 4000 examples
  (logistic regression 32, MLP 68, CNN 94, shuffled CNN 56) so that each target separates some of
  the reference models. The n* rule (first crossing of the mean curve, linear in log n) is
  ntkbench's own.
- `test_points` None: the whole test split (1000 signals), as the repository's `train_model` (read).
- Reference methods' defaults (`ntkbench/methods/sample_complexity.py`, method parameters): Adam lr
  1e-2, batch 100, 6000 steps, no weight decay: notebooks/train.py `get_model_args` with the
  classification notebook's `args.total_steps = 6000`. MLP width 100, two hidden layers: models.py
  `MLPBase` (`hidden_size=100`; the notebook does not pass train.py's 256). CNN 25 channels, three
  stride-2 convolutions, flattened 5 × 25 = 125 features into the readout: models.py `ConvBase`.
  departs: `MLPBase`'s second layer is residual (h + relu(W₂h)), ntkbench's MLP is plain; `ConvBase`
  has kernels 5, 3, 3 with padding 1, ntkbench's CNN kernel 5 in all three layers with SAME padding
  (neural-tangents' convolutions, which give the NTK view, pad only 'SAME', 'VALID' or 'CIRCULAR'
  (stax linear.py `Padding`), and kernel 5 with padding 1 is none of them; kernel 5 throughout is
  ntkbench's own choice; both give 5 positions); train.py takes consecutive batches in a fixed order
  (`bix = step·batch mod N`) where ntkbench draws shuffled ones; the notebook trains one seed (42),
  ntkbench ≥ 3. The published entries (`published.py`) measure whether these departures keep the README's
  numbers.
- `lza-<d>` datasets and the exponent α: Li, Zhang & Arora 2021 (ICLR), "Why are convolutional
  nets more sample-efficient than fully-connected nets?". Read: the abstract only (the ICLR 2021
  poster page): any orthogonal-equivariant algorithm (fully-connected nets trained by most
  gradient methods from Gaussian initialisation) needs Ω(d²) samples on their distribution, while
  O(1) suffice for ConvNets; Adam and AdaGrad are only permutation-equivariant ("similar
  results"). The distribution itself (two k × k channels of N(0, 1), label: which channel has more
  energy, d = 2k², `ntkbench/data/synthetic.py`) was not read at the source here: the paper's
  body could not be opened. departs: the reference `mlp` trains with Adam, for which the Ω(d²)
  bound is not the one proved, and the grid of d and n is finite, so the fitted α is a measurement
  beside the bound, not a test of it. The grid of d in the suites (8, 18, 32, 50) is ntkbench's own.
- `ntk_view`, `ntk_seeds` 1, `ntk_max_n` 4000, `ntk_top_k` 10: ntkbench's own. The infinite-width
  NTK of the method's architecture comes from neural-tangents (Novak et al. 2020); one seed
  because the kernel fit depends on the subset only, n ≤ 4000 to bound the conv kernel's cost on a
  CPU, top 10 eigendirections for the label-energy and alignment scores (of the kind of Arora et
  al. 2019's label projections on the kernel's eigenvectors; that paper was not read at the source).
"""

from ntkbench.tasks.sample_complexity.budget import Budget
from ntkbench.tasks.sample_complexity.metrics import fit_exponent, n_star
from ntkbench.tasks.sample_complexity.task import TASK, SampleComplexity

__all__ = ["Budget", "SampleComplexity", "TASK", "fit_exponent", "n_star"]
