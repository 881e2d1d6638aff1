"""Adversarial accuracy (`adversarial`, protocol version 1).

Protocol:
- Threat model (budget): `norm` "linf" (default) or "l2"; `eps` None takes the protocol's
  per-dataset value (L∞: mnist 0.3, fashion_mnist 0.1, cifar10 8/255, mnist1d 0.1; L2: fashion_mnist
  0.3, cifar10 0.5; sources below); `box` the valid input range: "auto" ([0, 1] when every train
  and test input lies in it, as ntkbench's image loaders scale them, else unbounded: mnist1d is
  standardised), "unbounded",
  "data" ([min, max] over both splits) or [lo, hi]. The resolved threat model is recorded in the
  result (`threat`).
- Training: the method (contract: `contract.py`, exported as `nb.Classifier`) gets the whole training split
  (or `train_examples` class-balanced examples, seeded by the root seed) and the threat model, and
  returns a predictor x -> logits. Seeds are vmapped into one program when the method is pure and
  its predictor is a pytree; otherwise they run in turn.
- Evaluation, per seed on that seed's predictor, on the first `test_points` test points (default
  1000): clean accuracy and robust accuracy under FGSM, PGD (`pgd_steps` 50, step
  2.5·eps/pgd_steps, random start, `pgd_restarts`), APGD-CE (`apgd_iters` 100) and APGD-T (targeted
  DLR, `apgd_t_targets` 9, `apgd_t_iters` 100), each from the clean input
  (`ntkbench.attacks.evaluate_attacks`); `robust_acc` is the per-point worst case. Metrics
  `clean_acc`, `robust_acc@fgsm`, `robust_acc@pgd`, `robust_acc@apgd-ce`, `robust_acc@apgd-t`,
  `robust_acc` (percent). Attack keys: fold_in(root, seed, ATTACK_TAG), the same for every method.
- `eps_sweep` (optional list): the worst case over the same attacks at each eps, metrics
  `robust_acc@eps=<e>`; with the run's eps it forms the curve of the "rises with eps" check.
- `flags` (top level of the result): `ntkbench.attacks.reliability_flags` per seed (weaker attack
  beats a stronger one, an attack above clean accuracy, zero input gradients, robust accuracy rising
  with eps), each suffixed with the seed that raised it ("... [seed 0]").
- NTK view (`ntk.py`): NTK eigen-features (Tsilivis & Kempe 2022) on a binary reduction (every
  method), and the kernel distance between the empirical NTK at initialisation and after training
  (methods returning `nb.Classifier(model, init)` of NNX modules; otherwise marked unavailable).
Method contract: `fn(key, train: nb.Split, threat: nb.ThreatModel, *, <params with defaults>) ->
predictor`, in `contract.py`.
Budget: every field with its type and default in `budget.py`, or `ntkbench list adversarial`.
Full protocol: every budget field at its default but the threat point (`norm`, `eps`), `eps_sweep`
and `attack_batch`, a reference method's default params, ≥ 3 seeds. Anything else is recorded as
reduced, with its deviations (`ntkbench/tasks/conformance.py`).

Sources of the defaults, and where ntkbench departs from them (read at the source, repository and
commit named; "ntkbench's choice" where no source sets it):
- eps, L∞: mnist 0.3 and cifar10 8/255 — fra31/auto-attack README (a392200), the MNIST L∞ and
  CIFAR-10 L∞ tables; fashion_mnist 0.1 — Croce, Andriushchenko & Hein 2019 (AISTATS), Table 1 and
  `eps_dict` in train.py / eval.py of max-andr/provable-robustness-max-linear-regions (28200b6);
  mnist1d 0.1 — ntkbench's choice (no published adversarial protocol for MNIST-1D). L2:
  fashion_mnist 0.3 — Croce et al. 2019, the same `eps_dict` and Table 1; cifar10 0.5 — the
  auto-attack README's CIFAR-10 L2 table.
- Attacks: APGD-CE (100 iterations, 1 restart) and APGD-T (9 target classes, 100 iterations) are
  AutoAttack's "standard" version (auto-attack autoattack/autoattack.py, autopgd_base.py `n_iter=100`);
  that version also runs FAB-T and Square (5000 queries), which ntkbench does not: `robust_acc` is
  an upper bound that AutoAttack could lower. FGSM and PGD (50 steps of 2.5·eps/50 from a random start)
  are ntkbench's additions, reported for the reliability flags; the 2.5·eps/steps step size is
  ntkbench's choice. `test_points` 1000: Croce et al. 2019 (Table 1 caption) compute their L∞
  statistics on the first 1000 test points (their L2 ones on the full test set, 10 000 points).
- Methods (`ntkbench/methods/adversarial.py`): the CNN (convnet widths (32, 64), 3x3, stride 2,
  dense 128) and its training (Adam 1e-3, batch 128, `steps` 2000 ≈ 4.3 epochs of 60 000) are
  ntkbench's choice, sized for 2 CPU cores; no paper trains this network. `pgd-at`'s 7 attack steps
  of 2.5·eps/7 are ntkbench's; Madry et al. 2018 (MNIST) train 100 000 steps of batch 50 with 40
  steps of 0.01, and Croce et al. 2019 (F-MNIST, the reference for fashion_mnist) train 100 epochs
  (46 800 Adam steps of batch 128, lr / 10 from epoch 90) with 40-step PGD of step 2·eps/40
  (train.py `pgd_n_iter`, attacks.py `pgd_attack`), mixing a fraction `ae_frac` of PGD examples into
  each batch where `pgd-at` trains on PGD examples only. So the default `pgd-at` trains ~23x fewer
  steps with ~6x fewer attack steps than the F-MNIST reference, on another CNN, and its clean
  accuracy is ~4 points below their "at" CNN's (84.3 vs 88.46). Their protocol is the named variant
  `croce2019-fmnist-{fc1,cnn}-at-linf-*` (`ntkbench reproduce --list`; a GPU row, ~1 h per seed).
  `fgsm-at`'s step 1.25·eps from a uniform start: Wong, Rice & Kolter 2020 (locuslab/fast_adversarial,
  CIFAR10/train_fgsm.py alpha 10/255 at eps 8/255, MNIST/train_mnist.py 0.375 at 0.3). `trades`:
  β = 6 and the 0.001·N(0, I) start are TRADES' (yaodongyu/TRADES README's released models,
  trades.py); its 7 KL steps and the CNN are ntkbench's (TRADES' MNIST SmallCNN with max pooling,
  dropout and SGD + step decay is not expressible by `nb.models`, so no TRADES number is listed).
- Published numbers (`published.py`): Croce et al. 2019 F-MNIST FC1 and CNN (their LeNetSmall:
  conv 4x4 16 / stride 2, conv 4x4 32 / stride 2, FC 100, expressed as `standard` params) at L∞ 0.1
  and L2 0.3; robust accuracy published as bounds is checked by an interval verdict.
"""

from ntkbench.tasks.adversarial.budget import Budget
from ntkbench.tasks.adversarial.contract import Classifier
from ntkbench.tasks.adversarial.task import EPS, TASK, Adversarial

__all__ = ["Budget", "Classifier", "EPS", "TASK", "Adversarial"]
