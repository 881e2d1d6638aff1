"""Published numbers `ntkbench reproduce` checks for this task: none yet.

Basri, Jacobs, Kasten & Kritchman (NeurIPS 2019, arXiv:1906.00425) derive that on the circle a
function of frequency k is learned in time ∝ k² by the linearised two-layer ReLU network with
bias — a scaling law, not a table with a protocol and a tolerance this task could state, so it is
cited in the `frequency_exponent` metric's description and not registered as a published number.
"""

from __future__ import annotations

PUBLISHED: tuple[dict, ...] = ()
