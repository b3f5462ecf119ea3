"""Bad input is refused with a message naming the problem; user arrays are safe."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

import gpureg


def _data(n=30, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + rng.uniform(-1, 1, p)
    y = X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n) + 2.0
    return X, y


def _fit(X, y, **kw):
    kw = {"l1_ratio": 0.5, "alphas": 5, "cv": 3, "backend": "cpu", **kw}
    return gpureg.fit_grid(X, y, **kw)


def _with(A, index, value):
    A = np.array(A, dtype=float)
    A[index] = value
    return A


# ------------------------------------------------------------ non-finite data
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_nonfinite_X(bad):
    X, y = _data()
    word = "NaN" if np.isnan(bad) else "Inf"
    with pytest.raises(ValueError, match=f"X contains {word}"):
        _fit(_with(X, (3, 2), bad), y)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_nonfinite_y(bad):
    X, y = _data()
    word = "NaN" if np.isnan(bad) else "Inf"
    with pytest.raises(ValueError, match=f"y contains {word}"):
        _fit(X, _with(y, 7, bad))


def test_nonfinite_in_float32_X():
    X, y = _data()
    X32 = _with(X, (0, 0), np.nan).astype(np.float32)
    with pytest.raises(ValueError, match="X contains NaN"):
        _fit(X32, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_nonfinite_sample_weight(bad):
    X, y = _data()
    sw = _with(np.ones(len(y)), 4, bad)
    with pytest.raises(ValueError, match="sample_weight contains NaN or Inf"):
        _fit(X, y, sample_weight=sw)


# ------------------------------------------------------------------- shapes
@pytest.mark.parametrize("shape", [(30,), (30, 5, 1)], ids=["1d", "3d"])
def test_X_must_be_2d(shape):
    X, y = _data()
    Xbad = np.resize(X, shape)
    with pytest.raises(ValueError, match=r"X must be 2-D"):
        _fit(Xbad, y)


def test_length_mismatch():
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples.*30.*29"):
        _fit(X, y[:-1])


def test_multi_output_y_refused_where_it_has_no_meaning():
    """fit_grid takes several targets (tests/test_many_targets.py); the path
    functions and the binomial family do not."""
    X, y = _data()
    Y = np.column_stack([y, y])
    with pytest.raises(ValueError, match="y must be 1-D.*multi-output targets"):
        gpureg.enet_path(X, Y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        _fit(X, (Y > np.median(y)).astype(int), family="binomial")
    with pytest.raises(ValueError, match=r"or 2-D \(n_samples, n_targets\)"):
        _fit(X, np.stack([Y, Y], axis=2))


def test_column_vector_y_accepted():
    X, y = _data()
    a = _fit(X, y)
    b = _fit(X, y[:, None])
    np.testing.assert_array_equal(a.coef_path, b.coef_path)


@pytest.mark.parametrize("shape", [(0, 3), (5, 0)], ids=["no-samples", "no-features"])
def test_empty_X(shape):
    X = np.zeros(shape)
    y = np.zeros(shape[0])
    with pytest.raises(ValueError, match="X is empty"):
        gpureg.fit_grid(X, y, cv=None, backend="cpu")


def test_fewer_samples_than_folds():
    X, y = _data(n=5)
    with pytest.raises(ValueError, match=r"cv=10 folds need at least 10 samples.*5"):
        _fit(X, y, cv=10)


@pytest.mark.parametrize("cv", [1, 0, -2])
def test_cv_int_below_two(cv):
    X, y = _data()
    with pytest.raises(ValueError, match="cv must be at least 2"):
        _fit(X, y, cv=cv)


def test_sparse_X_where_it_is_not_supported_yet_is_named():
    """Sparse X runs on the CPU and GPU backends (tests/test_sparse.py,
    tests/test_sparse_gpu.py); the dense numpy reference backend gives a clear
    error, never a densified copy."""
    X, y = _data()
    with pytest.raises(NotImplementedError, match="sparse X runs on backend='cpu'"):
        _fit(sp.csc_array(X), y, backend="numpy")
    with pytest.raises(TypeError, match="y is a scipy.sparse matrix"):
        _fit(X, sp.csr_matrix(y[:, None]))
    bad = sp.csr_matrix(X)
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        _fit(bad, y)


def test_non_numeric_X():
    X, y = _data()
    with pytest.raises(TypeError, match="X must be numeric"):
        _fit(X.astype(str), y)


# --------------------------------------------------------------- parameters
@pytest.mark.parametrize("l1", [1.5, -0.1, [0.5, 2.0], np.nan])
def test_l1_ratio_outside_unit_interval(l1):
    X, y = _data()
    with pytest.raises(ValueError, match=r"l1_ratio must lie in \[0, 1\]"):
        _fit(X, y, l1_ratio=l1)


def test_l1_ratio_empty():
    X, y = _data()
    with pytest.raises(ValueError, match="l1_ratio must be a number or a non-empty"):
        _fit(X, y, l1_ratio=[])


def test_negative_alphas():
    X, y = _data()
    with pytest.raises(ValueError, match="alphas must be positive"):
        _fit(X, y, alphas=[1.0, -0.1, 0.01])


def test_zero_alpha():
    X, y = _data()
    with pytest.raises(ValueError, match="strictly positive"):
        _fit(X, y, alphas=[1.0, 0.0])


@pytest.mark.parametrize("alphas", [0, -3])
def test_alpha_grid_size_below_one(alphas):
    X, y = _data()
    with pytest.raises(ValueError, match="alphas as a grid size must be >= 1"):
        _fit(X, y, alphas=alphas)


def test_nonfinite_alphas():
    X, y = _data()
    with pytest.raises(ValueError, match="alphas contains NaN or Inf"):
        _fit(X, y, alphas=[1.0, np.nan])


@pytest.mark.parametrize("eps", [0, 1, -1, 0.0, 1.0, 2.5, np.nan])
def test_eps_outside_open_unit_interval(eps):
    X, y = _data()
    with pytest.raises(ValueError, match=r"eps must be in the open interval \(0, 1\)"):
        _fit(X, y, eps=eps)


def test_negative_sample_weight():
    X, y = _data()
    sw = _with(np.ones(30), 3, -0.5)
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        _fit(X, y, sample_weight=sw)


def test_sample_weight_wrong_length_or_all_zero():
    X, y = _data()
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(30,\)"):
        _fit(X, y, sample_weight=np.ones(29))
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        _fit(X, y, sample_weight=np.zeros(30))


def test_fold_with_zero_training_weight():
    X, y = _data(n=30)
    sw = np.zeros(30)
    sw[:10] = 1.0  # KFold(3): fold 0 holds out exactly these rows
    with pytest.raises(ValueError, match="fold 0 has zero total sample weight"):
        _fit(X, y, sample_weight=sw, cv=3)


@pytest.mark.parametrize("p", [8, 100], ids=["gram", "residual"])
def test_fold_with_zero_held_out_weight_is_named(p):
    """Fold 0 holds out only zero-weight rows: its validation error is 0/0.
    (Was a TypeError in _batch.py, or 'argmax of an empty sequence'.)"""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, p))
    y = X[:, 0] + rng.standard_normal(60)
    sw = np.r_[np.zeros(20), np.ones(40)]  # KFold(3): fold 0 holds out rows 0-19
    match = "cv fold 0: its 20 held-out samples all have zero sample weight"
    with pytest.raises(ValueError, match=match):
        gpureg.fit_grid(X, y, sample_weight=sw, cv=3, alphas=5)
    for est in (
        gpureg.ElasticNetCV(cv=3, alphas=5),
        gpureg.LassoCV(cv=3, alphas=5),
        gpureg.RidgeCV(cv=3),
    ):
        with pytest.raises(ValueError, match=match):
            est.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("p", [8, 70], ids=["gram", "residual"])
def test_results_do_not_depend_on_the_scale_of_the_weights(p):
    """Multiplying every weight by a constant changes nothing.  (All-1e14
    weights zeroed every coefficient, certified: the constant-column test
    scaled with the sum of the weights.)"""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, p))
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.standard_normal(60)
    sw = rng.uniform(0.5, 2.0, 60)
    kw = dict(alphas=[0.01, 0.1], l1_ratio=[0.5, 1.0], cv=3, tol=1e-10, max_iter=20_000)
    ref = gpureg.fit_grid(X, y, sample_weight=sw, **kw)
    assert (ref.coef_path != 0).sum() > 8
    rtol = 1e-9 if p < 60 else 1e-5  # residual form: the solver's tolerance
    for scale in (1e-100, 1e-30, 1e14, 1e100):
        res = gpureg.fit_grid(X, y, sample_weight=sw * scale, **kw)
        np.testing.assert_allclose(
            res.coef_path,
            ref.coef_path,
            rtol=rtol,
            atol=rtol * np.abs(ref.coef_path).max(),
        )
        np.testing.assert_allclose(res.mse_path, ref.mse_path, rtol=rtol)
    unweighted = gpureg.fit_grid(X, y, alphas=[0.01], cv=None)
    heavy = gpureg.fit_grid(
        X, y, sample_weight=np.full(60, 1e14), alphas=[0.01], cv=None
    )
    np.testing.assert_allclose(
        heavy.coef_path, unweighted.coef_path, rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("which", ["X", "y"])
def test_values_whose_squares_overflow_are_named(which, dtype):
    """y * 1e200 gave 'argmax of an empty sequence' and overflow warnings,
    X * 1e200 'worst gap is inf'; float32 overflows far earlier."""
    X, y = _data(n=60)
    big = 1e200 if dtype is None else 1e30
    args = (X * big, y) if which == "X" else (X, y * big)
    match = f"{which} has entries as large as .* overflow"
    with pytest.raises(ValueError, match=match):
        gpureg.fit_grid(*args, dtype=dtype, alphas=5, cv=3)
    with pytest.raises(ValueError, match=match):
        gpureg.ElasticNetCV(alphas=5, cv=3).fit(
            *(a if dtype is None else a.astype(np.float32) for a in args)
        )


@pytest.mark.parametrize(
    "kw, match",
    [
        (
            dict(dtype="banana"),
            "dtype must be 'float32', 'float64' or None, got 'banana'",
        ),
        (dict(l1_ratio=None), "l1_ratio must be .*, got None"),
        (dict(l1_ratio=True), "l1_ratio must be .*, got True"),
        (dict(alphas="10"), "alphas must be .*, got '10'"),
        (dict(alphas=True), "alphas must be .*, got True"),
        (dict(fit_intercept="no"), "fit_intercept must be True or False, got 'no'"),
        (dict(standardize="yes"), "standardize must be True or False"),
        (dict(positive="no"), "positive must be True or False"),
        (dict(sample_weight=np.array(["1"] * 30)), "sample_weight must be numeric"),
    ],
)
def test_loose_inputs_are_type_errors_naming_the_parameter(kw, match):
    """'got [nan]' for None; '10', True, 'no' and string weights were
    accepted or failed elsewhere.  The same rule in fit_grid and the
    estimators, which word it as scikit-learn's parameter validation does."""
    import re

    X, y = _data()
    with pytest.raises(TypeError, match=match):
        gpureg.fit_grid(X, y, cv=3, **{"alphas": 5, **kw})
    est_kw = {"alphas": 5, **{k: a for k, a in kw.items() if k != "sample_weight"}}
    if "sample_weight" not in kw:
        ((name, value),) = kw.items()
        # bools pass scikit-learn's numeric constraints and meet gpureg's check
        match = (
            f"(The '{name}' parameter of ElasticNetCV must be .* "
            f"Got {re.escape(repr(value))} instead|{match})"
        )
    with pytest.raises(TypeError, match=match):
        gpureg.ElasticNetCV(cv=3, **est_kw).fit(
            X, y, sample_weight=kw.get("sample_weight")
        )


@pytest.mark.parametrize(
    "column, exc, match",
    [
        (["x", "y"] * 15, TypeError, "X column 's' has dtype .*numeric columns"),
        ("category", TypeError, "X column 's' has dtype category"),
        ("datetime", TypeError, "X column 's' has dtype datetime64"),
        ("Int64-NA", ValueError, "X column 's' has missing values"),
        ("object-NA", ValueError, "X column 's' has missing values"),
    ],
)
def test_dataframe_columns_are_named(column, exc, match):
    """Each bad column is named, with pd.NA treated as missing, the same in
    fit_grid and the estimators (were 'X must be numeric, got dtype object',
    'could not convert string to float', a DTypePromotionError...)."""
    pd = pytest.importorskip("pandas")
    X, y = _data()
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    df["s"] = (
        {
            "category": pd.Categorical(["a", "b"] * 15),
            "datetime": pd.date_range("2020-01-01", periods=30),
            "Int64-NA": pd.array([1, None] * 15, dtype="Int64"),
            "object-NA": np.array([1.0, pd.NA] * 15, dtype=object),
        }.get(column, column)
        if isinstance(column, str)
        else column
    )
    with pytest.raises(exc, match=match):
        gpureg.fit_grid(df, y, cv=3, alphas=5)
    with pytest.raises(exc, match=match):
        gpureg.ElasticNetCV(cv=3, alphas=5).fit(df, y)


def test_dataframe_bool_nullable_and_numeric_object_columns_are_accepted():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    df = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    df["flag"] = [True, False, False] * 10
    df["f"] = pd.array(X[:, 3], dtype="Float64")
    df["o"] = np.array(X[:, 4], dtype=object)
    ref = np.column_stack([X[:, :3], df["flag"].to_numpy(float), X[:, 3:5]])
    got = gpureg.fit_grid(df, y, cv=3, alphas=5)
    want = gpureg.fit_grid(ref, y, cv=3, alphas=5)
    np.testing.assert_array_equal(got.coef_path, want.coef_path)
    est = gpureg.ElasticNetCV(cv=3, alphas=5).fit(df, y)
    np.testing.assert_allclose(
        est.coef_, gpureg.ElasticNetCV(cv=3, alphas=5).fit(ref, y).coef_
    )


@pytest.mark.parametrize(
    "pf", [np.ones(4), np.ones(6), np.ones((5, 1))], ids=["short", "long", "2d"]
)
def test_penalty_factor_wrong_length(pf):
    X, y = _data()
    with pytest.raises(ValueError, match=r"penalty_factor must have shape"):
        _fit(X, y, penalty_factor=pf)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_penalty_factor_negative_or_nonfinite(bad):
    X, y = _data()
    with pytest.raises(ValueError, match="penalty_factor must be finite and non-neg"):
        _fit(X, y, penalty_factor=_with(np.ones(5), 1, bad))


def test_all_unpenalized_needs_explicit_alphas():
    X, y = _data()
    with pytest.raises(ValueError, match="penalty_factor is zero for every feature"):
        _fit(X, y, penalty_factor=np.zeros(5))
    # With explicit alphas it is ordinary least squares at every alpha.
    res = _fit(
        X, y, penalty_factor=np.zeros(5), alphas=[1.0, 0.1], l1_ratio=1.0, tol=1e-14
    )
    Xc = np.column_stack([np.ones(30), X])
    ols = np.linalg.lstsq(Xc, y, rcond=None)[0]
    np.testing.assert_allclose(res.coef_path[0], np.tile(ols[1:], (2, 1)), atol=1e-8)


@pytest.mark.parametrize("tol", [0, -1e-4, np.nan])
def test_bad_tol(tol):
    X, y = _data()
    with pytest.raises(ValueError, match="tol must be a positive number"):
        _fit(X, y, tol=tol)


@pytest.mark.parametrize("max_iter", [0, 2.5, True])
def test_bad_max_iter(max_iter):
    X, y = _data()
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        _fit(X, y, max_iter=max_iter)


def test_bad_dtype():
    X, y = _data()
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        _fit(X, y, dtype="float16")


@pytest.mark.parametrize("backend", ["cuda", "CPU", "", "torch"])
def test_bad_backend_name(backend):
    X, y = _data()
    with pytest.raises(ValueError, match="backend must be one of"):
        _fit(X, y, backend=backend)


def test_gpu_backend_without_cupy_names_what_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if not installed
    X, y = _data()
    with pytest.raises(RuntimeError) as info:
        _fit(X, y, backend="gpu")
    msg = str(info.value)
    assert "backend='gpu'" in msg
    assert "CuPy is not importable" in msg
    assert "gpureg[gpu]" in msg


def test_auto_backend_runs_on_cpu_without_gpu():
    X, y = _data()
    res = _fit(X, y, backend="auto")
    assert res.backend in ("cpu", "gpu")
    ref = _fit(X, y, backend="cpu")
    if res.backend == "cpu":
        np.testing.assert_array_equal(res.coef_path, ref.coef_path)


# ----------------------------------------------------- caller's arrays intact
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(40, 8), (12, 30)], ids=["n>p", "p>n"])
def test_user_arrays_are_never_modified(shape, dtype, order):
    n, p = shape
    X, y = _data(n, p, seed=3)
    X = np.asarray(X, dtype=dtype, order=order)
    y = y.astype(dtype)
    rng = np.random.default_rng(4)
    sw = rng.uniform(0.1, 2.0, n).astype(dtype)
    pf = rng.uniform(0.5, 2.0, p).astype(dtype)
    pf[0] = 0.0
    copies = [A.copy(order="K") for A in (X, y, sw, pf)]
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=[0.0, 0.5, 1.0],
        alphas=5,
        eps=1e-2,
        cv=3,
        standardize=True,
        sample_weight=sw,
        penalty_factor=pf,
        backend="cpu",
    )
    for A, A0 in zip((X, y, sw, pf), copies, strict=True):
        assert A.dtype == A0.dtype and A.flags.f_contiguous == A0.flags.f_contiguous
        np.testing.assert_array_equal(A, A0)
    assert res.coef_path.dtype == dtype
    assert np.isfinite(res.mse_path).all()


@pytest.mark.parametrize("shape", [(40, 8), (12, 30)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_read_only_inputs_work(shape, order):
    n, p = shape
    X, y = _data(n, p, seed=5)
    X = np.asarray(X, order=order)
    sw = np.linspace(0.5, 1.5, n)
    pf = np.linspace(0.5, 1.5, p)
    kw = dict(
        l1_ratio=[0.5, 1.0],
        alphas=5,
        eps=1e-2,
        cv=3,
        standardize=True,
        max_iter=20000,
        backend="cpu",
    )
    ref = gpureg.fit_grid(X, y, sample_weight=sw, penalty_factor=pf, **kw)
    arrays = [A.copy(order="K") for A in (X, y, sw, pf)]
    for A in arrays:
        A.flags.writeable = False
    Xr, yr, swr, pfr = arrays
    res = gpureg.fit_grid(Xr, yr, sample_weight=swr, penalty_factor=pfr, **kw)
    np.testing.assert_allclose(res.coef_path, ref.coef_path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.mse_path, ref.mse_path, rtol=1e-12)
    assert not any(A.flags.writeable for A in arrays)


@pytest.mark.parametrize("shape", [(40, 8), (12, 30)], ids=["n>p", "p>n"])
def test_read_only_inputs_compile_nothing_new(shape):
    # a read-only X or penalty_factor reaching numba would compile the whole
    # solver again (~30 s) for that array type
    from gpureg.backends import _numba

    n, p = shape
    X, y = _data(n, p, seed=7)
    X = np.asfortranarray(X)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=5, cv=3, backend="cpu")
    gpureg.fit_grid(X, y, **kw)
    jobs = _numba._gram_path if n > p else _numba._residual_path
    before = len(jobs.signatures)
    Xr, pf = X.copy(order="F"), np.ones(p)
    Xr.flags.writeable = False
    pf.flags.writeable = False
    gpureg.fit_grid(Xr, y, penalty_factor=pf, **kw)
    assert len(jobs.signatures) == before
    assert not Xr.flags.writeable and not pf.flags.writeable


def test_pandas_input_equals_numpy():
    pd = pytest.importorskip("pandas")
    X, y = _data(40, 6, seed=6)
    sw = np.linspace(0.5, 2.0, 40)
    cols = [f"f{j}" for j in range(6)]
    Xdf = pd.DataFrame(X, columns=cols, index=np.arange(100, 140))
    ys = pd.Series(y, index=Xdf.index, name="target")
    sws = pd.Series(sw, index=Xdf.index)
    pfs = pd.Series(np.linspace(0.5, 1.5, 6), index=cols)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=8, cv=4, backend="cpu")
    a = gpureg.fit_grid(Xdf, ys, sample_weight=sws, penalty_factor=pfs, **kw)
    b = gpureg.fit_grid(X, y, sample_weight=sw, penalty_factor=pfs.to_numpy(), **kw)
    # A DataFrame's values may come back in another memory order: equal up to
    # BLAS rounding, not bit for bit.
    np.testing.assert_allclose(a.coef_path, b.coef_path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.intercept_path, b.intercept_path, rtol=1e-12)
    np.testing.assert_allclose(a.mse_path, b.mse_path, rtol=1e-12)
    np.testing.assert_allclose(a.alphas, b.alphas, rtol=1e-13)
    assert a.best_index_ == b.best_index_ and a.index_1se_ == b.index_1se_
    assert a.alpha_ == pytest.approx(b.alpha_, rel=1e-13)
    assert a.l1_ratio_ == b.l1_ratio_
    # Integer-valued DataFrame columns are converted, not refused.
    Xint = pd.DataFrame(np.rint(X * 10).astype(np.int64), columns=cols)
    c = gpureg.fit_grid(Xint, ys.to_numpy(), **kw)
    d = gpureg.fit_grid(np.rint(X * 10), y, **kw)
    np.testing.assert_allclose(c.coef_path, d.coef_path, rtol=1e-12, atol=1e-14)
    assert c.coef_path.dtype == np.float64


def test_group_splitters_get_the_groups():
    """GroupKFold as cv failed: groups were never passed.  Now fit_grid, the
    CV estimators and RidgeCV take groups=, and forgetting them is named."""
    from sklearn.model_selection import GroupKFold

    X, y = _data(n=60)
    groups = np.repeat(np.arange(6), 10)
    res = gpureg.fit_grid(X, y, cv=GroupKFold(3), groups=groups, alphas=5)
    folds = list(GroupKFold(3).split(X, y, groups))
    explicit = gpureg.fit_grid(X, y, cv=folds, alphas=5)
    np.testing.assert_array_equal(res.mse_path, explicit.mse_path)
    est = gpureg.ElasticNetCV(cv=GroupKFold(3), alphas=5).fit(X, y, groups=groups)
    np.testing.assert_allclose(est.mse_path_, explicit.mse_path[0])
    ridge = gpureg.RidgeCV(cv=GroupKFold(3)).fit(X, y, groups=groups)
    assert ridge.alpha_ == gpureg.RidgeCV(cv=folds).fit(X, y).alpha_
    with pytest.raises(ValueError, match="splits by group: pass groups="):
        gpureg.fit_grid(X, y, cv=GroupKFold(3), alphas=5)
    with pytest.raises(ValueError, match=r"groups must have shape \(60,\)"):
        gpureg.fit_grid(X, y, cv=GroupKFold(3), groups=groups[:-1], alphas=5)
