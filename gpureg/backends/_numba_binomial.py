"""Binomial (logistic) elastic-net paths on the CPU: proximal Newton + CD.

glmnet's scheme, one thread per (training set, l1_ratio) path, warm-started
along the alphas.  For one fit, with ``sw_i = s_i / n_w`` over the training
rows and ``z = X w + b``::

    P(w, b) = Σ_i sw_i [log(1 + e^{z_i}) - y_i z_i]
              + Σ_j l1 a_j |w_j| + l2 b_j w_j² / 2        (y_i ∈ {0, 1})

where ``a_j = f_j σ_j`` and ``b_j = f_j σ_j²`` carry the penalty factors and,
with ``standardize``, the column scales: penalizing the coefficients of the
standardized columns is penalizing ``σ_j w_j`` on X's own scale (the
intercept absorbs the centering), so X is never copied or scaled.

* **Outer loop** (proximal Newton): at ``z`` the loss is replaced by its
  quadratic model with weights ``v_i = sw_i p_i (1 - p_i)``; cyclic
  coordinate descent minimizes model + penalty over the *strong set*; a
  backtracking line search on ``P`` accepts the step.
* **Screening**: the sequential strong rule picks the strong set at each
  alpha; a KKT check over every feature adds the violators (glmnet).
* **Certificate**: the duality gap at ``θ = κ sw r`` (``r = y - p``), with
  the binary entropy as the loss's conjugate (Ndiaye et al. 2017)::

      gap = Σ_i sw_i [ℓ(y_i, z_i) + h(y_i - κ r_i) + κ r_i z_i]
            + Σ_j [g_j(w_j) + g_j*(κ grad_j) - κ grad_j w_j]

  with ``h(t) = t log t + (1 - t) log(1 - t)`` and ``grad = Xᵀ (sw r)``.  The
  intercept is polished by 1-D Newton steps first, so ``Σ sw r = 0`` (the dual
  constraint of an unpenalized intercept) holds to rounding.  A fit is
  certified when its gap is at most ``tol`` times the null model's loss.

The numpy oracle of these formulas is :class:`gpureg._datafit.Logistic` with
:class:`gpureg._penalty.ElasticNetPenalty`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

#: the path stops early once the fit explains this fraction of the null
#: deviance (glmnet's ``devmax``): the data are (nearly) separable
DEVIANCE_RATIO_STOP = 0.999
#: coordinate-descent passes of one Newton step, at most (residual form)
INNER_PASSES = 200
#: strong sets up to this size solve the model through its Gram matrix, with
#: up to GRAM_PASSES cheap passes to GRAM_TIGHT times the residual form's
#: tolerance (correlated columns need many passes: bought at O(m²) each)
GRAM_MAX = 64
GRAM_PASSES = 5_000
GRAM_TIGHT = 1e-8
#: active-set rounds of the Gram form's polish
POLISH_ROUNDS = 20
#: Armijo constant and halvings of the line search
ARMIJO = 1e-4
HALVINGS = 40
#: relative change of P within its rounding (sums of n float64 terms)
ROUNDING = 1e-13
#: checks in a row without a decrease of P or of the gap before a fit is
#: given up (its gap is then at the rounding of P)
STALLS = 3


# X is column-major dense, or CSC as ``(indptr, indices, data)``; a path reads
# its columns over the training rows through the functions below (numba
# overloads: each caller is compiled once per kind).  For CSC, the path first
# appends each row's position among its training rows (-1 elsewhere):
# ``(indptr, indices, data, pos)``.  The binomial family never centers X (the
# intercept is a coordinate), so the non-zeros are all a column has.
def _on_rows(X, rows, n):
    """X prepared for reading over ``rows`` (numba only: see its overload)."""
    raise NotImplementedError  # pragma: no cover


@overload(_on_rows)
def _on_rows_impl(X, rows, n):
    if isinstance(X, types.Array):
        return lambda X, rows, n: X

    def sparse(X, rows, n):
        pos = np.full(n, -1, dtype=np.int64)
        pos[rows] = np.arange(rows.size)
        return (X[0], X[1], X[2], pos)

    return sparse


def _col_dot(X, j, rows, vec):
    """``Σ_k X[rows[k], j] vec[k]`` (numba only)."""
    raise NotImplementedError  # pragma: no cover


@overload(_col_dot)
def _col_dot_impl(X, j, rows, vec):
    if isinstance(X, types.Array):

        def dense(X, j, rows, vec):
            g = 0.0
            for k in range(rows.size):
                g += X[rows[k], j] * vec[k]
            return g

        return dense

    def sparse(X, j, rows, vec):
        indptr, indices, data, pos = X
        g = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            k = pos[indices[t]]
            if k >= 0:
                g += data[t] * vec[k]
        return g

    return sparse


def _col_sq_dot(X, j, rows, vec):
    """``Σ_k vec[k] X[rows[k], j]²`` (numba only)."""
    raise NotImplementedError  # pragma: no cover


@overload(_col_sq_dot)
def _col_sq_dot_impl(X, j, rows, vec):
    if isinstance(X, types.Array):

        def dense(X, j, rows, vec):
            h = 0.0
            for k in range(rows.size):
                x = X[rows[k], j]
                h += vec[k] * x * x
            return h

        return dense

    def sparse(X, j, rows, vec):
        indptr, indices, data, pos = X
        h = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            k = pos[indices[t]]
            if k >= 0:
                h += vec[k] * data[t] * data[t]
        return h

    return sparse


def _col_step(X, j, rows, delta, d, u, v):
    """``d += x_j δ`` and ``u -= v x_j δ`` over the rows (numba only)."""
    raise NotImplementedError  # pragma: no cover


@overload(_col_step)
def _col_step_impl(X, j, rows, delta, d, u, v):
    if isinstance(X, types.Array):

        def dense(X, j, rows, delta, d, u, v):
            for k in range(rows.size):
                step = X[rows[k], j] * delta
                d[k] += step
                u[k] -= v[k] * step

        return dense

    def sparse(X, j, rows, delta, d, u, v):
        indptr, indices, data, pos = X
        for t in range(indptr[j], indptr[j + 1]):
            k = pos[indices[t]]
            if k >= 0:
                step = data[t] * delta
                d[k] += step
                u[k] -= v[k] * step

    return sparse


def _col_gather(X, j, rows, out):
    """``out[k] = X[rows[k], j]`` (numba only)."""
    raise NotImplementedError  # pragma: no cover


@overload(_col_gather)
def _col_gather_impl(X, j, rows, out):
    if isinstance(X, types.Array):

        def dense(X, j, rows, out):
            for k in range(rows.size):
                out[k] = X[rows[k], j]

        return dense

    def sparse(X, j, rows, out):
        indptr, indices, data, pos = X
        out[:] = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            k = pos[indices[t]]
            if k >= 0:
                out[k] = data[t]

    return sparse


@njit(cache=True, inline="always")
def _log1pexp(z):
    """``log(1 + e^z)`` without overflow."""
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(cache=True, inline="always")
def _sigmoid(z):
    """``1 / (1 + e^{-z})`` without overflow."""
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def _xlogx(t):
    return t * np.log(t) if t > 0.0 else 0.0


@njit(cache=True, inline="always")
def _loss_i(y, z):
    """``log(1 + e^z) - y z`` for ``y ∈ {0, 1}``."""
    return _log1pexp(-z) if y > 0.5 else _log1pexp(z)


@njit(cache=True, inline="always")
def _residual_i(y, z):
    """``y - sigmoid(z)``, accurate for either label."""
    return _sigmoid(-z) if y > 0.5 else -_sigmoid(z)


@njit(cache=True)
def _loss(y, z, sw):
    """``Σ_i sw_i ℓ(y_i, z_i)`` over the training rows."""
    total = 0.0
    for i in range(z.size):
        total += sw[i] * _loss_i(y[i], z[i])
    return total


@njit(cache=True)
def _penalty(w, idx, m, l1a, l2b):
    """``Σ_j l1a_j |w_j| + l2b_j w_j² / 2`` over ``idx[:m]``."""
    total = 0.0
    for k in range(m):
        j = idx[k]
        total += l1a[j] * abs(w[j]) + 0.5 * l2b[j] * w[j] * w[j]
    return total


@njit(cache=True, inline="always")
def _prox(zj, h, l1, l2, positive):
    """Minimizer of ``½ h w² - zj w + l1 |w| + l2 w² / 2`` (``w >= 0`` if positive)."""
    if positive:
        num = max(zj - l1, 0.0)
    elif zj > l1:
        num = zj - l1
    elif zj < -l1:
        num = zj + l1
    else:
        num = 0.0
    denom = h + l2
    return num / denom if denom > 0.0 else 0.0


@njit(cache=True)
def _grad_all(X, rows, sr, r, live, grad):
    """``grad_j = Σ_i x_ij sw_i r_i`` for every live feature (0 elsewhere)."""
    sr_r = sr * r
    for j in range(grad.size):
        grad[j] = _col_dot(X, j, rows, sr_r) if live[j] else 0.0


@njit(cache=True)
def _polish_intercept(y, z, sr, b):
    """1-D Newton on the intercept until ``Σ sw r`` is rounding; returns the new b."""
    for _ in range(100):
        g = 0.0
        h = 0.0
        for k in range(z.size):
            p = _sigmoid(z[k])
            g += sr[k] * (y[k] - p)
            h += sr[k] * p * (1.0 - p)
        if h <= 0.0 or abs(g) <= 1e-15:
            break
        step = g / h
        b += step
        for k in range(z.size):
            z[k] += step
        if abs(step) <= 1e-15 * (1.0 + abs(b)):
            break
    return b


@njit(cache=True)
def _gap(y, z, sr, r, w, grad, live, l1a, l2b, positive):
    """Duality gap of the fit (see the module docstring); ``r`` and ``grad`` current."""
    p = w.size
    kappa = 1.0
    for j in range(p):  # pure-L1 coordinates bound the dual scaling
        if live[j] and l1a[j] > 0.0 and l2b[j] == 0.0:
            score = max(grad[j], 0.0) if positive else abs(grad[j])
            if score > l1a[j]:
                kappa = min(kappa, l1a[j] / score)
    gap = 0.0
    for k in range(z.size):
        kr = kappa * r[k]
        if y[k] > 0.5:  # t = 1 - κ r, 1 - t = κ r
            h = _xlogx(1.0 - kr) + _xlogx(kr)
        else:  # t = -κ r, 1 - t = 1 + κ r
            h = _xlogx(-kr) + _xlogx(1.0 + kr)
        gap += sr[k] * (_loss_i(y[k], z[k]) + h + kr * z[k])
    for j in range(p):
        if not live[j]:
            continue
        v = kappa * grad[j]
        if l1a[j] == 0.0 and l2b[j] == 0.0:  # unpenalized: 0 at its optimum
            gap += abs(v * w[j])
            continue
        vs = max(v, 0.0) if positive else abs(v)
        excess = max(vs - l1a[j], 0.0)
        conj = excess * excess / (2.0 * l2b[j]) if l2b[j] > 0.0 else 0.0
        gap += l1a[j] * abs(w[j]) + 0.5 * l2b[j] * w[j] * w[j] + conj - v * w[j]
    return max(gap, 0.0)


@njit(cache=True)
def _model(X, rows, y, sr, z, S, m):
    """The quadratic model at ``z``: weights ``v``, ``u = sw r`` and ``H_jj``."""
    n_rows = rows.size
    v = np.empty(n_rows)
    u = np.empty(n_rows)
    for k in range(n_rows):
        pk = _sigmoid(z[k])
        v[k] = sr[k] * pk * (1.0 - pk)
        u[k] = sr[k] * (y[k] - pk)
    H = np.empty(m)
    for a in range(m):
        H[a] = _col_sq_dot(X, S[a], rows, v)
    return v, u, H


@njit(cache=True)
def _inner_residual(X, rows, v, u, H, w_new, b_new, S, m, l1a, l2b, pen, inner):
    """CD on the model over the residual-like ``u`` (overwritten), O(n m) a pass.

    ``pen = (positive, intercept)``.  Returns ``(b_new, d, passes)`` with ``d``
    the step in z; ``w_new`` is updated in place.
    """
    positive, intercept = pen
    n_rows = rows.size
    d = np.zeros(n_rows)
    hb = 0.0
    for k in range(n_rows):
        hb += v[k]
    passes = 0
    while passes < INNER_PASSES:
        passes += 1
        biggest = 0.0
        for a in range(m):
            j = S[a]
            g = _col_dot(X, j, rows, u)
            wj = _prox(g + H[a] * w_new[j], H[a], l1a[j], l2b[j], positive)
            delta = wj - w_new[j]
            if delta != 0.0:
                w_new[j] = wj
                _col_step(X, j, rows, delta, d, u, v)
                biggest = max(biggest, H[a] * delta * delta)
        if intercept and hb > 0.0:
            g = 0.0
            for k in range(n_rows):
                g += u[k]
            delta = g / hb
            b_new += delta
            for k in range(n_rows):
                d[k] += delta
                u[k] -= v[k] * delta
            biggest = max(biggest, hb * delta * delta)
        if biggest <= inner:
            break
    return b_new, d, passes


@njit(cache=True)
def _gram_cd(G, grad, step, w_new, S, m, l1a, l2b, pen, inner, max_passes):
    """Cyclic CD on the Gram form (coordinate ``m`` is the intercept).

    Updates ``grad`` (minus the model's gradient), ``step`` and ``w_new`` in
    place; returns ``(passes, converged)``.
    """
    positive, intercept = pen
    q = m + 1
    for passes in range(1, max_passes + 1):
        biggest = 0.0
        for a in range(q):
            h = G[a, a]
            if a == m:
                if not intercept or h <= 0.0:
                    continue
                delta = grad[a] / h
            else:
                j = S[a]
                wj = _prox(grad[a] + h * w_new[j], h, l1a[j], l2b[j], positive)
                delta = wj - w_new[j]
                w_new[j] = wj
            if delta != 0.0:
                step[a] += delta
                for c in range(q):
                    grad[c] -= G[c, a] * delta
                biggest = max(biggest, h * delta * delta)
        if biggest <= inner:
            return passes, True
    return max_passes, False


@njit(cache=True)
def _active(w_new, S, m, intercept):
    """Indices ``a`` of the non-zero coefficients of ``S[:m]`` (and ``m``)."""
    act = np.empty(m + 1, dtype=np.int64)
    k = 0
    for a in range(m):
        if w_new[S[a]] != 0.0:
            act[k] = a
            k += 1
    if intercept:
        act[k] = m
        k += 1
    return act[:k]


@njit(cache=True)
def _sign_fixed_step(G, grad, w_new, S, m, l1a, l2b, act):
    """The step that zeroes the model's gradient on ``act`` with the signs fixed."""
    k = act.size
    A = np.empty((k, k))
    rhs = np.empty(k)
    for r in range(k):
        a = act[r]
        for c in range(k):
            A[r, c] = G[a, act[c]]
        rhs[r] = grad[a]
        if a < m:
            j = S[a]
            A[r, r] += l2b[j]
            rhs[r] -= l1a[j] * np.sign(w_new[j]) + l2b[j] * w_new[j]
    return np.linalg.lstsq(A, rhs)[0]


@njit(cache=True)
def _gram_polish(G, grad, step, w_new, S, m, l1a, l2b, pen):
    """Active-set moves to the model's optimum with the signs fixed.

    Each round solves the active set's linear system; a coefficient whose
    sign would flip stops the move at zero and leaves the set (a homotopy
    step).  CD afterwards checks the inactive coordinates.
    """
    intercept = pen[1]
    for _ in range(POLISH_ROUNDS):
        act = _active(w_new, S, m, intercept)
        if act.size == 0:
            return
        delta = _sign_fixed_step(G, grad, w_new, S, m, l1a, l2b, act)
        t = 1.0
        block = -1
        for r in range(act.size):
            a = act[r]
            if a < m:
                wj = w_new[S[a]]
                if (wj + delta[r]) * wj < 0.0 and -wj / delta[r] < t:
                    t = -wj / delta[r]
                    block = a
        for r in range(act.size):
            a = act[r]
            move = t * delta[r]
            if a == block:  # exactly to zero, not to rounding
                move = -w_new[S[a]]
                w_new[S[a]] = 0.0
            elif a < m:
                w_new[S[a]] += move
            step[a] += move
            for c in range(m + 1):
                grad[c] -= G[c, a] * move
        if block < 0:
            return


@njit(cache=True)
def _inner_gram(X, rows, v, u, w_new, b_new, S, m, l1a, l2b, pen, inner):
    """CD on the model through its Gram matrix (glmnet's covariance updates).

    The intercept is coordinate ``m`` (a column of ones).  A pass costs
    O(m²) after an O(n m²) Gram, so the model is solved tightly; where CD
    is slow (strongly correlated columns) :func:`_gram_polish` jumps to the
    active set's optimum.  Returns ``(b_new, d, passes)`` as
    :func:`_inner_residual`, with passes counted in units of its O(n m) pass.
    """
    positive, intercept = pen
    n_rows = rows.size
    q = m + 1
    Xs = np.empty((n_rows, q))
    col = np.empty(n_rows)
    for a in range(m):
        _col_gather(X, S[a], rows, col)
        Xs[:, a] = col
    for k in range(n_rows):
        Xs[k, m] = 1.0
    Xv = Xs * v.reshape(-1, 1)
    G = Xs.T @ Xv
    grad = Xs.T @ u  # minus the model's gradient at the step 0
    step = np.zeros(q)
    passes, done = _gram_cd(G, grad, step, w_new, S, m, l1a, l2b, pen, inner, 100)
    if not done:  # slow CD (correlated columns): jump to the active set's optimum
        _gram_polish(G, grad, step, w_new, S, m, l1a, l2b, pen)
        more, _ = _gram_cd(
            G, grad, step, w_new, S, m, l1a, l2b, pen, inner, GRAM_PASSES
        )
        passes += more
    d = Xs @ step
    return b_new + step[m], d, 1 + passes * q // max(n_rows, 1)


@njit(cache=True)
def _line_search(y, sr, z, d, w, w_new, b, b_new, S, m, l1a, l2b):
    """Backtracking on ``P`` along ``(w_new - w, b_new - b)``, whose z-step is ``d``.

    Updates ``w`` and ``z`` in place; returns ``(b, decrease)``.
    """
    n_rows = z.size
    pen0 = _penalty(w, S, m, l1a, l2b)
    P0 = _loss(y, z, sr) + pen0
    slope = _penalty(w_new, S, m, l1a, l2b) - pen0
    for k in range(n_rows):
        slope -= sr[k] * (y[k] - _sigmoid(z[k])) * d[k]
    t = 1.0
    z_try = np.empty(n_rows)
    w_try = w.copy()
    for _ in range(HALVINGS):
        for k in range(n_rows):
            z_try[k] = z[k] + t * d[k]
        for a in range(m):
            j = S[a]
            w_try[j] = w[j] + t * (w_new[j] - w[j])
        P1 = _loss(y, z_try, sr) + _penalty(w_try, S, m, l1a, l2b)
        # near the optimum a full step's decrease is below P's rounding:
        # take it (the certificate, not P, judges convergence)
        noise = ROUNDING * P0 if t == 1.0 else 0.0
        if P1 <= P0 + ARMIJO * t * min(slope, 0.0) + noise:
            for a in range(m):
                w[S[a]] = w_try[S[a]]
            for k in range(n_rows):
                z[k] = z_try[k]
            return b + t * (b_new - b), max(P0 - P1, 0.0)
        t *= 0.5
    return b, 0.0  # no decrease found: the step is rounding


@njit(cache=True)
def _newton_step(X, rows, y, sr, z, w, b, S, m, l1a, l2b, pen, tols):
    """One proximal Newton step over the strong set ``S[:m]`` (and the intercept).

    CD on the quadratic model of the loss at ``z`` (through its Gram matrix
    when ``m <= GRAM_MAX``), then a backtracking line search on ``P``.
    Updates ``w`` and ``z`` in place; ``pen = (positive, intercept)``,
    ``tols`` the inner tolerances of the residual and the Gram forms.

    Returns
    -------
    b : float
        The new intercept.
    passes : int
        CD work, in passes over the strong set's columns.
    decrease : float
        ``P`` before minus ``P`` after the step (>= 0).
    """
    v, u, H = _model(X, rows, y, sr, z, S, m)
    w_new = w.copy()
    if m <= GRAM_MAX:
        b_new, d, passes = _inner_gram(
            X, rows, v, u, w_new, b, S, m, l1a, l2b, pen, tols[1]
        )
    else:
        b_new, d, passes = _inner_residual(
            X, rows, v, u, H, w_new, b, S, m, l1a, l2b, pen, tols[0]
        )
    b, decrease = _line_search(y, sr, z, d, w, w_new, b, b_new, S, m, l1a, l2b)
    return b, passes, decrease


@njit(cache=True)
def _scale_penalty(alpha, rho, a1, b2, live, l1a, l2b):
    """``l1a = alpha rho a1`` and ``l2b = alpha (1 - rho) b2`` (0 where not live)."""
    for j in range(a1.size):
        l1a[j] = alpha * rho * a1[j] if live[j] else 0.0
        l2b[j] = alpha * (1.0 - rho) * b2[j] if live[j] else 0.0


@njit(cache=True)
def _strong_set(w, grad, live, a1, threshold, positive, S):
    """Features kept at this alpha: non-zero, unpenalized, or above the strong rule."""
    m = 0
    for j in range(w.size):
        if not live[j]:
            continue
        score = max(grad[j], 0.0) if positive else abs(grad[j])
        if w[j] != 0.0 or a1[j] == 0.0 or score >= threshold * a1[j]:
            S[m] = j
            m += 1
    return m


@njit(cache=True)
def _add_violators(w, grad, live, l1a, positive, in_S, S, m):
    """Add the features outside ``S`` whose KKT condition fails; returns the new m."""
    for j in range(w.size):
        if not live[j] or in_S[j]:
            continue
        score = max(grad[j], 0.0) if positive else abs(grad[j])
        if score > l1a[j]:
            S[m] = j
            in_S[j] = True
            m += 1
    return m


@njit(cache=True)
def binomial_path(
    X, y, sw, b0, a1, b2, alphas, rho, positive, intercept, tol, max_iter
):
    """Every alpha's fit of one (training set, l1_ratio) path.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), or tuple
        float64, column-major; or a CSC matrix as ``(indptr, indices, data)``
        (never densified: only the strong set's columns, at most
        ``GRAM_MAX``, are gathered for the Gram form).
    y : ndarray of shape (n_samples,)
        0/1 labels (float64).
    sw : ndarray of shape (n_samples,)
        ``s_i / n_w`` on the training rows, 0 elsewhere.
    b0 : float
        Null model's intercept (``logit(ȳ)``, or 0 without an intercept).
    a1, b2 : ndarray of shape (n_features,)
        ``f_j σ_j`` and ``f_j σ_j²``; features with ``σ_j = 0`` (constant
        columns) must have both 0 and are held at 0 through ``a1 < 0``.
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    rho : float
        l1_ratio.
    positive, intercept : bool
    tol : float
        Certify when the gap is at most ``tol`` times the null model's loss.
    max_iter : int
        CD passes per alpha, at most.

    Returns
    -------
    coef : ndarray of shape (n_alphas, n_features)
    icpt : ndarray of shape (n_alphas,)
    gaps : ndarray of shape (n_alphas,)
    iters : ndarray of shape (n_alphas,) of int
        CD passes; 0 for the alphas after an early stop.
    stopped : int
        Index of the first alpha not solved (the deviance ratio passed
        :data:`DEVIANCE_RATIO_STOP`), or ``n_alphas``.
    """
    p = a1.size
    n_alphas = alphas.size
    rows = np.flatnonzero(sw > 0.0)
    Xr = _on_rows(X, rows, sw.size)  # a CSC X gains its row positions
    yr = y[rows]
    sr = sw[rows]
    live = a1 >= 0.0
    w = np.zeros(p)
    b = b0
    z = np.full(rows.size, b)
    r = np.empty(rows.size)
    grad = np.zeros(p)
    null_loss = _loss(yr, z, sr)
    thr = tol * null_loss
    # the Gram form solves the model far tighter, down to its rounding
    tols = (1e-2 * thr, max(1e-2 * GRAM_TIGHT * thr, 1e-16 * null_loss))
    l1a = np.zeros(p)
    l2b = np.zeros(p)
    S = np.empty(p, dtype=np.int64)
    in_S = np.zeros(p, dtype=np.bool_)
    coef = np.zeros((n_alphas, p))
    icpt = np.zeros(n_alphas)
    gaps = np.full(n_alphas, np.inf)
    iters = np.zeros(n_alphas, dtype=np.int64)
    for k in range(rows.size):
        r[k] = _residual_i(yr[k], z[k])
    _grad_all(Xr, rows, sr, r, live, grad)
    stopped = n_alphas
    for ia in range(n_alphas):
        alpha = alphas[ia]
        _scale_penalty(alpha, rho, a1, b2, live, l1a, l2b)
        prev = alphas[ia - 1] if ia > 0 else alpha
        m = _strong_set(w, grad, live, a1, rho * (2.0 * alpha - prev), positive, S)
        in_S[:] = False
        for a in range(m):
            in_S[S[a]] = True
        passes = 0
        gap = np.inf
        stalls = 0
        while True:
            b, run, decrease = _newton_step(
                Xr, rows, yr, sr, z, w, b, S, m, l1a, l2b, (positive, intercept), tols
            )
            passes += run
            if decrease > thr and passes < max_iter:
                continue  # far from the strong set's optimum: no full check yet
            if intercept:
                b = _polish_intercept(yr, z, sr, b)
            for k in range(rows.size):
                r[k] = _residual_i(yr[k], z[k])
            # the strong set's own gap first: O(n m), not the O(n p) full check
            _grad_all(Xr, rows, sr, r, in_S, grad)
            last = gap
            gap = _gap(yr, z, sr, r, w, grad, in_S, l1a, l2b, positive)
            # rounding-limited: no measurable decrease and no smaller gap
            stalls = stalls + 1 if gap >= last and decrease <= 0.0 else 0
            done = passes >= max_iter or stalls >= STALLS
            if gap > thr and not done:
                continue
            _grad_all(Xr, rows, sr, r, live, grad)
            m_new = _add_violators(w, grad, live, l1a, positive, in_S, S, m)
            if m_new > m and not done:
                m = m_new
                stalls = 0
                continue
            m = m_new
            gap = _gap(yr, z, sr, r, w, grad, live, l1a, l2b, positive)
            if gap <= thr or done:
                break
        coef[ia] = w
        icpt[ia] = b
        gaps[ia] = gap
        iters[ia] = passes
        if 1.0 - _loss(yr, z, sr) / null_loss > DEVIANCE_RATIO_STOP:
            stopped = ia + 1
            break
    for ia in range(stopped, n_alphas):  # the rest keep the last fit, gap re-scored
        coef[ia] = w
        icpt[ia] = b
        alpha = alphas[ia]
        _scale_penalty(alpha, rho, a1, b2, live, l1a, l2b)
        gaps[ia] = _gap(yr, z, sr, r, w, grad, live, l1a, l2b, positive)
    return coef, icpt, gaps, iters, stopped


@njit(cache=True, parallel=True)
def binomial_paths(
    X, y, SW, B0, A1, B2, alphas, rhos, positive, intercept, tol, max_iter
):
    """:func:`binomial_path` for every (training set, l1_ratio), one thread each.

    Parameters
    ----------
    SW : ndarray of shape (n_sets, n_samples)
    B0 : ndarray of shape (n_sets,)
    A1, B2 : ndarray of shape (n_sets, n_features)
    alphas : ndarray of shape (n_l1, n_alphas)
    rhos : ndarray of shape (n_l1,)
    X, y, positive, intercept, tol, max_iter
        As in :func:`binomial_path`.

    Returns
    -------
    coef : ndarray of shape (n_sets, n_l1, n_alphas, n_features)
    icpt, gaps : ndarray of shape (n_sets, n_l1, n_alphas)
    iters : ndarray of shape (n_sets, n_l1, n_alphas) of int
    stopped : ndarray of shape (n_sets, n_l1) of int
    """
    n_sets = SW.shape[0]
    n_l1, n_alphas = alphas.shape
    p = A1.shape[1]
    coef = np.zeros((n_sets, n_l1, n_alphas, p))
    icpt = np.zeros((n_sets, n_l1, n_alphas))
    gaps = np.zeros((n_sets, n_l1, n_alphas))
    iters = np.zeros((n_sets, n_l1, n_alphas), dtype=np.int64)
    stopped = np.zeros((n_sets, n_l1), dtype=np.int64)
    for job in prange(n_sets * n_l1):
        t = job // n_l1
        li = job % n_l1
        c, b, g, it, st = binomial_path(
            X,
            y,
            SW[t],
            B0[t],
            A1[t],
            B2[t],
            alphas[li],
            rhos[li],
            positive,
            intercept,
            tol,
            max_iter,
        )
        coef[t, li] = c
        icpt[t, li] = b
        gaps[t, li] = g
        iters[t, li] = it
        stopped[t, li] = st
    return coef, icpt, gaps, iters, stopped
