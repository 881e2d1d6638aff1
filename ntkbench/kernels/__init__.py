"""Kernels: infinite-width NNGP/NTK, empirical NTK, kernel regression and spectral summaries.

This package is the one place in ntkbench that imports neural-tangents. It does so lazily (the
first time a kernel is built) through `ntkbench.kernels._compat.import_neural_tangents`, a shim
that makes neural-tangents 0.6.5 import on current JAX without importing TensorFlow.

Public API
  kernel_fn(arch, input_shape, kind="ntk") -> k(x1, x2) -> (n1, n2)
  gram(k, x1, x2=None, batch_size=None, max_bytes=1 GiB) -> (n1, n2) numpy array, blocked
  fit_kernel_regression(k, x_train, y_train, *, ridge, diag_reg="relative", solver="auto", ...)
      -> KernelRegression (.alpha, .info: SolveInfo, .predict(x_new) streamed in fixed blocks);
      solver "dense" (Gram + Cholesky), "cg" (matrix-free, Nyström-preconditioned) or "auto"
  krr_solve(k_train_train, y_train, *, ridge, diag_reg="relative") -> dual coefficients α
  krr_fit_predict(k_train_train, y_train, k_test_train, ridge=1e-6, diag_reg="relative")
  gd_mse_predict(k_train_train, y_train, k_test_train, t, lr=1.0, ridge=0.0, diag_reg="relative")
  empirical_ntk(model, x1, x2=None, implementation=2, per_logit=False, batch_size=64)
  empirical_ntk_fn(model, implementation=2, per_logit=False) -> k(x1, x2)
  label_energy_share(k_train_train, y_onehot, top_k)
  kernel_target_alignment(K, Y, center=False)
  kernel_distance(K1, K2)
  stax_model(arch, input_shape) -> neural-tangents (init_fn, apply_fn, kernel_fn)
  import_neural_tangents() -> the patched neural_tangents module
"""

from ntkbench.kernels._compat import import_neural_tangents, patch_jax
from ntkbench.kernels.empirical import empirical_ntk, empirical_ntk_fn, pure_apply
from ntkbench.kernels.infinite import (
    DEFAULT_MAX_BYTES,
    KernelFn,
    bytes_per_pair,
    gram,
    kernel_fn,
    stax_layers,
    stax_model,
)
from ntkbench.kernels.regression import gd_mse_predict, krr_fit_predict, krr_solve
from ntkbench.kernels.solve import KernelRegression, SolveInfo, fit_kernel_regression
from ntkbench.kernels.spectral import kernel_distance, kernel_target_alignment, label_energy_share

__all__ = [
    "DEFAULT_MAX_BYTES",
    "KernelFn",
    "KernelRegression",
    "SolveInfo",
    "bytes_per_pair",
    "empirical_ntk",
    "empirical_ntk_fn",
    "fit_kernel_regression",
    "gd_mse_predict",
    "gram",
    "import_neural_tangents",
    "kernel_distance",
    "kernel_fn",
    "kernel_target_alignment",
    "krr_fit_predict",
    "krr_solve",
    "label_energy_share",
    "patch_jax",
    "pure_apply",
    "stax_layers",
    "stax_model",
]
