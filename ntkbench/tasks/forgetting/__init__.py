"""Catastrophic forgetting (`forgetting`, protocol version 1).

Protocol:
- Stream (budget `stream`): `permuted` (T tasks, default 10, task 1 unpermuted, domain-il),
  `rotated` (task t rotated by (t−1)·`theta` degrees, default 10, images only, domain-il) or
  `split` (classes cut into T groups, default 5; `setting` "task-il" (default) or "class-il"),
  built by `ntkbench.data.streams` with seed = the run's root seed (the same stream for every
  seed and every method; seeds vary initialisation and training order). Before the stream is
  built the dataset may be reduced to `train_examples` class-balanced training examples (seeded by
  the root seed) and its first `test_examples` test examples; None keeps the whole split.
- The learner (contract: `contract.py`, exported as `nb.Learner`, `nb.TaskData`, `nb.StreamInfo`;
  the method is a factory `fn(info: nb.StreamInfo, *, <params with defaults>) -> nb.Learner`) sees
  tasks 1..T in order, each for `epochs` passes in batches of `batch_size`; it receives only the
  current task's training data, and `ntkbench.data.load_dataset` raises while its code runs.
  After initialisation and after every task the harness evaluates every task's test split (future
  tasks too): b[j] and R[i, j], in percent, masking the logits to task j's classes under task-il
  (the task id is given at test time only there; otherwise `predict` gets task_id = −1).
- Metrics (`metrics.py`): ACC, BWT, FWT, forgetting, LA per seed; `acc_matrix`
  (per_seed: the T×T matrices, mean/std element-wise) and `acc_init` (per_seed: b vectors).
- NTK view (`ntk.py`, first seed only, methods whose Learner sets `network`; without it the run
  succeeds and `ntk` says the view is unavailable): predicted Δf on a probe of old-task test
  points vs the measured drop, per task pair, with rank correlations.
What is budget (the protocol) and what is a method parameter: stream, num_tasks, setting, theta,
epochs, batch_size, data sizes and the NTK-view sizes are budget; learning rate, λ, buffer and
memory sizes are each method's parameters. Default model of the reference methods: MLP 2×256 ReLU.
Budget: every field with its type and default in `budget.py`, or `ntkbench list forgetting`.
Full protocol: every budget field at its default but the stream (`stream`, `setting`, `theta`),
all 60k/10k images per task, a reference learner's default params, ≥ 3 seeds. Anything else is recorded as
reduced, with its deviations (`ntkbench/tasks/conformance.py`).

Sources (each budget default: where it comes from and where that was read; "departs:" says how
ntkbench differs and why; "not read at the source" where the source could not be opened):
- `stream` "permuted", task 1 unpermuted, and the training regime `epochs` 1, `batch_size` 10 with
  the reference MLP 2×256 ReLU, plain SGD lr 0.01, no dropout, no lr decay: Mirzadeh et al. 2020
  (NeurIPS), naive SGD. Read: imirzadeh/stable-continual-learning, replicate_experiment_2.sh
  (`--tasks 20 --epochs-per-task 1 --lr 0.01 --gamma 1.0 --hiddens 256 --batch-size 10 --dropout
  0.0`), stable_sgd/data_utils.py (task 1 the identity, later tasks a random pixel permutation).
  The published entries (`published.py`) use exactly that, 20 tasks.
- `num_tasks` None → 10 (permuted, rotated) or 5 (split). departs: Mirzadeh et al. run 20 tasks;
  10 is ntkbench's own default, to halve the cost on CPUs (each task is 6000 SGD steps at batch
  10 and T + 1 evaluations of every task); 20 is one budget value away (the published entries).
- `theta` 10 (rotated): read in the same repository, stable_sgd/data_utils.py
  `get_rotated_mnist`: `per_task_rotation = 10`, task t rotated by (t − 1)·10 degrees minus a
  uniform jitter in [0, 10) drawn per task. departs: no jitter, so the angles are exact and the
  stream is the same for every seed and method.
- `stream` "split", `setting` "task-il" (default) or "class-il": Hsu et al. 2018 (Re-evaluating
  Continual Learning Scenarios). Read: GT-RIPL/Continual-Learning-Benchmark,
  scripts/split_MNIST_incremental_task.sh and _class.sh (`--first_split_size 2
  --other_split_size 2`: 5 tasks of 2 classes in label order). departs: their split-MNIST runs
  train an MLP 2×400 for 4 epochs at batch 128 (Adam 1e-3 or SGD 0.01, 10 repeats); ntkbench
  keeps one regime (the one above) for every stream, so that streams compare.
- `train_examples`, `test_examples` None: the whole MNIST splits, as in both repositories (a
  reduction knob of ntkbench's own, recorded as reduced when set).
- Metrics (`metrics.py`). ACC, BWT, FWT: Lopez-Paz & Ranzato 2017 (GEM). Read:
  facebookresearch/GradientEpisodicMemory metrics/metrics.py `confusion_matrix` (final row mean;
  bwt[t] = R[T, t] − R[t, t]; fwt[t] = R[t − 1, t] − b[t]). departs: that code averages bwt and
  fwt over all T tasks (a zero term for the last, resp. first, task); ntkbench averages over the
  T − 1 tasks where the term is defined (×T/(T − 1) of GEM's code; the paper's formula not read at
  the source). forgetting: Chaudhry et al. 2018. Read: the A-GEM authors' code as vendored in
  imirzadeh/stable-continual-learning, external_libs/continual_learning_algorithms/utils/utils.py
  `compute_fgt` (mean over tasks 1..T − 1 of max over rows l < T minus row T): identical.
  Mirzadeh's own `end_experiment` (stable_sgd/utils.py) takes the max over every evaluation, the
  final one included, so its forgetting is never negative; ntkbench's can be. LA (mean of the
  diagonal R[j, j]): ntkbench's name for it; its source was not read at the source.
- `ntk_view`, `ntk_probe` 30, `ntk_train_points` 200, `ntk_ridge` 1e-3: ntkbench's own. The view
  predicts each old task's drop from the linearised update on the new task (the NTK analysis of
  forgetting of Bennani et al. 2020 and Doan et al. 2021; their papers were not read at the source
  here); the sizes keep Θ(X_k, X_k) and the probe small enough for CPUs.
- Reference learners' params (method parameters, not budget; `ntkbench/methods/forgetting.py`):
  OGD keeps `memory_per_task` 20 gradients per task. departs: Farajtabar et al. 2020 (AISTATS)
  keep 200 per task ("storage size ... 200"), as quoted from the paper by two third-party notes
  found in public repositories; the paper's own experiment section was not read at the source
  here (only its abstract could be opened). 20 is ntkbench's choice for cost: the projection reads
  the whole basis every step (up to (T − 1) × m rows × 269k parameters). On a held-out permuted
  Fashion-MNIST probe (`ntkbench/suites/fashion_mnist_forgetting.toml`) m = 200 forgot 3.4 points,
  m = 100 3.5, m = 50 4.5, m = 10 6.4. The default is not changed (it would change committed
  results); the paper's value is `memory_per_task=200`, one parameter away. It is not a
  `reproduce` entry: the paper's numbers were not read at the source, so there is no value to
  check against.
"""

from ntkbench.tasks.forgetting.budget import Budget
from ntkbench.tasks.forgetting.contract import Learner, StreamInfo, TaskData
from ntkbench.tasks.forgetting.metrics import forgetting_metrics
from ntkbench.tasks.forgetting.task import TASK, Forgetting

__all__ = ["Budget", "Forgetting", "Learner", "StreamInfo", "TaskData", "TASK", "forgetting_metrics"]
