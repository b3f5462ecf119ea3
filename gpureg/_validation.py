"""Input checks shared by every public entry point (the planning layer).

Every check raises ``ValueError`` (or ``TypeError`` for a wrong kind of object)
with a message that names the offending parameter.  None of them modifies the
caller's arrays: the returned arrays are new or read-only views.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Any

import numpy as np


def issparse(A) -> bool:
    """A scipy.sparse matrix or array (CSR, CSC, COO, ..., ``sparray`` too)."""
    return hasattr(A, "tocsr") and hasattr(A, "nnz")


def load_design(path) -> Any:
    """The array or scipy.sparse matrix stored at ``path`` (``.npy`` or ``.npz``).

    ``.npz``: a matrix written by ``scipy.sparse.save_npz``.
    """
    path = os.fspath(path)
    if path.lower().endswith(".npz"):
        from scipy import sparse

        return sparse.load_npz(path)
    if path.lower().endswith(".npy"):
        return np.load(path)
    raise ValueError(
        f"X as a path must name a .npy file (numpy.save) or a .npz file "
        f"(scipy.sparse.save_npz), got {path!r}."
    )


def is_device_array(A) -> bool:
    """True for a CuPy (CUDA) array: it has a CUDA array interface and ``.get()``."""
    return hasattr(A, "__cuda_array_interface__") and hasattr(A, "get")


def as_host_array(A, name: str) -> np.ndarray:
    """Convert numpy / pandas / array-likes (and CuPy, by copy) to a numpy array.

    A scipy.sparse ``A`` is a ``TypeError`` here (where it is not supported);
    :func:`check_X_y` takes a sparse X before calling this.
    """
    if A is None:
        raise ValueError(f"{name} must not be None.")
    if issparse(A):
        raise TypeError(
            f"{name} is a scipy.sparse matrix, which is not supported here"
            + (": pass a dense array" if name != "X" else "")
            + "."
        )
    if is_device_array(A):
        return A.get()
    if hasattr(A, "columns") and hasattr(A, "to_numpy"):  # a pandas DataFrame
        return check_frame(A, name)
    if hasattr(A, "to_frame") and hasattr(A, "to_numpy"):  # a pandas Series
        return check_frame(A.to_frame(), name)[:, 0]
    try:
        return np.asarray(A)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} could not be converted to an array: {exc}") from exc


def check_frame(df, name: str) -> np.ndarray:
    """A pandas DataFrame as a float64 array, each bad column named.

    Numeric columns (nullable ``Int64``/``Float64`` too) and bool columns are
    accepted; object columns holding only numbers (and ``pd.NA``) are
    converted; text, category and datetime columns are a ``TypeError``
    naming the column; missing values (NaN, ``pd.NA``) a ``ValueError``
    naming it.

    Returns
    -------
    ndarray of shape (n_rows, n_columns)
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    cols = []
    for col in df.columns:
        s = df[col]
        label = f"{name} column {col!r}" if df.shape[1] > 1 or name == "X" else name
        if not (is_numeric_dtype(s.dtype) or is_bool_dtype(s.dtype)):
            converted = None
            if s.dtype == object:
                try:
                    converted = pd.to_numeric(s, errors="raise")
                except (TypeError, ValueError):
                    converted = None
            if converted is None:
                raise TypeError(
                    f"{label} has dtype {s.dtype}: gpureg needs numeric "
                    "columns (encode or drop it first)."
                )
            s = converted
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any():
            raise ValueError(
                f"{label} has missing values (NaN or pd.NA); remove "
                "or impute them first."
            )
        cols.append(values)
    return np.column_stack(cols) if cols else np.empty((len(df), 0))


def resolve_dtype(X: np.ndarray, dtype) -> np.dtype:
    """Working precision: ``dtype`` if given, else float32 for float32 X, else f64."""
    if dtype is None:
        return np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype must be 'float32', 'float64' or None, got {dtype!r}."
        ) from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}.")
    return dt


def check_X_y(
    X, y, dtype=None, multi_output=False, accept_sparse=False
) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Validate the design matrix and target.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        2-D only with ``multi_output`` (a single column is made 1-D).
    dtype : {None, 'float32', 'float64'}
        Working precision; ``None`` follows X.
    multi_output : bool, default=False
        Accept several target columns.
    accept_sparse : bool, default=False
        Accept a scipy.sparse X (any format), returned as CSC.

    Returns
    -------
    X : ndarray or scipy.sparse.csc_matrix of shape (n_samples, n_features)
        In the working dtype; a copy whenever a conversion was needed (always
        for a sparse X).
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    dtype : numpy.dtype
    """
    sparse = accept_sparse and issparse(X)
    X = _check_sparse(X) if sparse else as_host_array(X, "X")
    y = as_host_array(y, "y")
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D of shape (n_samples, n_features), got {X.ndim}-D "
            f"with shape {X.shape}."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"X is empty: shape {X.shape}; need at least one sample and one feature."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 and not (multi_output and y.ndim == 2 and y.shape[1] > 1):
        raise ValueError(
            "y must be 1-D of shape (n_samples,)"
            + (" or 2-D (n_samples, n_targets)" if multi_output else "")
            + f", got shape {y.shape}"
            + ("" if multi_output else "; multi-output targets are not supported here")
            + "."
        )
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {X.shape[0]}, "
            f"y has {y.shape[0]}."
        )
    for name, A in (("X", X), ("y", y)):
        if A.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be numeric, got dtype {A.dtype}.")
    dt = resolve_dtype(X, dtype)
    for name, A in (("X", X.data if sparse else X), ("y", y)):
        if A.dtype.kind == "f" and not np.isfinite(A).all():
            bad = "NaN" if np.isnan(A).any() else "Inf"
            raise ValueError(f"{name} contains {bad}; remove or impute it first.")
        _check_magnitude(A, name, dt, n_samples=X.shape[0])
    X = X.astype(dt) if sparse else np.asarray(X, dtype=dt)
    y = np.asarray(y, dtype=dt)
    return X, y, dt


def _check_sparse(X):
    """A scipy.sparse X as a CSC matrix (a copy, duplicates summed, sorted).

    CSC is what the residual solver reads column by column; the copy leaves
    the user's matrix untouched.  A ``cupyx.scipy.sparse`` matrix is copied
    to the host first (the GPU backend sends it back as CSR).
    """
    import scipy.sparse as sp

    if type(X).__module__.startswith("cupyx") and hasattr(X, "get"):
        X = X.get()  # a cupyx.scipy.sparse matrix: its scipy copy on the host
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a sparse array of shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must be numeric, got dtype {X.dtype}.")
    out = sp.csc_matrix(X, copy=True)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _check_magnitude(A, name, dtype, n_samples=None):
    """Refuse values whose squares, summed over the samples, overflow ``dtype``.

    The solver forms ``Σ x²`` and ``Σ y²`` (Gram matrices, the gap's scale);
    past ``sqrt(max / n_samples) / 16`` they overflow to inf and every later
    message (an empty argmax, an infinite gap) would hide the cause.
    """
    if A.size == 0:
        return
    big = float(np.max(np.abs(A)))
    n = A.shape[0] if n_samples is None else n_samples
    limit = float(np.sqrt(np.finfo(dtype).max / max(n, 1))) / 16
    if big > limit:
        raise ValueError(
            f"{name} has entries as large as {big:.3g}: in {np.dtype(dtype).name} "
            f"their squares summed over {n} samples overflow (limit "
            f"{limit:.3g}); rescale {name}, e.g. divide it by its largest entry."
        )


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Validate sample weights: finite, non-negative, shape (n_samples,), not all 0."""
    if sample_weight is None:
        return None
    sw = as_host_array(sample_weight, "sample_weight")
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), got {sw.shape}."
        )
    if sw.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric, got dtype {sw.dtype}.")
    sw = np.asarray(sw, dtype=np.float64)
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or Inf.")
    if (sw < 0).any():
        raise ValueError("sample_weight must be non-negative; found negative values.")
    if sw.sum() <= 0:
        raise ValueError("sample_weight sums to zero; at least one must be positive.")
    return sw


def check_penalty_factor(penalty_factor, n_features: int) -> np.ndarray:
    """Validate per-feature penalty factors (default all ones; 0 = unpenalized)."""
    if penalty_factor is None:
        return np.ones(n_features)
    f = np.asarray(as_host_array(penalty_factor, "penalty_factor"), dtype=np.float64)
    if f.shape != (n_features,):
        raise ValueError(
            f"penalty_factor must have shape (n_features,) = ({n_features},), "
            f"got {f.shape}."
        )
    if not np.isfinite(f).all() or (f < 0).any():
        raise ValueError("penalty_factor must be finite and non-negative.")
    return f


def _numbers(value, name, what):
    """``value`` as a float64 array, refusing None, bools and strings."""
    if value is None:
        raise TypeError(f"{name} must be {what}, got None.")
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be {what}, got {value!r}.")
    a = np.asarray(value)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {what}, got values of dtype {a.dtype}.")
    return a.astype(np.float64)


def check_bool(value, name: str) -> bool:
    """A bool (Python or numpy); anything else, e.g. the string 'no', is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_l1_ratios(l1_ratio) -> np.ndarray:
    """Return l1_ratio as a 1-D float64 array with every value in [0, 1]."""
    r = np.atleast_1d(
        _numbers(l1_ratio, "l1_ratio", "a number in [0, 1] or a sequence of them")
    )
    if r.ndim != 1 or r.size == 0:
        raise ValueError("l1_ratio must be a number or a non-empty 1-D sequence.")
    if not np.isfinite(r).all() or (r < 0).any() or (r > 1).any():
        raise ValueError(f"l1_ratio must lie in [0, 1], got {r.tolist()}.")
    return r


def check_eps(eps) -> float:
    """``eps`` must be in the open interval (0, 1)."""
    if not isinstance(eps, Real) or not (0.0 < float(eps) < 1.0):
        raise ValueError(f"eps must be in the open interval (0, 1), got {eps!r}.")
    return float(eps)


def check_alphas(alphas) -> int | np.ndarray:
    """An int >= 1 (grid size) or a 1-D array of positive finite alphas."""
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas as a grid size must be >= 1, got {alphas}.")
        return int(alphas)
    if isinstance(alphas, (bool, np.bool_, str, bytes)) or alphas is None:
        raise TypeError(
            f"alphas must be an int (grid size) or a 1-D array of "
            f"positive values, got {alphas!r}."
        )
    a = as_host_array(alphas, "alphas")
    if a.dtype.kind not in "iuf":
        raise TypeError(f"alphas must be numbers, got values of dtype {a.dtype}.")
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    if a.ndim != 1 or a.size == 0:
        raise ValueError("alphas must be an int or a non-empty 1-D array of values.")
    if not np.isfinite(a).all():
        raise ValueError("alphas contains NaN or Inf.")
    if (a < 0).any():
        raise ValueError(f"alphas must be positive; got negative values {a[a < 0]}.")
    if (a == 0).any():
        raise ValueError(
            "alphas must be strictly positive: alpha=0 is ordinary least squares, "
            "which has no certificate here; use a small positive alpha instead."
        )
    return np.sort(a)[::-1].copy()


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """An integer >= minimum."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_tol(tol) -> float:
    """A positive finite tolerance."""
    if not isinstance(tol, Real) or not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"tol must be a positive number, got {tol!r}.")
    return float(tol)
