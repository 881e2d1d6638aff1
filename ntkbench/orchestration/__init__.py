"""Orchestration: suites -> runs -> result files, above the tasks and the engine.

`suites` expands a suite file into runs, `runner` executes them (skipping finished ones) and writes
one result file each, `validate` checks suites and result files, `reproduce` runs the protocols
of published numbers. Nothing below this package (engine, tasks, data, kernels) imports it.
"""
