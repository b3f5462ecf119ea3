"""Per-training-set statistics: centering, scaling and the shared Gram matrices.

A grid with K folds has ``K + 1`` *training sets*: the K fold complements first,
then the full data (docs/design.md §3 puts the fold axis first).  Every fit of a
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

from dataclasses import dataclass, field, fields, replace

import numpy as np

from ._interrupt import check_stop
from ._validation import issparse


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

    def subset(self, sets: slice) -> TrainingStats:
        """The statistics of training sets ``sets`` (views, no copy)."""
        return replace(self, **_cut(self, sets, *(f.name for f in fields(self))))


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
    #: Array module of ``G`` and of the blocks: numpy, or cupy when the GPU
    #: backend built them on the device (``stats`` is always numpy).
    xp: object = np

    @property
    def n_features(self) -> int:
        """Number of features."""
        return self.G.shape[-1]

    def subset(self, sets: slice) -> GramBatch:
        """The problems of training sets ``sets``, for solving (views, no copy).

        The held-out blocks are left out: score with the whole batch.
        """
        return replace(self, stats=self.stats.subset(sets), G=self.G[sets], blocks=[])

    def heldout_sse(
        self, t: int, test_mask: np.ndarray, coef: np.ndarray, intercept: np.ndarray
    ):
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
        xp = self.xp
        coef_d = xp.asarray(coef)
        # uᵀ G_o u: one GEMM where G_o lives (the device for the GPU backend)
        uGu = _to_host(xp, xp.sum((coef_d @ G_o) * coef_d, axis=1))
        uc = _to_host(xp, coef_d @ c_o)
        B = sy_o - _to_host(xp, coef_d @ sx_o)
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
        xp = self.xp
        G = self.G[t]
        if G.dtype != np.float64:
            G = G.astype(np.float64)
        c = self.stats.c[t]
        w = np.asarray(w, dtype=np.float64)
        q = _to_host(xp, xp.asarray(w) @ G)  # on the device when G lives there
        grad = c - q
        rnorm2 = self.stats.yy[t] - 2.0 * (w @ c) + np.sum(w * q, axis=-1)
        return grad, np.maximum(rnorm2, 0.0)


@dataclass
class ResidualBatch:
    """Residual-form problems (``n_features > n_samples``) over a shared X.

    Attributes
    ----------
    stats : TrainingStats
    X : ndarray or scipy.sparse.csc_matrix of shape (n_samples, n_features)
        The user's X in the working dtype, column-major (no copy per set);
        a sparse X stays sparse (CSC), centered and scaled implicitly.
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

    @property
    def sparse(self) -> bool:
        """X is a scipy.sparse CSC matrix."""
        return issparse(self.X)

    def subset(self, sets: slice) -> ResidualBatch:
        """The problems of training sets ``sets`` over the same X (views, no copy)."""
        cut = _cut(self, sets, "y_centered", "sw", "hdiag")
        return replace(self, stats=self.stats.subset(sets), **cut)

    def design(self, t: int) -> np.ndarray:
        """``X̃`` of training set ``t``: centered, scaled, constants zeroed (float64).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        if self.sparse:
            raise TypeError("a sparse X is never densified; use grad_rnorm2")
        Xt = np.asarray(self.X, dtype=np.float64) - self.stats.x_mean[t]
        Xt /= self.stats.x_scale[t]
        Xt[:, self.hdiag[t] == 0] = 0.0
        return Xt

    def grad_rnorm2(self, t: int, w: np.ndarray):
        """Exact gradient and residual norm of training set ``t`` (float64).

        As :meth:`GramBatch.grad_rnorm2`, from the design: ``grad = X̃ᵀ S r / n_w``
        and ``rnorm2 = rᵀ S r / n_w`` with ``r = ỹ - X̃ w``.
        """
        if self.sparse:  # X̃ w = X (w / σ) - x̄ᵀ(w / σ), constants zeroed
            st = self.stats
            u = np.where(self.hdiag[t] > 0, w / st.x_scale[t], 0.0)
            r = self.y_centered[t] - ((self.X @ u.T).T - (u @ st.x_mean[t])[..., None])
            swr = r * self.sw[t]
            g = (self.X.T @ swr.T).T - np.sum(swr, axis=-1)[..., None] * st.x_mean[t]
            g = np.where(self.hdiag[t] > 0, g / st.x_scale[t], 0.0)
            return g, np.sum(swr * r, axis=-1)
        Xt = self.design(t)
        r = self.y_centered[t] - w @ Xt.T
        swr = r * self.sw[t]
        return swr @ Xt, np.sum(swr * r, axis=-1)


def _cut(obj, sets: slice, *names: str) -> dict:
    """The fields ``names`` of ``obj`` cut to training sets ``sets`` (views).

    Each of them holds one entry per training set along its first axis; the
    result, by field name, is meant for :func:`dataclasses.replace`.
    """
    return {name: getattr(obj, name)[sets] for name in names}


def _to_host(xp, a):
    """A numpy copy of ``a`` (no copy when ``xp`` is numpy)."""
    return a if xp is np else xp.asnumpy(a)


def training_weights(n_samples: int, folds, sample_weight) -> np.ndarray:
    """Weights of every training set, held-out rows zeroed.

    Raises
    ------
    ValueError
        When a training set, or the held-out rows of a fold, weigh nothing.

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
    for t, (_, test) in enumerate(folds):
        if not s[test].sum() > 0:
            raise ValueError(
                f"cv fold {t}: its {test.size} held-out samples all have zero sample "
                "weight, so its validation error is undefined; use folds that hold "
                "out weighted samples (e.g. KFold(shuffle=True)) or drop the "
                "zero-weight rows."
            )
    return W


def _constant_columns(var: np.ndarray, mean: np.ndarray, n: float) -> np.ndarray:
    """scikit-learn's test for a numerically constant column (numpy or cupy).

    ``n`` is the number of rows (weighted ones), as scikit-learn's
    ``X.shape[0]``: never the sum of the weights, which would make the test
    depend on their scale (all-1e14 weights zeroed every column).
    """
    eps = np.finfo(np.float64).eps
    upper = n * eps * var + (n * mean * eps) ** 2
    return var <= upper


def _finish(
    G_raw,
    c_raw,
    yy_raw,
    sx,
    sy,
    n_w,
    n_rows,
    mu0,
    my0,
    fit_intercept,
    standardize,
    xp=np,
):
    """Center one training set by a rank-one update, detect constants, scale.

    ``G_raw``, ``c_raw``, ``sx`` and ``mu0`` live in ``xp`` (numpy or cupy);
    the returned G is there too, everything else is numpy.  The target parts
    have a trailing target axis: ``c_raw`` ``(n_features, k)``, ``yy_raw``,
    ``sy`` and ``my0`` ``(k,)``, and so have ``c``, ``yy`` and ``y_mean``.
    """
    m = sx / n_w
    my = sy / n_w  # (k,): one per target
    G = G_raw / n_w
    c = c_raw / n_w  # (n_features, k)
    yy = yy_raw / n_w
    if fit_intercept:
        # G -= m mᵀ  (rank-one re-centering by the training set's own means)
        G -= m[:, None] * m[None, :]
        c -= m[:, None] * xp.asarray(my)[None, :]
        yy -= my * my
    var = xp.diag(G).copy()
    const = _constant_columns(var, mu0 + m if fit_intercept else 0 * m, n_rows)
    if not fit_intercept:
        const &= var == 0  # without centering only all-zero columns are inert
    scale = xp.ones_like(var)
    if standardize:
        scale = xp.where(const, 1.0, xp.sqrt(xp.maximum(var, 0.0)))
        G /= scale[:, None] * scale[None, :]
        c /= scale[:, None]
    keep = (~const).astype(G.dtype)
    G *= keep[:, None] * keep[None, :]  # zero the rows and columns of constants
    c *= keep[:, None]
    x_mean = mu0 + m if fit_intercept else xp.zeros_like(m)
    y_mean = my0 + my if fit_intercept else np.zeros_like(my)
    return (
        G,
        _to_host(xp, c),
        np.maximum(yy, 0.0),
        _to_host(xp, x_mean),
        y_mean,
        _to_host(xp, scale),
    )


def _heldout_blocks(Xs, ys, sq, held_out, xp):
    """Sufficient statistics of the rows each training set leaves out.

    One small GEMM per fold over its held-out rows of the centered,
    weight-scaled ``Xs`` and ``ys``: ``(G_out, c_out, yy_out, Σ s x0, Σ s y0,
    Σ s)``, or None for a set that leaves nothing out.
    """
    blocks = [None] * held_out.shape[0]
    for t in range(held_out.shape[0]):
        check_stop()
        rows = np.flatnonzero(held_out[t])
        if not rows.size:
            continue
        if rows[-1] - rows[0] + 1 == rows.size:  # contiguous (KFold): a view
            rows = slice(int(rows[0]), int(rows[-1]) + 1)
        else:
            rows = xp.asarray(rows)
        Xo, yo, so = Xs[rows], ys[rows], sq[rows]  # yo: (n_out, k)
        blocks[t] = (
            _dense(Xo.T @ Xo),
            np.asarray(Xo.T @ yo),
            _to_host(xp, (yo * yo).sum(axis=0)),
            np.asarray(Xo.T @ so) if issparse(Xo) else so @ Xo,
            _to_host(xp, so @ yo),
            float(so @ so),
        )
    return blocks


def build_gram_batch(X, y, W, *, fit_intercept, standardize, dtype, xp=np):
    """Gram matrices of every training set from one pass of GEMMs over X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        numpy, or already on the device when ``xp`` is cupy.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    W : ndarray of shape (n_sets, n_samples)
        Training weights from :func:`training_weights` (last row: full data).
    fit_intercept, standardize : bool
    dtype : numpy.dtype
        Storage precision of G; statistics are accumulated in float64.
    xp : module, default=numpy
        Where the GEMMs run and G is kept: numpy, or cupy for the GPU backend
        (X goes to the device once; only per-set vectors come back).

    Returns
    -------
    GramBatch, or list of GramBatch
        One per target when y is 2-D: they share ``G`` (the same array) and
        the held-out Gram blocks; only ``stats``' target parts (``c``, ``yy``,
        ``y_mean``) and the blocks' target parts differ.
    """
    n_sets = W.shape[0]
    n_features = X.shape[1]
    s_full = W[-1]
    n_full = s_full.sum()
    sparse = issparse(X)
    if not sparse:
        X = xp.asarray(X, dtype=np.float64)
    Y = xp.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    s_full_d = xp.asarray(s_full)
    # Center once with the full-data means so that fold corrections are small
    # (a sparse X is not centered: its Grams are centered by the rank-one
    # update of _finish alone, and stay dense only once they are p × p).
    if fit_intercept:
        mu0 = (s_full_d @ X) / n_full if not sparse else np.zeros(n_features)
        my0 = _to_host(xp, s_full_d @ Y) / n_full
    else:
        mu0 = xp.zeros(n_features)
        my0 = np.zeros(Y.shape[1])
    sq = xp.sqrt(s_full_d)
    if sparse:
        X0 = X.tocsr().astype(np.float64)
        Xs = X0.multiply(sq[:, None]).tocsr() if not np.all(s_full == 1.0) else X0
    else:
        X0 = X - mu0
        Xs = X0 * sq[:, None] if not np.all(s_full == 1.0) else X0
    ys = (Y - xp.asarray(my0)) * sq[:, None]
    # Held-out blocks: the sufficient statistics of the rows each training set
    # leaves out (one small GEMM each); every training set is "full minus its
    # block".  When the blocks partition the rows (KFold) the full Gram is
    # their sum, so X is read once.
    held_out = (W[:-1] == 0) & (s_full > 0)
    blocks = _heldout_blocks(Xs, ys, sq, held_out, xp)
    if n_sets > 1 and (held_out.sum(axis=0)[s_full > 0] == 1).all():
        G_full = blocks[0][0].copy()
        for b in blocks[1:]:
            G_full += b[0]
    else:
        G_full = _dense(Xs.T @ Xs)
    yy_full = _to_host(xp, (ys * ys).sum(axis=0))
    sx = np.asarray(Xs.T @ sq) if sparse else sq @ Xs
    full = (G_full, np.asarray(Xs.T @ ys), yy_full, sx, _to_host(xp, sq @ ys), n_full)

    k = Y.shape[1]
    G = xp.empty((n_sets, n_features, n_features), dtype=dtype)
    shared = dict(
        n_weight=W.sum(axis=1),
        x_mean=np.zeros((n_sets, n_features)),
        x_scale=np.ones((n_sets, n_features)),
    )
    y_mean, yy = np.zeros((k, n_sets)), np.zeros((k, n_sets))
    c = np.empty((k, n_sets, n_features))
    for t in range(n_sets):
        check_stop()
        if t == n_sets - 1 or blocks[t] is None:
            Gr, cr, yyr, sx, sy, _ = full
        else:
            # training set = full data minus the held-out block
            Gr, cr, yyr, sx, sy, _ = (
                a - b for a, b in zip(full, blocks[t], strict=True)
            )
        Gt, ct, yyt, xm, ym, sc = _finish(
            Gr,
            cr,
            yyr,
            sx,
            sy,
            W[t].sum(),
            np.count_nonzero(W[t]),
            mu0,
            my0,
            fit_intercept,
            standardize,
            xp=xp,
        )
        G[t] = Gt
        c[:, t] = ct.T
        yy[:, t] = yyt
        shared["x_mean"][t] = xm
        y_mean[:, t] = ym
        shared["x_scale"][t] = sc
    center = _to_host(xp, mu0)
    batches = [
        GramBatch(
            stats=TrainingStats(**shared, y_mean=y_mean[j], yy=yy[j], c=c[j]),
            G=G,
            blocks=[
                None if b is None else (held_out[t].copy(), _target_block(b, j))
                for t, b in enumerate(blocks)
            ],
            center=(center, float(my0[j])),
            xp=xp,
        )
        for j in range(k)
    ]
    return batches if np.ndim(y) == 2 else batches[0]


def _dense(A):
    """A Gram block as a dense array (sparse products give sparse ones)."""
    return A.toarray() if issparse(A) else A


def _target_block(block, j):
    """Target ``j``'s view of a held-out block (shared Gram part)."""
    G_o, c_o, yy_o, sx_o, sy_o, n_o = block
    return (G_o, c_o[:, j], float(yy_o[j]), sx_o, float(sy_o[j]), n_o)


def build_residual_batch(
    X, y, W, *, fit_intercept, standardize, dtype
) -> ResidualBatch:
    """Per-training-set weights, means and scales over one shared X.

    Parameters
    ----------
    X, y, W, fit_intercept, standardize
        As in :func:`build_gram_batch` (X on the host).
    dtype : numpy.dtype
        Storage precision of the shared X; statistics are in float64.

    Returns
    -------
    ResidualBatch, or list of ResidualBatch
        One per target when y is 2-D (n_samples, n_targets), sharing X.
    """
    if np.ndim(y) == 2:
        # converted once, shared
        Xd = X.tocsc() if issparse(X) else np.asfortranarray(X, dtype=dtype)
        kw = dict(fit_intercept=fit_intercept, standardize=standardize, dtype=dtype)
        return [build_residual_batch(Xd, y[:, j], W, **kw) for j in range(y.shape[1])]
    if issparse(X):
        return _sparse_residual_batch(X, y, W, fit_intercept, standardize, dtype)
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
        check_stop()
        Xc = X64 - x_mean[t]
        var = sw[t] @ (Xc * Xc)
        const = _constant_columns(var, x_mean[t], np.count_nonzero(W[t]))
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


def _sparse_residual_batch(X, y, W, fit_intercept, standardize, dtype):
    """:func:`build_residual_batch` of a scipy.sparse X, never densified.

    Means, variances and correlations come from sparse products:
    ``var_j = Σ sw x² - x̄_j²`` and ``c_j = (x_jᵀ(sw ỹ) - x̄_j Σ sw ỹ) / σ_j``.
    """
    n_sets, n_samples = W.shape
    n_features = X.shape[1]
    Xc = X.tocsc().astype(dtype)  # one copy: sorted CSC of the working dtype
    Xc.sum_duplicates()
    Xc.sort_indices()
    X2 = Xc.multiply(Xc).tocsc()
    y64 = np.asarray(y, dtype=np.float64)
    n_w = W.sum(axis=1)
    sw = W / n_w[:, None]
    x_mean = (
        np.asarray(Xc.T @ sw.T).T if fit_intercept else np.zeros((n_sets, n_features))
    )
    y_mean = sw @ y64 if fit_intercept else np.zeros(n_sets)
    y_centered = y64[None, :] - y_mean[:, None]
    yy = np.einsum("ti,ti->t", sw, y_centered**2)
    ex2 = np.asarray(X2.T @ sw.T).T  # (n_sets, p): Σ sw x²
    var = np.maximum(ex2 - x_mean**2, 0.0)
    swy = sw * y_centered
    cor = np.asarray(Xc.T @ swy.T).T - swy.sum(axis=1)[:, None] * x_mean
    x_scale = np.ones((n_sets, n_features))
    hdiag = np.empty((n_sets, n_features))
    c = np.empty((n_sets, n_features))
    for t in range(n_sets):
        const = _constant_columns(var[t], x_mean[t], np.count_nonzero(W[t]))
        if not fit_intercept:
            const &= ex2[t] == 0
        if standardize:
            x_scale[t] = np.where(const, 1.0, np.sqrt(var[t]))
        hdiag[t] = np.where(const, 0.0, var[t] / x_scale[t] ** 2)
        c[t] = np.where(const, 0.0, cor[t] / x_scale[t])
    stats = TrainingStats(
        n_weight=n_w, x_mean=x_mean, y_mean=y_mean, x_scale=x_scale, yy=yy, c=c
    )
    return ResidualBatch(stats=stats, X=Xc, y_centered=y_centered, sw=sw, hdiag=hdiag)


def to_original_scale(coef, stats, out=None):
    """Undo standardization and recover intercepts.

    Parameters
    ----------
    coef : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features)
    stats : TrainingStats
    out : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features), optional
        Where to write the rescaled coefficients (``coef`` itself rescales in
        place and saves a copy of the largest array).

    Returns
    -------
    coef : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features)
    intercept : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
    """
    coef = np.divide(coef, stats.x_scale[:, None, None, :], out=out)
    intercept = stats.y_mean[:, None, None] - np.einsum(
        "tlaj,tj->tla", coef, stats.x_mean
    )
    return coef, intercept
