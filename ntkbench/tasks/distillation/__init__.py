"""Distillation quality (`distillation`, protocol version 1).

Protocol:
- Budget `ipc` (images per class; the protocol's grid is 1, 10, 50 — one run per ipc). Datasets:
  mnist1d, fashion_mnist, mnist, cifar10. The inputs are first preprocessed as `preprocess` says
  ("standardise": per-channel train mean/std, the DC default; "zca": ZCA whitening, as KIP uses on
  CIFAR; "none"), fitted on the training split; the method and the evaluation see the same arrays.
- Method contract: `fn(key, train: nb.Split, ipc: int, *, <params with defaults>) -> (x_syn,
  y_syn)` given a typed PRNG key (one per seed), the WHOLE preprocessed training split and ipc (a
  Python int). x_syn has shape (ipc·C, *input_shape); y_syn is either int labels (ipc·C,) with
  exactly ipc examples of every class ("hard") or label vectors (ipc·C, C) ("soft", recorded as
  such; learned labels). The harness refuses any other count or shape, out-of-range or unbalanced
  hard labels and NaN/inf, failing the run with an error naming the method. Seeds are vmapped when
  the method is pure (`vmappable`). Distillation time (compile and run) is recorded apart from
  evaluation time.
- Evaluation (the task's, `evaluation.py`), per seed, on the first `test_points` test examples
  (None: all), of each model named in `evaluations` (default all of "convnet", "mlp", "krr"):
  - `test_acc@convnet` (the headline metric): DC protocol — ConvNet-3 (`eval_depth` 3 blocks of
    width `eval_width` 128, instance norm, ReLU, 2×2 average pooling; 1-D analogue on 1-D data)
    trained from scratch on the synthetic set, SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch
    256, 300 epochs, lr × 0.1 at epoch 150, no augmentation (`augment` = "none"; "dsa": DSA
    augmentation of every training minibatch, recorded in `extra.augmentation`, see
    `evaluation.py`/`augment.py`); `eval_networks` (5) networks per seed, vmapped; per_seed = the
    mean over that seed's networks (each network's accuracy is in `eval_networks_acc`).
  - `test_acc@mlp`: transfer, the DC MLP (2 × 128 ReLU) trained with the same protocol.
    Both networks fit hard labels with cross-entropy, soft labels with `soft_label_loss` ("mse"
    to the label vectors, the default, or "cross_entropy").
  - `test_acc@krr-ntk`, `test_acc@krr-nngp`: kernel ridge regression (relative ridge `krr_ridge`)
    with the infinite-width NTK / NNGP on the synthetic set; `kernel` "fc" (the MLP's kernel,
    default: cheap everywhere) or "conv" (the ConvNet's kernel without instance norm; very slow on a
    CPU at 28×28). Targets: one-hot for hard labels, the label vectors for soft ones.
  - `gain_over_random@convnet`: test_acc@convnet minus that of a class-balanced random real
    subset at the same ipc (`random_real_subset`, the same draw as the reference `random` method),
    run inside this task with the same seeds, keys and evaluation (so a run is self-contained), per seed.
  Evaluation epochs, networks, batch, lr, momentum, weight decay, width, depth and test points
  are budget fields (defaults = the protocol) so small suites can shrink them; the result records
  the values used. Leaving "convnet" out of `evaluations` leaves the run without its headline
  metric and without `gain_over_random@convnet` (there is no gain metric for the other models).
- NTK view (`ntk`, needs "krr" in `evaluations`; without it `ntk` says the view is unavailable,
  no method hook is involved): KRR accuracy next to the finite networks' for the synthetic set and
  for the random real subset of equal size, and finite − kernel gaps.
- `extra`: label kind, distillation/evaluation seconds, per-network accuracies, and
  `synthetic_preview` (first image of each class of seed 0, uint8 base64; see
  `preview.py`).
Budget: every field with its type and default in `budget.py`, or `ntkbench list distillation`.
Full protocol: every budget field at its default but `ipc` and the stated variants (`preprocess`,
`augment`, `soft_label_loss`, `kernel`), a reference method's default params, ≥ 3 seeds. Anything else is recorded as
reduced, with its deviations (`ntkbench/tasks/conformance.py`).
"""

from ntkbench.tasks.distillation.budget import Budget
from ntkbench.tasks.distillation.task import TASK, Distillation, random_real_subset

__all__ = ["Budget", "Distillation", "TASK", "random_real_subset"]
