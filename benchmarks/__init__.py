"""gpureg's benchmark scripts and suite (source tree only, not in the wheel).

A package, so that the scripts share :mod:`benchmarks._common` by a plain
import.  Run them as modules from the repository root, e.g.
``python -m benchmarks.bench_w1 --quick`` or
``python -m benchmarks.suite.run --workloads w1 --quick``.
"""
