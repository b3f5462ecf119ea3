"""The GPU engine (batched FISTA) meets the accuracy contract, on the CPU twins.

At equal ``tol`` and ``max_iter``, the fits of the engine are at least as
accurate as scikit-learn's ``enet_path``: median and 90th percentile of the
relative objective sub-optimality and of the relative KKT violation over
every (l1_ratio, alpha) of a problem (``tests/accuracy.py``).  The subset of
the battery covers Gram form (n > p) and residual form (p > n), sample
weights (some zero) and unpenalized features.

Values below a round-off floor compare as equal: 1e-12 relative objective
(the reference objectives themselves agree to ~1e-13 across solvers) and
1e-9 relative KKT violation.

``max_iter`` is 10 000 for both solvers: FISTA solves every alpha from a cold
start, so its iterations are not scikit-learn's warm-started epochs; at 1 000
a few small-alpha p > n fits stop on ``max_iter`` (certified by the gap, but
not yet as accurate as scikit-learn there).

The engine's former rule (stop at ``gap <= tol · yy``) fails every case here
on all four statistics, e.g. toeplitz0.9-300x40 at tol 1e-4: median
sub-optimality 4.9e-5 and p90 KKT 4.9e-3 against scikit-learn's 1.7e-8 and
3.8e-5 (with the current rule: 2.1e-10 and 5.9e-6).
"""

import accuracy as acc
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gpureg._batch import build_gram_batch, build_residual_batch, training_weights
from gpureg._memory import choose_mode
from gpureg.backends import _fista
from gpureg.backends._twins import TwinOps

PROBLEMS = (
    "toeplitz0.9-300x40",  # n > p, Gram form, correlated
    "toeplitz0.5-60x200",  # p > n, residual form
    "weighted-60x150",  # sample weights, some zero (residual form)
    "unpenalized-200x30",  # three unpenalized features (Gram form)
    "unpenalized-60x150",  # unpenalized features, residual form
    "standardized-200x30",  # standardize, column scales 1e-2..1e2
)
MAX_ITER = 10_000
#: Round-off floors: relative sub-optimality, relative KKT violation.
FLOOR_OBJ = 1e-12
FLOOR_KKT = 1e-9

_cache = {}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny batches: parallel numba/BLAS threads only add contention."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    with threadpool_limits(1):
        yield
    numba.set_num_threads(before)


def _engine(ops, prob, grids, rhos, tol, max_iter):
    n, p = prob.X.shape
    W = training_weights(n, [], prob.sample_weight)
    build = (
        build_gram_batch if choose_mode(n, p, 1, 8) == "gram" else build_residual_batch
    )
    batch = build(
        prob.X,
        prob.y,
        W,
        fit_intercept=True,
        standardize=prob.standardize,
        dtype=np.float64,
    )
    f = np.ones(p) if prob.penalty_factor is None else prob.penalty_factor
    sol = _fista.solve_paths_with(
        ops, batch, grids, rhos, f, positive=False, tol=tol, max_iter=max_iter
    )
    return sol.coef[0]  # (n_l1, n_alphas, p): the solver's = eff's coordinates


def _solutions(name, engine="twins"):
    """Every solver's fits of one problem, relative to the best objective.

    Returns
    -------
    sub, kkt : dict
        ``(solver, tol) -> (n_l1_ratios, n_alphas)`` relative sub-optimality
        and KKT violation; solvers ``'sklearn'`` and ``engine`` (the FISTA
        engine on the twins, or on CUDA); the best objective of each fit is
        the smallest any of them reached, tol=1e-14 runs included.
    """
    key = (name, engine)
    if key in _cache:
        return _cache[key]
    prob = acc.make_problem(name)
    eff = acc.effective(prob)
    rhos = np.array(acc.L1_RATIOS)
    grids = np.stack([acc.alpha_path(eff, r) for r in rhos])
    if engine == "twins":
        ops = TwinOps
    else:
        from gpureg.backends import _gpu

        ops = _gpu.CudaOps()
    fits = {}
    for tol in (*acc.TOLS, acc.REF_TOL):
        max_iter = MAX_ITER if tol != acc.REF_TOL else acc.REF_MAX_ITER
        fits[engine, tol] = _engine(ops, prob, grids, rhos, tol, max_iter)
        fits["sklearn", tol] = np.stack(
            [
                acc.sklearn_path(eff, grids[il], rho, tol, max_iter)
                for il, rho in enumerate(rhos)
            ]
        )
    obj, kkt = {}, {}
    for k, W in fits.items():
        per = [
            acc.measure(eff, W[il], grids[il], rho, None) for il, rho in enumerate(rhos)
        ]
        obj[k] = np.stack([o for o, _ in per])
        kkt[k] = np.stack([v for _, v in per])
    best = np.min(np.stack(list(obj.values())), axis=0)
    sub = {k: (o - best) / np.abs(best) for k, o in obj.items()}
    _cache[key] = (sub, kkt)
    return sub, kkt


def _assert_as_accurate(name, tol, engine):
    sub, kkt = _solutions(name, engine)
    ours = acc.summarize(sub[engine, tol]) + acc.summarize(kkt[engine, tol])
    theirs = acc.summarize(sub["sklearn", tol]) + acc.summarize(kkt["sklearn", tol])
    floors = (FLOOR_OBJ, FLOOR_OBJ, FLOOR_KKT, FLOOR_KKT)
    what = ("median sub-optimality", "p90 sub-optimality", "median KKT", "p90 KKT")
    worse = [
        f"{w} {a:.2e} > scikit-learn's {b:.2e}"
        for w, a, b, fl in zip(what, ours, theirs, floors, strict=True)
        if max(a, fl) > max(b, fl)
    ]
    assert not worse, f"{name} tol={tol:g} ({engine}): " + "; ".join(worse)


@pytest.mark.slow
@pytest.mark.parametrize("tol", acc.TOLS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_engine_is_as_accurate_as_sklearn(name, tol):
    _assert_as_accurate(name, tol, "twins")


@pytest.mark.gpu
@pytest.mark.parametrize("tol", acc.TOLS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_cuda_engine_is_as_accurate_as_sklearn(name, tol):
    """The same contract with the CUDA kernels (cuBLAS rounds differently)."""
    _assert_as_accurate(name, tol, "cuda")
