"""Held-out measures of binomial (logistic) fits, many fits at once.

Every measure takes the labels ``y`` (0/1) of a test set, the linear predictors
``z = X_test @ w + b`` of many fits as the columns of one matrix, and optional
sample weights, and returns one number per fit:

* ``"deviance"``: glmnet's binomial deviance per observation,
  ``Σ s_i · 2 (log(1 + e^{z_i}) - y_i z_i) / Σ s_i`` (smaller is better);
* ``"misclassification"``: the weighted fraction of rows whose predicted class
  (``z > 0`` → 1, as scikit-learn's ``decision_function > 0``) is wrong;
* ``"auc"``: the weighted area under the ROC curve, equal to scikit-learn's
  ``roc_auc_score(y, z, sample_weight=s)`` (ties count one half).

Rows of weight zero do not count in any measure.
"""

from __future__ import annotations

import numpy as np

#: Measures understood by :func:`binomial_measure`.
MEASURES = ("deviance", "misclassification", "auc")

#: Whether a larger value of each measure means a better fit.
GREATER_IS_BETTER = {"deviance": False, "misclassification": False, "auc": True}


def measure_sign(measure: str) -> float:
    """``+1.0`` if a larger value of ``measure`` is better, else ``-1.0``.

    Parameters
    ----------
    measure : {'deviance', 'misclassification', 'auc'}

    Returns
    -------
    float
        Multiply a measure by it to get a score where greater is better.
    """
    _check_measure(measure)
    return 1.0 if GREATER_IS_BETTER[measure] else -1.0


def binomial_measure(y, decision, sample_weight, measure: str) -> np.ndarray:
    """A held-out measure of many logistic fits on one test set.

    Parameters
    ----------
    y : ndarray of shape (n_test,)
        Labels, 0 or 1 (1 is the positive class), as floats, ints or bools.
    decision : ndarray of shape (n_test, n_fits)
        Linear predictor (logit) ``z = X_test @ w + b`` of each fit, one fit per
        column.  Any finite or infinite value is accepted; NaN is not.
    sample_weight : ndarray of shape (n_test,) or None
        Non-negative weights; None means unit weights.  Rows of weight zero do
        not count.
    measure : {'deviance', 'misclassification', 'auc'}

    Returns
    -------
    ndarray of shape (n_fits,), float64
        The measure of each fit.  ``"deviance"`` and ``"misclassification"``
        are always defined (the deviance is computed without overflow; it is
        ``inf`` only when the true value exceeds the float64 range, e.g. for
        an infinite ``z`` on the wrong side).  ``"auc"`` is NaN when the
        (positively weighted) test set holds only one class.

    Raises
    ------
    ValueError
        On an unknown measure, mismatched shapes, labels other than 0/1,
        NaN in ``decision``, or weights that are negative or sum to zero.
    """
    _check_measure(measure)
    pos, z, s = _check_inputs(y, decision, sample_weight)
    if measure == "deviance":
        return _deviance(pos, z, s)
    if measure == "misclassification":
        return (s / s.sum()) @ ((z > 0) != pos[:, None]).astype(np.float64)
    return _auc(pos, z, s)


def _check_measure(measure) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}.")


def _check_inputs(y, decision, sample_weight):
    """Validated ``(pos, z, s)`` restricted to the rows of positive weight.

    ``pos`` is a boolean array of shape (n,), ``z`` float64 of shape
    (n, n_fits), ``s`` float64 of shape (n,), all with ``s > 0``.
    """
    y = np.asarray(y)
    z = np.asarray(decision, dtype=np.float64)
    if y.ndim != 1 or z.ndim != 2 or z.shape[0] != y.shape[0]:
        raise ValueError(
            "y must have shape (n_test,) and decision (n_test, n_fits); got "
            f"y.shape={y.shape} and decision.shape={z.shape}."
        )
    if sample_weight is None:
        s = np.ones(y.shape[0])
    else:
        s = np.asarray(sample_weight, dtype=np.float64)
        if s.shape != y.shape:
            raise ValueError(
                f"sample_weight must have shape {y.shape} like y; got {s.shape}."
            )
        if not np.all(s >= 0):  # also catches NaN
            raise ValueError("sample_weight must be non-negative (and not NaN).")
    pos = y == 1
    if not np.all(pos | (y == 0)):
        raise ValueError("y must hold only the labels 0 and 1.")
    if np.isnan(z).any():
        raise ValueError("decision holds NaN.")
    keep = s > 0
    if not keep.any():
        raise ValueError("sample_weight sums to zero: no test row counts.")
    if not keep.all():
        pos, z, s = pos[keep], z[keep], s[keep]
    return pos, z, s


def _deviance(pos, z, s):
    """``Σ s_i · 2 logloss(y_i, z_i) / Σ s_i`` for each column of ``z``.

    ``logloss = log(1 + e^z) - y z`` is ``softplus(-z)`` for ``y = 1`` and
    ``softplus(z)`` for ``y = 0``: no cancellation and no overflow for any
    finite ``z``.  The weights ``2 s_i / Σ s`` are at most 2, so the weighted
    sum overflows only if the true deviance does.
    """
    loss = np.logaddexp(0.0, np.where(pos[:, None], -z, z))
    return (2.0 * (s / s.sum())) @ loss


def _auc(pos, z, s):
    """Weighted ROC AUC of each column of ``z`` (Mann–Whitney, ties one half).

    Each column is sorted once.  For a positive row ``i`` whose score lies in
    the group of equal scores ``[a, b]`` of the sorted column, the negative
    weight below it is ``C[a]`` and through its group ``C[b + 1]``, where ``C``
    is the cumulative negative weight with a leading 0; it contributes
    ``s_i (C[a] + C[b + 1]) / 2`` = ``s_i (below + tied / 2)``.
    """
    n, m = z.shape
    w_pos = np.where(pos, s, 0.0)
    w_neg = s - w_pos
    total_pos, total_neg = w_pos.sum(), w_neg.sum()
    if total_pos == 0 or total_neg == 0:
        return np.full(m, np.nan)
    order = np.argsort(z, axis=0, kind="stable")
    zs = np.take_along_axis(z, order, axis=0)
    rows = np.arange(n)[:, None]
    new = np.ones((n, m), dtype=bool)  # row starts a group of equal scores
    new[1:] = zs[1:] != zs[:-1]
    last = np.ones((n, m), dtype=bool)  # row ends one
    last[:-1] = new[1:]
    start = np.maximum.accumulate(np.where(new, rows, 0), axis=0)
    end = np.minimum.accumulate(np.where(last, rows, n - 1)[::-1], axis=0)[::-1]
    cum_neg = np.zeros((n + 1, m))
    np.cumsum(w_neg[order], axis=0, out=cum_neg[1:])
    below_and_tied = np.take_along_axis(cum_neg, start, axis=0) + np.take_along_axis(
        cum_neg, end + 1, axis=0
    )
    return (
        0.5
        * np.einsum("im,im->m", w_pos[order], below_and_tied)
        / (total_pos * total_neg)
    )
