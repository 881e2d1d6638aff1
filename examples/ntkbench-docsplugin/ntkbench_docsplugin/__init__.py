"""A third-party ntkbench plugin written from the documentation only (one method per task)."""
