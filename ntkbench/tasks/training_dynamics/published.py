"""Published numbers `ntkbench reproduce` checks for this task."""

from __future__ import annotations

PUBLISHED = (
    {
        "name": "fourier1d-frequency-exponent",
        "task": "training_dynamics",
        "dataset": "fourier1d",
        "method": "mlp-ntk",
        "params": {},
        "budget": {"n": 128, "test_points": 128, "steps": 3000, "bands": 6, "gap_widths": [], "flops": False},
        "metric": "frequency_exponent",
        "value": 2.0,
        "tolerance": 0.5,
        "seeds": 2,
        "source": "Basri, Jacobs, Kasten & Kritchman, NeurIPS 2019 (arXiv:1906.00425), introduction: for 1-D"
        " functions (data uniform on the circle) a function of frequency k is learned in time that scales as k²"
        " (linearised two-layer ReLU network with bias; the paper reports that deep networks follow it too)",
        "hardware": "any; 2 CPU cores: ~20 s (measured 2.72 at this scale: not reproduced)",
    },
)
