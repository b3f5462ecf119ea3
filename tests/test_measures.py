"""Held-out binomial measures against scikit-learn and hand-computed values."""

import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from gpureg._measures import (
    GREATER_IS_BETTER,
    MEASURES,
    binomial_measure,
    measure_sign,
)

CASES = [
    # (n_test, n_fits, weighted, seed)
    (40, 5, False, 0),
    (97, 8, True, 1),
    (250, 3, True, 2),
]


def _problem(n, m, weighted, seed, scale=2.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.float64)
    y[:2] = [0.0, 1.0]  # both classes present
    z = scale * rng.standard_normal((n, m)) + 1.5 * (y[:, None] - 0.5)
    s = None
    if weighted:
        s = rng.uniform(0.2, 3.0, n)
        s[rng.random(n) < 0.2] = 0.0  # some rows do not count
        s[:2] = 1.0
    return y, z, s


@pytest.mark.parametrize(("n", "m", "weighted", "seed"), CASES)
def test_deviance_matches_sklearn_log_loss(n, m, weighted, seed):
    y, z, s = _problem(n, m, weighted, seed)
    got = binomial_measure(y, z, s, "deviance")
    want = [
        2 * log_loss(y, expit(z[:, j]), sample_weight=s, labels=[0, 1])
        for j in range(m)
    ]
    assert got.shape == (m,) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_deviance_ignores_zero_weight_rows():
    y, z, s = _problem(60, 4, True, 3)
    keep = s > 0
    z_bad = z.copy()
    z_bad[~keep] = np.inf  # would give inf or NaN if these rows counted
    got = binomial_measure(y, z_bad, s, "deviance")
    want = binomial_measure(y[keep], z[keep], s[keep], "deviance")
    np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize(
    ("z", "y", "s", "expected"),
    [
        # z = 800: y=1 → logloss ≈ e^-800 = 0; y=0 → 800
        ([800.0, 800.0], [1, 0], None, (0.0 + 2 * 800.0) / 2),
        # z = -800: y=1 → 800; y=0 → 0; weights 3 and 1
        ([-800.0, -800.0], [1, 0], [3.0, 1.0], (3 * 2 * 800.0 + 0.0) / 4),
        # |z| = 1e300 on the wrong side: logloss = 1e300 exactly
        ([1e300, -1e300, 1e300, -1e300], [0, 1, 1, 0], None, (2e300 + 2e300) / 4),
        # |z| = 1e308: 2 * logloss = 2e308 would overflow, the mean does not
        ([1e308, -1e308, 5.0], [0, 0, 1], None, 1e308 * (2 / 3)),
    ],
)
def test_deviance_is_stable_for_huge_logits(z, y, s, expected):
    y, z = np.asarray(y), np.asarray(z)[:, None]
    got = binomial_measure(y, z, s, "deviance")
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [expected], rtol=1e-15)
    # every case pairs each positive as often above as below a negative
    np.testing.assert_array_equal(binomial_measure(y, z, s, "auc"), [0.5])


@pytest.mark.parametrize(("n", "m", "weighted", "seed"), CASES)
def test_misclassification_matches_sklearn_accuracy(n, m, weighted, seed):
    y, z, s = _problem(n, m, weighted, seed)
    z[:5, 0] = 0.0  # on the boundary: predicted class 0
    got = binomial_measure(y.astype(int), z, s, "misclassification")
    want = [1 - accuracy_score(y, z[:, j] > 0, sample_weight=s) for j in range(m)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_misclassification_zero_logit_predicts_negative():
    y = np.array([0, 1, 1, 0])
    z = np.array([[0.0, 0.0], [0.0, 1e-300], [0.0, -1e-300], [0.0, 0.0]])
    s = np.array([1.0, 2.0, 3.0, 4.0])
    # column 0: rows 1, 2 wrong (weight 5 of 10); column 1: row 2 wrong (3 of 10)
    np.testing.assert_allclose(
        binomial_measure(y, z, s, "misclassification"), [0.5, 0.3], rtol=1e-15
    )


@pytest.mark.parametrize(("n", "m", "weighted", "seed"), CASES)
@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_auc_matches_sklearn(n, m, weighted, seed, decimals):
    y, z, s = _problem(n, m, weighted, seed)
    if decimals is not None:
        z = np.round(z, decimals)  # heavy ties (a handful of distinct scores)
    z[:, -1] = 0.0  # one fit with every score tied: AUC 1/2
    got = binomial_measure(y, z, s, "auc")
    want = [roc_auc_score(y, z[:, j], sample_weight=s) for j in range(m)]
    assert want[-1] == 0.5
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_auc_by_hand_with_ties_and_zero_weights():
    y = np.array([1, 0, 1, 0, 1, 0])
    z = np.array([[2.0], [1.0], [1.0], [0.0], [-1.0], [5.0]])
    s = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 0.0])  # the last row does not count
    # positive weights 6, negative 3.  pairs: (2 > 1, 0): 1*(2+1);
    # (1 = 1, > 0): 3*(2/2 + 1); (-1 below both): 0
    expected = (1 * 3 + 3 * (1 + 1)) / (6 * 3)
    np.testing.assert_allclose(binomial_measure(y, z, s, "auc"), [expected])
    assert roc_auc_score(y, z[:, 0], sample_weight=s) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("y", "s"),
    [
        ([1, 1, 1, 1], None),
        ([0, 0, 0, 0], [1.0, 2.0, 0.0, 1.0]),
        ([0, 1, 0, 0], [1.0, 0.0, 2.0, 1.0]),  # the only positive has weight 0
    ],
)
def test_one_class_auc_is_nan_others_defined(y, s):
    y = np.asarray(y)
    z = np.random.default_rng(4).standard_normal((4, 3))
    assert np.isnan(binomial_measure(y, z, s, "auc")).all()
    assert np.isfinite(binomial_measure(y, z, s, "deviance")).all()
    assert np.isfinite(binomial_measure(y, z, s, "misclassification")).all()


def test_measure_constants_and_sign():
    assert set(GREATER_IS_BETTER) == set(MEASURES)
    assert [measure_sign(m) for m in MEASURES] == [-1.0, -1.0, 1.0]


@pytest.mark.parametrize("measure", ["mse", "AUC", None])
def test_unknown_measure_is_rejected(measure):
    y, z, _ = _problem(10, 2, False, 0)
    with pytest.raises(ValueError, match="deviance.*misclassification.*auc"):
        binomial_measure(y, z, None, measure)
    with pytest.raises(ValueError, match="must be one of"):
        measure_sign(measure)


@pytest.mark.parametrize(
    ("y_shape", "z_shape", "s_shape", "match"),
    [
        ((10,), (9, 2), None, r"\(10,\).*\(9, 2\)"),
        ((10,), (10,), None, r"\(10,\)"),
        ((10, 1), (10, 2), None, r"\(10, 1\)"),
        ((10,), (10, 2), (9,), r"\(10,\).*\(9,\)"),
    ],
)
def test_shape_mismatch_is_rejected(y_shape, z_shape, s_shape, match):
    y = np.zeros(y_shape)
    y.flat[0] = 1
    z = np.zeros(z_shape)
    s = None if s_shape is None else np.ones(s_shape)
    with pytest.raises(ValueError, match=match):
        binomial_measure(y, z, s, "auc")


@pytest.mark.parametrize(
    ("y", "s", "z", "match"),
    [
        ([0, 2, 1], None, 0.0, "labels 0 and 1"),
        ([0, 1, 1], [1.0, -1.0, 1.0], 0.0, "non-negative"),
        ([0, 1, 1], [0.0, 0.0, 0.0], 0.0, "sums to zero"),
        ([0, 1, 1], None, np.nan, "NaN"),
    ],
)
def test_bad_values_are_rejected(y, s, z, match):
    with pytest.raises(ValueError, match=match):
        binomial_measure(np.asarray(y), np.full((3, 2), z), s, "deviance")
