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
"""

from ntkbench.tasks.forgetting.budget import Budget
from ntkbench.tasks.forgetting.contract import Learner, StreamInfo, TaskData
from ntkbench.tasks.forgetting.metrics import forgetting_metrics
from ntkbench.tasks.forgetting.task import TASK, Forgetting

__all__ = ["Budget", "Forgetting", "Learner", "StreamInfo", "TaskData", "TASK", "forgetting_metrics"]
