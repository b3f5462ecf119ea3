"""gpureg benchmark suite: adapters, workloads, runner, plotter (README.md)."""
