"""gpureg: thousands of regularized linear fits at once, on one GPU or the CPU.

The whole alpha × l1_ratio × CV-fold grid of an elastic net in one call,
every fit certified by its duality gap, with scikit-learn's objective::

    1/(2 n_w) Σ_i s_i (y_i - b - x_iᵀ w)² + alpha * l1_ratio * Σ_j f_j |w_j|
        + alpha * (1 - l1_ratio) / 2 * Σ_j f_j w_j²

Public API
----------
fit_grid
    Every fit of a grid plus the full-data path; returns a GridResult.
enet_path, lasso_path
    scikit-learn's path functions.
ElasticNet, Lasso, Ridge, ElasticNetCV, LassoCV, RidgeCV
    scikit-learn-compatible estimators over the batched solver.
LogisticRegression, LogisticRegressionCV
    scikit-learn-compatible binary logistic regression (``family="binomial"``).
load_diabetes
    The embedded default data set.
dropout, dropout_backward, dropout_add, dropout_add_backward, Dropout
    Fused dropout with a counter-based RNG (identical masks on CPU and GPU).
philox4x32
    The Philox4x32-10 generator behind it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Cheap modules (numpy only) are imported at once; the solver and the estimators,
# which import scikit-learn (~0.8 s), only when first used, so that ``import
# gpureg``, ``gpureg --help`` and the command line's input checks are quick.
# numba is imported by the CPU backend, matplotlib only by ``gpureg.plotting``.
from ._philox import philox4x32
from ._result import GridResult
from .datasets import load_diabetes
from .dropout import (
    Dropout,
    dropout,
    dropout_add,
    dropout_add_backward,
    dropout_backward,
)

if TYPE_CHECKING:
    from ._fit import fit_grid
    from ._logistic_estimators import LogisticRegression, LogisticRegressionCV
    from ._path import enet_path, lasso_path
    from .estimators import (
        ElasticNet,
        ElasticNetCV,
        Lasso,
        LassoCV,
        Ridge,
        RidgeCV,
    )

__version__ = "0.1.0.dev0"

__all__ = [
    "Dropout",
    "ElasticNet",
    "ElasticNetCV",
    "GridResult",
    "Lasso",
    "LassoCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "Ridge",
    "RidgeCV",
    "dropout",
    "dropout_add",
    "dropout_add_backward",
    "dropout_backward",
    "enet_path",
    "fit_grid",
    "lasso_path",
    "load_diabetes",
    "philox4x32",
    "__version__",
]

#: Public names imported on first use, and the module of each.
_LAZY = {
    "fit_grid": "._fit",
    "enet_path": "._path",
    "lasso_path": "._path",
    **{
        name: ".estimators"
        for name in (
            "ElasticNet",
            "ElasticNetCV",
            "Lasso",
            "LassoCV",
            "Ridge",
            "RidgeCV",
        )
    },
    "LogisticRegression": "._logistic_estimators",
    "LogisticRegressionCV": "._logistic_estimators",
}


def __getattr__(name):
    """Import a public name (or a submodule, ``gpureg._fit``) on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    else:
        try:
            if name.startswith("__"):
                raise ModuleNotFoundError(name=f"{__name__}.{name}")
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the submodule exists but one of its imports is missing
            raise AttributeError(
                f"module {__name__!r} has no attribute {name!r}"
            ) from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
