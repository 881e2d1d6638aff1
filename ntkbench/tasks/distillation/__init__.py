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

Sources (each budget default: where it comes from and where that was read; "departs:" says how
ntkbench differs and why; "not read at the source" where the source could not be opened). DC is
Zhao et al. 2021 (ICLR), read in VICO-UoE/DatasetCondensation (main.py, utils.py, networks.py,
readme.md); DC-BENCH is Cui et al. 2022, read in justincui03/dc_benchmark (README.md,
evaluator/evaluator.py). What each published number averages: `published.py`.
- `ipc` grid 1, 10, 50: DC's tables of 1, 10 and 50 images per class (read: readme.md).
- `eval_depth` 3, `eval_width` 128, instance norm, ReLU, average pooling: DC's utils.py
  `get_default_convnet_setting` (read: 128, 3, 'relu', 'instancenorm', 'avgpooling').
- `eval_lr` 0.01, `eval_momentum` 0.9, `eval_weight_decay` 5e-4, `eval_batch_size` 256,
  `eval_epochs` 300, lr × 0.1 half-way: read in DC's main.py (`lr_net` 0.01, `batch_train` 256,
  `epoch_eval_train` 300) and utils.py `evaluate_synset` (SGD momentum 0.9, weight_decay 0.0005).
  departs: DC trains `range(Epoch + 1)`, 301 epochs, and divides the lr after epoch index
  Epoch // 2 + 1 = 151; ntkbench trains 300 and divides at epoch 150 (one epoch either way). DC's
  DataLoader keeps the last incomplete batch; ntkbench's trainer drops it, which changes nothing
  while the synthetic set fits one batch (ipc·C ≤ 256: ipc 1 and 10 with 10 classes) but at ipc 50
  (500 images) trains one step of 256 per epoch where DC takes two (256 + 244). No committed result
  is at ipc 50; this is to be fixed with the next protocol version of the evaluation.
- `eval_networks` 5: DC-BENCH's evaluator (read: `num_eval` default 5 networks on one synthetic set).
  departs from DC, whose numbers are means over 5 synthetic sets × 20 networks (`num_exp` 5,
  `num_eval` 20): ntkbench evaluates 5 networks per seed, one synthetic set per seed, ≥ 3 seeds,
  for cost on CPUs (each network is 300 epochs).
- `augment` "none": DC's evaluation of FashionMNIST and CIFAR-10 (read: utils.py `get_daparam`:
  strategy 'none'). departs: DC evaluates MNIST with its own augmentation ('crop_scale_rotate', for
  1000 epochs), which ntkbench does not implement. "dsa": DSA's evaluation augmentation (Zhao &
  Bilen 2021, same repository: `--dsa_strategy color_crop_cutout_flip_scale_rotate`), for which
  DSA trains 1000 epochs (main.py); with `augment` "dsa" ntkbench keeps `eval_epochs` unless it is
  set (the DSA published entries set 1000).
- `preprocess` "standardise": DC's per-channel normalisation (utils.py `get_dataset`:
  `transforms.Normalize` with fixed per-dataset means and stds, e.g. MNIST 0.1307 / 0.3081).
  departs: ntkbench computes the mean and std on the training split instead of using constants
  (the result records them; defined for every dataset, MNIST-1D included). "zca": the
  KIP sets DC-BENCH evaluates are ZCA-whitened (dc_benchmark's kip_data_loader.py file name:
  `..._zca_nol_noaug_...`); KIP's own preprocessing code was not read at the source.
- `evaluations` "mlp": DC's networks.py `MLP` (two hidden layers of 128, ReLU), trained like the
  ConvNet. "krr", `kernel` "fc", `krr_ridge` 1e-5: ntkbench's own (kernel regression with the
  infinite-width NTK / NNGP, the evaluation KIP optimises for; the FC kernel because the conv
  kernel is too slow on CPUs at 28×28; the relative ridge small enough to interpolate the
  synthetic set). `soft_label_loss` "mse": ntkbench's own, the loss KIP's learned labels are fitted
  with (KIP's code not read at the source).
- `test_points` None: the whole test split, as DC's `testloader` (read: utils.py `get_dataset`).
"""

from ntkbench.tasks.distillation.budget import Budget
from ntkbench.tasks.distillation.task import TASK, Distillation, random_real_subset

__all__ = ["Budget", "Distillation", "TASK", "random_real_subset"]
