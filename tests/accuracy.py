"""The accuracy battery: gpureg against scikit-learn at the same ``tol``.

The accuracy contract (``docs/accuracy.md``): at equal ``tol``, every fit
gpureg returns is at least as accurate as scikit-learn's ``enet_path`` (what
``ElasticNetCV`` runs) — objective sub-optimality and relative KKT violation,
median and 90th percentile over the problems of :data:`BATTERY`.

Everything here is plain numpy/scikit-learn in float64 and independent of
gpureg's solver code: each problem is reduced to an *effective* problem that
scikit-learn's unweighted, unscaled, penalize-everything ``enet_path`` can
solve exactly —

* weights and centering: rows ``sqrt(n s_i / n_w) (x_i - x̄_s)``, so that
  scikit-learn's ``1/(2n)`` loss is gpureg's ``1/(2 n_w) Σ s_i r_i²``;
* ``standardize``: columns divided by their weighted standard deviation;
* unpenalized features (``f_j = 0``): projected out of X and y
  (Frisch–Waugh–Lovell), then recovered by least squares.

Sub-optimality is measured against the smallest objective any solver reached
(a ``tol = 1e-14`` run of each is included), relative to it; the KKT
violation is ``max_j dist(grad_j, ∂g_j(w_j)) / max_j |c_j|``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import enet_path

#: l1_ratios of every problem of the battery.
L1_RATIOS = (0.05, 0.2, 0.5, 0.8, 1.0)
#: Points per path (log-spaced from alpha_max to 1e-3 alpha_max).
N_ALPHAS = 25
TOLS = (1e-4, 1e-6)
REF_TOL = 1e-14
REF_MAX_ITER = 200_000


@dataclass
class Problem:
    """One problem of the battery (the user's view of it)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None = None
    penalty_factor: np.ndarray | None = None
    standardize: bool = False


def _toeplitz_design(n, p, rho, rng):
    idx = np.arange(p)
    cov = rho ** np.abs(idx[:, None] - idx[None, :])
    return rng.standard_normal((n, p)) @ np.linalg.cholesky(cov).T


def _response(X, rng, k=8, noise=1.0):
    beta = np.zeros(X.shape[1])
    k = min(k, X.shape[1])
    beta[:k] = rng.choice([-2.0, -1.0, 1.0, 1.5, 2.0], size=k)
    return X @ beta + 3.0 + noise * rng.standard_normal(X.shape[0])


def make_problem(name: str, seed: int = 0) -> Problem:
    """Build a problem of :data:`BATTERY` by name."""
    rng = np.random.default_rng(seed)
    kind, shape = name.rsplit("-", 1)
    n, p = (int(v) for v in shape.split("x"))
    if kind in ("toeplitz0.5", "toeplitz0.9"):
        X = _toeplitz_design(n, p, float(kind[8:]), rng) + 0.5
        return Problem(name, X, _response(X, rng))
    if kind == "duplicated":
        X = _toeplitz_design(n, p, 0.5, rng)
        X[:, p // 2:] = X[:, : p - p // 2][:, : p // 2]  # second half copies first
        return Problem(name, X, _response(X, rng))
    if kind == "weighted":
        X = _toeplitz_design(n, p, 0.7, rng)
        sw = rng.uniform(0.0, 3.0, n)
        sw[rng.choice(n, n // 10, replace=False)] = 0.0
        return Problem(name, X, _response(X, rng), sample_weight=sw)
    if kind == "standardized":
        X = _toeplitz_design(n, p, 0.7, rng) * np.logspace(-2, 2, p) + 10.0
        y = _response(X / np.logspace(-2, 2, p), rng)
        return Problem(name, X, y, standardize=True)
    if kind == "unpenalized":
        X = _toeplitz_design(n, p, 0.8, rng)
        f = np.ones(p)
        f[[0, 3, p - 1]] = 0.0
        return Problem(name, X, _response(X, rng), penalty_factor=f)
    raise ValueError(f"unknown problem {name!r}")


#: The fixed battery: n > p and p > n; Toeplitz 0.5 and 0.9; duplicated
#: columns; weights (some zero); standardization of columns on scales 1e-2..1e2;
#: unpenalized features.
BATTERY = (
    "toeplitz0.5-300x40",
    "toeplitz0.9-300x40",
    "toeplitz0.5-60x200",
    "toeplitz0.9-60x200",
    "duplicated-200x30",
    "duplicated-50x120",
    "weighted-200x30",
    "weighted-60x150",
    "standardized-200x30",
    "unpenalized-200x30",
    "unpenalized-60x150",
)


@dataclass
class Effective:
    """A problem in scikit-learn's form (see the module docstring).

    ``Xe`` has ``n_samples`` rows and the penalized columns only (after the
    unpenalized ones are projected out); ``Xs``/``ys`` are the weighted,
    centered, scaled data with every column, used to evaluate objectives.
    """

    Xs: np.ndarray
    ys: np.ndarray
    scale: np.ndarray
    x_mean: np.ndarray
    y_mean: float
    f: np.ndarray
    pen: np.ndarray
    Xe: np.ndarray
    ye: np.ndarray

    def to_user(self, w_pen):
        """A penalized-part solution of the effective problem → full ``w``.

        Parameters
        ----------
        w_pen : ndarray of shape (..., n_penalized)

        Returns
        -------
        ndarray of shape (..., n_features)
            On the solver's (scaled) coordinates.
        """
        w_pen = np.atleast_2d(w_pen)
        w = np.zeros((w_pen.shape[0], self.Xs.shape[1]))
        w[:, self.pen] = w_pen
        unpen = ~self.pen
        if unpen.any():
            R = self.ys[None, :] - w_pen @ self.Xs[:, self.pen].T
            XU = self.Xs[:, unpen]
            w[:, unpen] = np.linalg.lstsq(XU, R.T, rcond=None)[0].T
        return w


def effective(prob: Problem) -> Effective:
    """Reduce a :class:`Problem` to scikit-learn's unweighted form."""
    X, y = prob.X, prob.y
    n, p = X.shape
    s = np.ones(n) if prob.sample_weight is None else prob.sample_weight
    sn = s / s.sum()
    x_mean = sn @ X
    y_mean = float(sn @ y)
    Xc = X - x_mean
    var = sn @ (Xc * Xc)
    scale = np.sqrt(var) if prob.standardize else np.ones(p)
    root = np.sqrt(n * sn)
    Xs = Xc / scale * root[:, None]
    ys = (y - y_mean) * root
    f = np.ones(p) if prob.penalty_factor is None else prob.penalty_factor
    pen = f > 0
    Xe, ye = Xs[:, pen], ys
    if (~pen).any():
        Q, _ = np.linalg.qr(Xs[:, ~pen])
        Xe = Xe - Q @ (Q.T @ Xe)
        ye = ye - Q @ (Q.T @ ye)
    return Effective(Xs, ys, scale, x_mean, y_mean, f, pen, Xe, ye)


def alpha_path(eff: Effective, l1_ratio: float, n_alphas: int = N_ALPHAS):
    """scikit-learn's default grid for the effective problem (descending)."""
    n = eff.Xs.shape[0]
    amax = np.max(np.abs(eff.Xe.T @ eff.ye)) / (n * l1_ratio)
    return np.geomspace(amax, 1e-3 * amax, n_alphas)


def objective(eff: Effective, w, alpha, l1_ratio):
    """Objective of scaled-coordinate coefficients ``w (..., p)`` (float64)."""
    n = eff.Xs.shape[0]
    w = np.atleast_2d(w)
    r = eff.ys[None, :] - w @ eff.Xs.T
    f = eff.f
    pen = np.sum(f * (l1_ratio * np.abs(w) + 0.5 * (1 - l1_ratio) * w * w), axis=-1)
    return 0.5 * np.sum(r * r, axis=-1) / n + alpha * pen


def kkt_violation(eff: Effective, w, alpha, l1_ratio):
    """``max_j dist(grad_j, ∂g_j(w_j)) / max_j |c_j|`` of each row of ``w``."""
    n = eff.Xs.shape[0]
    w = np.atleast_2d(w)
    alpha = np.asarray(alpha, dtype=float).reshape(-1, 1)
    grad = (eff.ys[None, :] - w @ eff.Xs.T) @ eff.Xs / n
    c = np.max(np.abs(eff.Xe.T @ eff.ye)) / n
    l1 = alpha * l1_ratio * eff.f
    l2 = alpha * (1 - l1_ratio) * eff.f
    nz = w != 0
    dist = np.where(nz, np.abs(grad - l1 * np.sign(w) - l2 * w),
                    np.maximum(np.abs(grad) - l1, 0.0))
    return dist.max(axis=-1) / c


def sklearn_path(eff: Effective, alphas, l1_ratio, tol, max_iter=1000):
    """scikit-learn's ``enet_path`` (ElasticNetCV's solver) → full ``w``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, coefs, _ = enet_path(eff.Xe, eff.ye, l1_ratio=l1_ratio, alphas=alphas,
                                tol=tol, max_iter=max_iter)
    return eff.to_user(coefs.T)


def user_to_scaled(eff: Effective, coef):
    """User-scale coefficients (gpureg's output) → the solver's coordinates."""
    return np.atleast_2d(coef) * eff.scale


def measure(eff: Effective, W, alphas, l1_ratio, ref_obj):
    """(relative sub-optimality, relative KKT violation) of each row of ``W``."""
    obj = np.array([objective(eff, w, a, l1_ratio)[0] for w, a in zip(W, alphas,
                                                                      strict=True)])
    kkt = np.array([kkt_violation(eff, w, a, l1_ratio)[0] for w, a in zip(W, alphas,
                                                                         strict=True)])
    return obj, kkt


def summarize(values):
    """(median, 90th percentile)."""
    return float(np.median(values)), float(np.quantile(values, 0.9))
