"""Per-training-set statistics: centering, scaling and the shared Gram matrices.

A grid with K folds has ``K + 1`` *training sets*: the K fold complements first,
then the full data (DESIGN.md §3 puts the fold axis first).  Every fit of a
training set shares its statistics, computed here once:

* Gram form (``n_samples >= n_features``): ``G = X̃ᵀ S X̃ / n_w`` and
  ``c = X̃ᵀ S ỹ / n_w``.  X is centered once with the full-data means, the full
  Gram is one GEMM, and each fold's Gram is the full one minus the held-out
  rows' (``G_train = G_full - G_test``), then re-centered by a rank-one update.
* Residual form (``n_features > n_samples``): X is kept as given and each
  training set is a vector of normalized weights ``s_i [i in train] / n_w``,
  with its column means and scales.

``X̃`` is X centered by the training set's weighted means (when
``fit_intercept``) and, with ``standardize``, divided by the weighted standard
deviations (glmnet's convention).  Constant columns are detected as
scikit-learn does and get a zero Gram row, so their coefficient stays 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrainingStats:
    """What every training set needs to map a solution back to the user's scale.

    Attributes
    ----------
    n_weight : ndarray of shape (n_sets,)
        ``n_w = Σ s_i`` over the training rows.
    x_mean : ndarray of shape (n_sets, n_features)
        Weighted column means (zeros without an intercept).
    y_mean : ndarray of shape (n_sets,)
    x_scale : ndarray of shape (n_sets, n_features)
        Column scales used by ``standardize`` (ones otherwise).
    yy : ndarray of shape (n_sets,)
        ``Σ s_i ỹ_i² / n_w``: the stopping threshold is ``tol * yy``.
    c : ndarray of shape (n_sets, n_features)
        ``X̃ᵀ S ỹ / n_w`` on the solver's scale (float64).
    """

    n_weight: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    x_scale: np.ndarray
    yy: np.ndarray
    c: np.ndarray

    @property
    def n_sets(self) -> int:
        """Number of training sets."""
        return self.yy.shape[0]


@dataclass
class GramBatch:
    """Gram-form problems (covariance updates), one Gram per training set.

    Attributes
    ----------
    stats : TrainingStats
        ``stats.c`` holds ``X̃ᵀ S ỹ / n_w`` of every set (float64).
    G : ndarray of shape (n_sets, n_features, n_features)
        Centered, scaled, weight-normalized Gram matrices in the working dtype.
    """

    stats: TrainingStats
    G: np.ndarray
    #: Per fold: (held-out row mask, (G_o, c_o, yy_o, Σ s x0, Σ s y0, Σ s)) of the
    #: rows the training set leaves out, in the coordinates ``x0 = x - center[0]``,
    #: ``y0 = y - center[1]``; None where a training set leaves nothing out.
    blocks: list = field(default_factory=list)
    center: tuple = (0.0, 0.0)

    @property
    def n_features(self) -> int:
        """Number of features."""
        return self.G.shape[-1]

    def heldout_sse(self, t: int, test_mask: np.ndarray, coef: np.ndarray,
                    intercept: np.ndarray):
        """Weighted held-out sums of squared errors from the held-out Gram block.

        ``Σ_o s (y0 - x0ᵀu - β)² = yy_o - 2 uᵀc_o + uᵀG_o u - 2β(Σ s y0 - uᵀΣ s x0)
        + β² Σ s`` with ``β = b - y_center + x_centerᵀu``: half the flops of
        predicting the held-out rows, and no copy of them.

        Parameters
        ----------
        t : int
            Fold index.
        test_mask : ndarray of shape (n_samples,) of bool
            The fold's test rows; the block is used only if they are exactly
            the rows the training set leaves out.
        coef : ndarray of shape (n_fits, n_features)
            Coefficients on the original scale.
        intercept : ndarray of shape (n_fits,)

        Returns
        -------
        sse : ndarray of shape (n_fits,) or None
            None when the block does not apply.  Entries whose value is lost
            to cancellation (below 1e-6 of the terms summed) are NaN: the
            caller recomputes those directly.
        """
        if t >= len(self.blocks) or self.blocks[t] is None:
            return None
        rows, (G_o, c_o, yy_o, sx_o, sy_o, n_o) = self.blocks[t]
        if not np.array_equal(rows, test_mask):
            return None
        beta = intercept - self.center[1] + coef @ self.center[0]
        uGu = np.einsum("kj,kj->k", coef @ G_o, coef)
        uc = coef @ c_o
        B = sy_o - coef @ sx_o
        sse = yy_o - 2.0 * uc + uGu - 2.0 * beta * B + beta * beta * n_o
        scale = yy_o + 2.0 * np.abs(uc) + uGu + 2.0 * np.abs(beta * B) + beta**2 * n_o
        return np.where(sse > 1e-6 * scale, sse, np.nan)

    def grad_rnorm2(self, t: int, w: np.ndarray):
        """Exact gradient and residual norm of training set ``t`` (float64).

        Parameters
        ----------
        t : int
        w : ndarray of shape (..., n_features)

        Returns
        -------
        grad : ndarray of shape (..., n_features)
            ``c - G w``.
        rnorm2 : ndarray of shape (...)
            ``yy - 2 cᵀw + wᵀ G w``.
        """
        G = np.asarray(self.G[t], dtype=np.float64)
        c = self.stats.c[t]
        q = w @ G
        grad = c - q
        rnorm2 = self.stats.yy[t] - 2.0 * (w @ c) + np.sum(w * q, axis=-1)
        return grad, np.maximum(rnorm2, 0.0)


@dataclass
class ResidualBatch:
    """Residual-form problems (``n_features > n_samples``) over a shared X.

    Attributes
    ----------
    stats : TrainingStats
    X : ndarray of shape (n_samples, n_features)
        The user's X in the working dtype, column-major (no copy per set).
    y_centered : ndarray of shape (n_sets, n_samples)
        ``y - y_mean[t]`` (float64).
    sw : ndarray of shape (n_sets, n_samples)
        Normalized training weights ``s_i [i in train_t] / n_w[t]`` (float64).
    hdiag : ndarray of shape (n_sets, n_features)
        Diagonal of the scaled Gram, ``Σ_i sw_i x̃_ij²`` (0 for constant columns).
    """

    stats: TrainingStats
    X: np.ndarray
    y_centered: np.ndarray
    sw: np.ndarray
    hdiag: np.ndarray

    @property
    def n_features(self) -> int:
        """Number of features."""
        return self.X.shape[1]

    def design(self, t: int) -> np.ndarray:
        """``X̃`` of training set ``t``: centered, scaled, constants zeroed (float64).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        Xt = (np.asarray(self.X, dtype=np.float64) - self.stats.x_mean[t])
        Xt /= self.stats.x_scale[t]
        Xt[:, self.hdiag[t] == 0] = 0.0
        return Xt

    def grad_rnorm2(self, t: int, w: np.ndarray):
        """Exact gradient and residual norm of training set ``t`` (float64).

        Parameters
        ----------
        t : int
        w : ndarray of shape (..., n_features)

        Returns
        -------
        grad : ndarray of shape (..., n_features)
            ``X̃ᵀ S r / n_w``.
        rnorm2 : ndarray of shape (...)
            ``rᵀ S r / n_w`` with ``r = ỹ - X̃ w``.
        """
        Xt = self.design(t)
        r = self.y_centered[t] - w @ Xt.T
        swr = r * self.sw[t]
        return swr @ Xt, np.sum(swr * r, axis=-1)


def training_weights(n_samples: int, folds, sample_weight) -> np.ndarray:
    """Weights of every training set, held-out rows zeroed.

    Returns
    -------
    ndarray of shape (n_folds + 1, n_samples)
        Row ``t < n_folds`` is fold t's training set, the last row the full data.
    """
    s = np.ones(n_samples) if sample_weight is None else sample_weight
    W = np.zeros((len(folds) + 1, n_samples))
    for t, (train, _) in enumerate(folds):
        W[t, train] = s[train]
    W[-1] = s
    if (W.sum(axis=1) <= 0).any():
        bad = int(np.flatnonzero(W.sum(axis=1) <= 0)[0])
        raise ValueError(f"training set of fold {bad} has zero total sample weight.")
    return W


def _constant_columns(var: np.ndarray, mean: np.ndarray, n: float) -> np.ndarray:
    """scikit-learn's test for a numerically constant column."""
    eps = np.finfo(np.float64).eps
    upper = n * eps * var + (n * mean * eps) ** 2
    return var <= upper


def _finish(G_raw, c_raw, yy_raw, sx, sy, n_w, mu0, my0, fit_intercept, standardize):
    """Center one training set by a rank-one update, detect constants, scale."""
    m = sx / n_w
    my = sy / n_w
    G = G_raw / n_w
    c = c_raw / n_w
    yy = yy_raw / n_w
    if fit_intercept:
        # G -= m mᵀ  (rank-one re-centering by the training set's own means)
        G -= m[:, None] * m[None, :]
        c -= m * my
        yy -= my * my
    var = np.diag(G).copy()
    const = _constant_columns(var, mu0 + m if fit_intercept else 0 * m, n_w)
    if not fit_intercept:
        const &= var == 0  # without centering only all-zero columns are inert
    scale = np.ones_like(var)
    if standardize:
        scale = np.where(const, 1.0, np.sqrt(np.maximum(var, 0.0)))
        G /= np.outer(scale, scale)
        c /= scale
    G[const, :] = 0.0
    G[:, const] = 0.0
    c[const] = 0.0
    x_mean = mu0 + m if fit_intercept else np.zeros_like(m)
    y_mean = my0 + my if fit_intercept else 0.0
    return G, c, max(yy, 0.0), x_mean, y_mean, scale


def build_gram_batch(X, y, W, *, fit_intercept, standardize, dtype) -> GramBatch:
    """Gram matrices of every training set from one pass of GEMMs over X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    W : ndarray of shape (n_sets, n_samples)
        Training weights from :func:`training_weights` (last row: full data).
    fit_intercept, standardize : bool
    dtype : numpy.dtype
        Storage precision of G; statistics are accumulated in float64.

    Returns
    -------
    GramBatch
    """
    n_sets = W.shape[0]
    n_features = X.shape[1]
    s_full = W[-1]
    n_full = s_full.sum()
    # Center once with the full-data means so that fold corrections are small.
    if fit_intercept:
        mu0 = (s_full @ X) / n_full
        my0 = float(s_full @ y) / n_full
    else:
        mu0 = np.zeros(n_features)
        my0 = 0.0
    X0 = np.asarray(X, dtype=np.float64) - mu0
    y0 = np.asarray(y, dtype=np.float64) - my0
    sq = np.sqrt(s_full)
    Xs = X0 * sq[:, None] if not np.all(s_full == 1.0) else X0
    ys = y0 * sq
    # Held-out blocks: the sufficient statistics of the rows each training set
    # leaves out (one small GEMM each); every training set is "full minus its
    # block".  When the blocks partition the rows (KFold) the full Gram is
    # their sum, so X is read once.
    held_out = (W[:-1] == 0) & (s_full > 0)
    blocks = [None] * (n_sets - 1)
    for t in range(n_sets - 1):
        rows = np.flatnonzero(held_out[t])
        if rows.size:
            if rows[-1] - rows[0] + 1 == rows.size:  # contiguous (KFold): a view
                rows = slice(rows[0], rows[-1] + 1)
            Xo, yo, so = Xs[rows], ys[rows], sq[rows]
            # (G_out, c_out, yy_out, Σ s x0, Σ s y0) over the held-out rows
            blocks[t] = (Xo.T @ Xo, Xo.T @ yo, float(yo @ yo), so @ Xo,
                         float(so @ yo), float(so @ so))
    if n_sets > 1 and (held_out.sum(axis=0)[s_full > 0] == 1).all():
        G_full = np.sum([b[0] for b in blocks], axis=0)
    else:
        G_full = Xs.T @ Xs
    full = (G_full, Xs.T @ ys, float(ys @ ys), sq @ Xs, float(sq @ ys), n_full)

    G = np.empty((n_sets, n_features, n_features), dtype=dtype)
    c = np.empty((n_sets, n_features))
    stats = TrainingStats(
        n_weight=W.sum(axis=1),
        x_mean=np.zeros((n_sets, n_features)),
        y_mean=np.zeros(n_sets),
        x_scale=np.ones((n_sets, n_features)),
        yy=np.zeros(n_sets),
        c=c,
    )
    for t in range(n_sets):
        if t == n_sets - 1 or blocks[t] is None:
            Gr, cr, yyr, sx, sy, _ = full
        else:
            # training set = full data minus the held-out block
            Gr, cr, yyr, sx, sy, _ = (a - b for a, b in zip(full, blocks[t],
                                                             strict=True))
        Gt, ct, yyt, xm, ym, sc = _finish(
            Gr, cr, yyr, sx, sy, W[t].sum(), mu0, my0, fit_intercept, standardize
        )
        G[t] = Gt
        c[t] = ct
        stats.yy[t] = yyt
        stats.x_mean[t] = xm
        stats.y_mean[t] = ym
        stats.x_scale[t] = sc
    kept = [None if b is None else (held_out[t].copy(), b)
            for t, b in enumerate(blocks)]
    return GramBatch(stats=stats, G=G, blocks=kept, center=(mu0, my0))


def build_residual_batch(X, y, W, *, fit_intercept, standardize,
                         dtype) -> ResidualBatch:
    """Per-training-set weights, means and scales over one shared X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    W : ndarray of shape (n_sets, n_samples)
    fit_intercept, standardize : bool
    dtype : numpy.dtype

    Returns
    -------
    ResidualBatch
    """
    n_sets, n_samples = W.shape
    n_features = X.shape[1]
    Xd = np.asfortranarray(X, dtype=dtype)
    X64 = np.asarray(X, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    n_w = W.sum(axis=1)
    sw = W / n_w[:, None]
    if fit_intercept:
        x_mean = sw @ X64
        y_mean = sw @ y64
    else:
        x_mean = np.zeros((n_sets, n_features))
        y_mean = np.zeros(n_sets)
    x_scale = np.ones((n_sets, n_features))
    hdiag = np.empty((n_sets, n_features))
    c = np.empty((n_sets, n_features))
    y_centered = y64[None, :] - y_mean[:, None]
    yy = np.einsum("ti,ti->t", sw, y_centered**2)
    for t in range(n_sets):
        Xc = X64 - x_mean[t]
        var = sw[t] @ (Xc * Xc)
        const = _constant_columns(var, x_mean[t], n_w[t])
        if not fit_intercept:
            const &= var == 0
        if standardize:
            x_scale[t] = np.where(const, 1.0, np.sqrt(var))
        hdiag[t] = np.where(const, 0.0, var / x_scale[t] ** 2)
        c[t] = np.where(const, 0.0, ((sw[t] * y_centered[t]) @ Xc) / x_scale[t])
    stats = TrainingStats(
        n_weight=n_w, x_mean=x_mean, y_mean=y_mean, x_scale=x_scale, yy=yy, c=c
    )
    return ResidualBatch(stats=stats, X=Xd, y_centered=y_centered, sw=sw, hdiag=hdiag)
