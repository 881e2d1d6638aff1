"""Adversarial accuracy (`adversarial`, protocol version 1).

Protocol:
- Threat model (budget): `norm` "linf" (default) or "l2"; `eps` None takes the protocol's
  per-dataset value (L∞: mnist 0.3, fashion_mnist 0.1, cifar10 8/255, mnist1d 0.1; L2: cifar10
  0.5); `box` the valid input range: "auto" ([0, 1] when every train and test input lies in it,
  as ntkbench's image loaders scale them, else unbounded: mnist1d is standardised), "unbounded",
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
"""

from ntkbench.tasks.adversarial.budget import Budget
from ntkbench.tasks.adversarial.contract import Classifier
from ntkbench.tasks.adversarial.task import EPS, TASK, Adversarial

__all__ = ["Budget", "Classifier", "EPS", "TASK", "Adversarial"]
