"""Built-in reference methods, one module per task. Each is a short plugin written against the
public `ntkbench` API and declared exactly as a third-party method is: an entry point of the group
`ntkbench.methods` in pyproject.toml, which `ntkbench.registry` loads (this package imports none
of them itself)."""
