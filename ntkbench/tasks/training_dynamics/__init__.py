"""Training dynamics: spectral bias and computational complexity, NTK-predicted vs measured
(`training_dynamics`, protocol version 2: the empirical-NTK scores added).

Protocol:
- The harness draws one class-balanced subset of `n` training examples per run (key from the root
  seed: every seed and every method sees the same set; seeds differ in the method's key only;
  `fourier1d`, `sphere3`: its first n examples) and regression targets Y (n, C): centred one-hot
  labels (one-hot − 1/C), or, on a dataset with a known real target (`fourier1d`: meta `modes`,
  `phases`, `amplitude`; `sphere3`: `degrees`, `directions`, `amplitude`), that target (C = 1).
  The probe is the n training inputs followed by the first `test_points` test inputs.
- The kernel: Θ, the infinite-width NTK (neural-tangents, `ntkbench.kernels`) of the method's
  architecture from its `arch=` hook, `@nb.method(..., arch=fn)` with `fn(num_outputs, *,
  <method params>) -> nb.models.Arch`, on the training set; eigenpairs (λ_i, v_i), descending.
- The learning rate η = lr_scale · n / λ_max(Θ) (budget `lr_scale`, so η λ_max / n = lr_scale
  for every architecture: GD is stable below 2), or the budget's absolute `lr`. A method without
  an `arch=` hook runs only with an absolute `lr`, and gets no kernel and no predictions.
- Method contract: `fn(key, data: nb.DynamicsData, *, <params with defaults>) -> outputs`, an
  array (len(data.checkpoints), m, C) of the network's outputs on `data.probe` (m points) after t
  updates for each t in `data.checkpoints` (0 = at initialisation; 0 and `steps` included, the
  rest log-spaced: budget `checkpoints`). The protocol's training is full-batch gradient descent at
  η = `data.lr` for `steps` steps on L = 1/(2n) Σ_i ‖f(x_i) − y_i‖² (`nb.mse`), so that the
  training outputs move by −(η/n) Θ_t (f − y) per step; every prediction below assumes exactly
  this. A method that trains otherwise is still scored, and its ratios then measure the departure.
  Record the outputs inside the training scan with `nb.Record` (`data.record()`; `train_params` /
  `fit_classifier` take `record=`). `key` is a typed PRNG key; the data are traced arrays unless
  `jittable=False`; seeds are vmapped when the method is pure. NaN/inf outputs or a wrong shape
  fail the run.
- Spectral bias (every dataset; needs the kernel). Training residual r_t = f_t − Y at the
  checkpoints, projected on the eigenvectors and grouped into the top `bands` log-spaced bands
  (eigen-indices [2^b − 1, 2^(b+1) − 1): 1, 2, 4, ... directions). Measured τ_b: the step at which
  ‖V_bᵀ r_t‖ falls to 1/e of ‖V_bᵀ r_0‖ (linear in t and log-norm between checkpoints). Predicted
  τ_b: the same rule on the linearised GD residual (1 − ηλ_i/n)^t v_iᵀ r_0 from the seed's own r_0
  (for one direction τ = −1/ln(1 − ηλ/n) = n/(ηλ) (1 + O(ηλ/n))). Metrics: `tau@band=<b>`,
  `ntk_tau@band=<b>`, `tau_ratio@band=<b>` (measured ÷ predicted), `tau_ratio_median` (median
  ratio over the bands where both exist), `spearman_speed` (Spearman between the band's geometric
  mean eigenvalue and the measured speed 1/τ_b, an undecayed band has speed 0).
- The same spectral-bias scores against the empirical NTK at initialisation (budget
  `empirical_ntk`, default on; needs the `arch=` hook, else skipped without metrics): per seed,
  Θ̂(X, X) = J Jᵀ of the method's architecture at the initial parameters, averaged over the output
  components (the trace over the output axis ÷ C, as neural-tangents' `trace_axes`; with C = 1 it
  is J Jᵀ, and then the linearised dynamics are exact), J taken with respect to every variable
  `nb.build` returns, in one compiled program (vmapped over seeds like the method). The network is
  the one `nb.fit_classifier` builds from the key the method is handed (`nb.build(model,
  jax.random.split(key)[0])`): for the reference methods exactly the method's own initial
  network, for a method that initialises otherwise an independent draw of the same architecture.
  Each seed's residual is projected on its own Θ̂'s eigenvectors (float64 on the host) in the same
  bands, predicted τ_b from that seed's r_0 with the same η (from the infinite-width λ_max):
  `entk_tau@band=<b>`, `entk_pred_tau@band=<b>`, `entk_tau_ratio@band=<b>`,
  `entk_tau_ratio_median`, `entk_spearman_speed`; `ntk.empirical` holds the bands' eigenvalues
  (mean over seeds) and each seed's top eigenvalues, `curves.entk_band_residual` the mean residual
  per band.
- Linearisation gap: for each width w of `gap_widths`, the method's architecture with every hidden
  width (channels for a ConvNet) set to w and its first-order Taylor expansion around the same
  initialisation (`nb.linearize`, one jvp), both trained by the protocol's GD (η from that width's
  NTK) for `gap_steps` steps (default `steps`), on the first `gap_seeds` seeds:
  `linearisation_gap@width=<w>` = ‖f_T − f_T^lin‖ / ‖f_T^lin‖ over the probe after those T steps.
  It measures the architecture, not the method's own run.
- Computational complexity (classification datasets): test accuracy (argmax) at every checkpoint;
  `test_acc@final`; `steps_to@<target>` (first step reaching each of `targets`, linear in
  log(1 + step) between checkpoints; null: "> steps"); `ntk_steps_to@<target>`, the same for the
  infinite-width mean prediction f_t = Θ(x, X) Θ⁻¹ (I − (I − ηΘ/n)^t) Y (f_0 = 0) at 400
  log-spaced integer steps; `ntk_from_init_steps_to@<target>`, the same linearised dynamics
  started from each seed's own recorded initial outputs f_0 (train and test: the initial
  function's noise, which a finite network carries on the test points, is then predicted too);
  `flops_per_step`, XLA's cost analysis (`cost_analysis()["flops"]` of
  the compiled step, on the run's backend) of one full-batch GD step of the method's architecture
  on the n examples, and `flops_to@<target>` = steps × FLOPs.
- Controlled dataset (`fourier1d`: signals on a circle, target Σ_k a cos(m_k θ + φ_k), m_k = 1, 2,
  4, 8; the training set is its first n angles, a regular grid when n is a power of 2, so that
  the NTK Gram is circulant and its eigenvectors are exactly the sampled Fourier modes): the
  training residual's amplitude at each frequency m_k (trapezoid quadrature over the training
  angles, the DFT coefficient on a regular grid); `steps_to_fit@k=<m>` is the first step at which
  it is below `fit_threshold` × the mode's amplitude in the target (null: not within `steps`),
  `ntk_steps_to_fit@k=<m>` the same for the infinite-width mean dynamics, `low_before_high` the
  share of seeds whose modes are fitted in order of frequency (an unfitted mode counts as last),
  `frequency_exponent` the slope of log steps against log m (published: 2, Basri et al. 2019).
  In three dimensions (`sphere3`: points uniform on the sphere S², |x|² = 3, target Σ_ℓ a √(2ℓ+1)
  P_ℓ(⟨x̂, z_ℓ⟩), one zonal spherical harmonic of each degree ℓ = 1, 2, 4, 8 about its own
  direction; every MLP kernel is a function of ⟨x, x'⟩ there, so its eigenfunctions are the
  spherical harmonics): the same metrics with k the degree, the residual's amplitude in a degree
  being its least-squares coefficient on that degree's component over the training points.
- Each result also holds the checkpoints, η, the mean residual per band along training
  (`curves.band_residual`, relative to its start), the mean test-accuracy curve and the predicted
  ones (`curves.ntk_test_acc`, `curves.ntk_from_init_test_acc`); `ntk` holds the bands'
  eigenvalues and the architecture.
Budget: every field with its type and default in `budget.py`, or `ntkbench list training_dynamics`.

Sources (each budget default: where it comes from and where that was read; "departs:" says how
ntkbench differs and why; "not read at the source" where the source could not be opened). No
published protocol is run as a whole here: the task measures the NTK's predictions, so most
defaults are ntkbench's own sizes, chosen for CPUs.
- The predictions (linearised GD on the MSE, f_t = Θ(x, X) Θ⁻¹ (I − (I − ηΘ/n)^t) Y): the NTK of
  Jacot et al. 2018 and the linearised dynamics of Lee et al. 2019, as neural-tangents implements
  them. Read: neural-tangents 0.6.5 (the installed package), _src/predict.py
  `gradient_descent_mse`, which cites both papers (the papers themselves were not read at the
  source here). departs: neural-tangents solves continuous-time GD with the loss normalised by the
  number of target entries (`_make_expm1_fn(y_train.size)`, n·C); ntkbench predicts the discrete
  steps the networks take, with the per-example loss 1/(2n) Σ ‖f − y‖², so that a step is
  −(η/n) Θ (f − y) for every C. The band-wise reading of the residual on the kernel's
  eigenvectors follows the analysis of Arora et al. 2019 (fine-grained analysis of two-layer
  networks), not read at the source.
- `lr_scale` 0.5, `lr` None: ntkbench's own. GD on the linearised model is stable while
  η λ_max / n < 2; 0.5 keeps every band's decay well inside it for every architecture.
- `n` 256, `test_points` 1000, `steps` 2000, `checkpoints` 30, `bands` 7: ntkbench's own sizes
  (seven bands hold 1 + 2 + ... + 64 = 127 of the 256 directions; 2000 full-batch steps of n = 256
  run in seconds to minutes on a CPU). `targets` (25, 30, 40): ntkbench's own, around what the
  MLP's NTK reaches on MNIST-1D at n = 256 (its kernel regression limit is about 32 %, see
  `budget.py`). `fit_threshold` 0.1: ntkbench's own.
- `fourier1d`, `sphere3` and `frequency_exponent`: Basri, Jacobs, Kasten & Kritchman 2019
  (NeurIPS), "The convergence rate of neural networks for learned functions of different
  frequencies". Read: the abstract (the NeurIPS proceedings page and arXiv:1906.00425): for
  normalised data uniform on a hypersphere the linearised dynamics' eigenfunctions are the
  spherical harmonics, a bias term is needed to learn odd frequencies, and the time to learn each
  frequency is predicted. The exponent 2 (time ∝ k² on the circle for a two-layer ReLU network
  with bias) that `frequency_exponent`'s description and `published.py` cite is in the paper's
  body, which was not read at the source here. The modes 1, 2, 4, 8, the 40-dimensional circle
  (|x|² = 40), the sphere S² with |x|² = 3 and degrees 1, 2, 4, 8 are ntkbench's own choices.
- `gap_widths` (64, 256, 1024), `gap_seeds` 1, `gap_steps` None: ntkbench's own. The linearisation
  compared with is the first-order Taylor model of Lee et al. 2019 (above; not read at the source).
- `empirical_ntk` True: ntkbench's own; the trace over the output axis ÷ C is neural-tangents'
  `trace_axes` convention (read: _src/predict.py, default `trace_axes=(-1,)`).
- `flops` True: XLA's own cost analysis of the compiled step, no external source.
- Reference methods (`ntkbench/methods/training_dynamics.py`, method parameters): `mlp-gd`,
  `cnn-gd` are the MNIST-1D architectures of the sample-complexity task (its Sources) trained by
  full-batch GD instead of Adam, because every prediction here assumes GD; `mlp-ntk` (width 512,
  NTK parameterisation) and `linearised-mlp` are ntkbench's own.
"""

from ntkbench.tasks.training_dynamics.budget import Budget
from ntkbench.tasks.training_dynamics.contract import DynamicsData, mse
from ntkbench.tasks.training_dynamics.task import TASK, TrainingDynamics

__all__ = ["Budget", "DynamicsData", "TASK", "TrainingDynamics", "mse"]
