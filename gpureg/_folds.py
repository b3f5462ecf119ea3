"""Cross-validation folds: ints, scikit-learn splitters, or explicit index pairs."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.model_selection import check_cv


def make_folds(cv, n_samples: int, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Materialize ``cv`` into a list of ``(train, test)`` index arrays.

    Parameters
    ----------
    cv : None, int, scikit-learn splitter or iterable of (train, test)
        ``None`` means no cross-validation (an empty list); an int is a
        ``KFold`` without shuffling, as in scikit-learn.
    n_samples : int
    groups : array-like of shape (n_samples,), optional
        Group labels for group-aware splitters (``GroupKFold``,
        ``LeaveOneGroupOut``, ...), passed to their ``split``.

    Returns
    -------
    list of (ndarray, ndarray)
        Integer index arrays, each non-empty.
    """
    if cv is None:
        return []
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds (or None), got {cv}.")
        if cv > n_samples:
            raise ValueError(
                f"cv={cv} folds need at least {cv} samples, but X has only "
                f"n_samples={n_samples}."
            )
    try:
        splitter = check_cv(cv)
    except ValueError as exc:
        raise ValueError(f"cv is not a valid fold specification: {exc}") from exc
    Xdummy = np.empty((n_samples, 0))
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n_samples,):
            raise ValueError(
                f"groups must have shape ({n_samples},), one label per "
                f"sample, got {groups.shape}."
            )
    try:
        splits = list(splitter.split(Xdummy, groups=groups))
    except ValueError as exc:
        if groups is None and "groups" in str(exc):
            raise ValueError(
                f"cv={cv!r} splits by group: pass groups= (one label per sample)."
            ) from None
        raise ValueError(f"cv could not split the data: {exc}") from exc
    folds = []
    for k, (train, test) in enumerate(splits):
        train = np.asarray(train)
        test = np.asarray(test)
        if train.dtype == bool:
            train = np.flatnonzero(train)
        if test.dtype == bool:
            test = np.flatnonzero(test)
        if train.size == 0 or test.size == 0:
            raise ValueError(f"cv fold {k} has an empty training or test set.")
        if (
            train.min() < 0
            or test.min() < 0
            or train.max() >= n_samples
            or test.max() >= n_samples
        ):
            raise ValueError(f"cv fold {k} has indices outside [0, {n_samples}).")
        folds.append((train.astype(np.intp), test.astype(np.intp)))
    if not folds:
        raise ValueError("cv produced no folds.")
    return folds
