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
violation is ``max_j dist(grad_j, ∂g_j(w_j)) / max_j |c_j|``.  Values below
:data:`FLOOR_SUBOPT` / :data:`FLOOR_KKT` are rounding noise and count as equal
(:class:`Accuracy`); :func:`worse_than` lists the statistics where one set of
fits is less accurate than another.
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

#: Relative sub-optimality below this is rounding noise, not accuracy.  Two
#: independent converged solvers (scikit-learn and gpureg at tol=1e-14,
#: scikit-learn at 1e-12) agree on every battery objective to <= 8e-16
#: relative; 1e-12 leaves a 1000x margin above that, yet stays below
#: scikit-learn's 90th percentile at tol=1e-6 on every problem (3e-12..3e-9;
#: medians at tol=1e-6 often reach the floor and then count as equal).
FLOOR_SUBOPT = 1e-12
#: Relative KKT violation below this is rounding noise.  Converged solutions
#: measure 1e-14..1e-12 (scikit-learn at tol=1e-12/1e-14), and up to 3e-11 for
#: gpureg's Gram form at tol=1e-14, whose gradient ``c - G w`` is accumulated
#: over many updates; 1e-9 leaves a 30x margin above that and is still 10-500x
#: below what either library reaches at tol=1e-6.
FLOOR_KKT = 1e-9


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
        X[:, p // 2 :] = X[:, : p - p // 2][:, : p // 2]  # second half copies first
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


def alpha_path(
    eff: Effective, l1_ratio: float, n_alphas: int = N_ALPHAS, eps: float = 1e-3
):
    """scikit-learn's default grid for the effective problem (descending):
    ``n_alphas`` values log-spaced from ``alpha_max`` to ``eps * alpha_max``."""
    n = eff.Xs.shape[0]
    amax = np.max(np.abs(eff.Xe.T @ eff.ye)) / (n * l1_ratio)
    return np.geomspace(amax, eps * amax, n_alphas)


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
    dist = np.where(
        nz, np.abs(grad - l1 * np.sign(w) - l2 * w), np.maximum(np.abs(grad) - l1, 0.0)
    )
    return dist.max(axis=-1) / c


def sklearn_path(
    eff: Effective, alphas, l1_ratio, tol, max_iter=1000, return_n_iter=False
):
    """scikit-learn's ``enet_path`` (ElasticNetCV's solver) → full ``w``.

    Returns
    -------
    W : ndarray of shape (n_alphas, n_features)
        On the solver's (scaled) coordinates.
    n_iter : ndarray of shape (n_alphas,)
        Epochs of each fit (only with ``return_n_iter=True``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, coefs, _, n_iter = enet_path(
            eff.Xe,
            eff.ye,
            l1_ratio=l1_ratio,
            alphas=alphas,
            tol=tol,
            max_iter=max_iter,
            return_n_iter=True,
        )
    W = eff.to_user(coefs.T)
    return (W, np.asarray(n_iter)) if return_n_iter else W


def user_to_scaled(eff: Effective, coef):
    """User-scale coefficients (gpureg's output) → the solver's coordinates."""
    return np.atleast_2d(coef) * eff.scale


def objectives(eff: Effective, W, alphas, l1_ratio):
    """Objective of each row of ``W`` at the matching alpha."""
    return np.array(
        [objective(eff, w, a, l1_ratio)[0] for w, a in zip(W, alphas, strict=True)]
    )


def kkt_violations(eff: Effective, W, alphas, l1_ratio):
    """Relative KKT violation of each row of ``W`` at the matching alpha."""
    return np.array(
        [kkt_violation(eff, w, a, l1_ratio)[0] for w, a in zip(W, alphas, strict=True)]
    )


def measure(eff: Effective, W, alphas, l1_ratio, ref_obj=None):
    """(objective, relative KKT violation) of each row of ``W``.

    ``ref_obj`` is ignored (kept for existing callers); for relative
    sub-optimalities against a reference use :func:`accuracy_of`.
    """
    return objectives(eff, W, alphas, l1_ratio), kkt_violations(
        eff, W, alphas, l1_ratio
    )


def summarize(values, floor=0.0):
    """(median, 90th percentile) of ``max(values, floor)``."""
    values = np.maximum(np.asarray(values, dtype=float), floor)
    return float(np.median(values)), float(np.quantile(values, 0.9))


@dataclass
class Accuracy:
    """Relative sub-optimality and KKT violation of a set of fits (1-D arrays)."""

    subopt: np.ndarray
    kkt: np.ndarray

    @classmethod
    def concat(cls, parts):
        """One :class:`Accuracy` of several (e.g. one per l1_ratio)."""
        parts = list(parts)
        return cls(
            np.concatenate([a.subopt for a in parts]),
            np.concatenate([a.kkt for a in parts]),
        )

    def select(self, mask):
        """The fits where ``mask`` holds."""
        return Accuracy(self.subopt[mask], self.kkt[mask])

    def stats(self):
        """``{'subopt median': …, 'subopt p90': …, 'kkt median': …, 'kkt p90': …}``,
        each floored at :data:`FLOOR_SUBOPT` / :data:`FLOOR_KKT`."""
        sm, sp = summarize(self.subopt, FLOOR_SUBOPT)
        km, kp = summarize(self.kkt, FLOOR_KKT)
        return {"subopt median": sm, "subopt p90": sp, "kkt median": km, "kkt p90": kp}


def accuracy_of(eff: Effective, W, alphas, l1_ratio, ref_obj):
    """:class:`Accuracy` of the rows of ``W``: relative sub-optimality
    ``(P(w) - ref_obj) / ref_obj`` (clipped at 0; ``ref_obj``, one per alpha,
    is the best objective known) and relative KKT violation."""
    sub = (objectives(eff, W, alphas, l1_ratio) - ref_obj) / ref_obj
    return Accuracy(np.maximum(sub, 0.0), kkt_violations(eff, W, alphas, l1_ratio))


def worse_than(ours: Accuracy, theirs: Accuracy):
    """The statistics (floored median/p90 of each measure) where ``ours`` is
    less accurate than ``theirs``, as readable strings; empty when ``ours`` is
    at least as accurate everywhere."""
    a, b = ours.stats(), theirs.stats()
    return [f"{k}: {a[k]:.3g} > {b[k]:.3g}" for k in a if a[k] > b[k]]


def format_stats(acc: Accuracy):
    """``'subopt 1.2e-11/4.6e-10  kkt 1.8e-06/2.6e-06'`` (median/p90)."""
    s = acc.stats()
    return (
        f"subopt {s['subopt median']:.1e}/{s['subopt p90']:.1e}  "
        f"kkt {s['kkt median']:.1e}/{s['kkt p90']:.1e}"
    )
