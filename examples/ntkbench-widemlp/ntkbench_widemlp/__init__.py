"""An example ntkbench plugin package (see docs/writing-a-method.md)."""
