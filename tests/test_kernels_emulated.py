"""Every CUDA kernel, executed on the CPU through gpureg's own launchers.

``kernels/*.cu`` are compiled with g++ against a small CUDA emulator
(``tests/cuda_emu``: every thread a fiber, real block and warp barriers,
shuffle-mask and barrier-divergence checks, guard bytes around every device
buffer) and launched by the unmodified launchers (``_gpu.CudaOps``,
``_dropout_gpu.dropout_forward``) through a CuPy stand-in that marshals
arguments as CuPy does and checks them against each kernel's compiled C
signature.  Every result is compared with the kernel's numba twin:

* ``enet_fista_step``: W_next, Y_next and the momentum bit for bit;
* ``enet_gap``: to 1e-12 relative (block reductions sum in another order);
* ``logistic_step``: W_next, Y_next, the intercepts and the momentum bit for
  bit; ``logistic_residual`` and ``logistic_gap`` (which call exp/log, whose
  last bits differ between libdevice and LLVM) to a few ulps / 1e-12;
* ``dropout_fwd``: y bit for bit (NaN positions for 16-bit dtypes, whose NaN
  payloads may differ) and the mask words exactly.

Inputs cover sizes that are not multiples of the block, one-SM grids (many
grid-stride trips), several block sizes, misaligned views, every dtype,
subnormals, ±inf, NaN, -0, and seeds and offsets above 2**63.  Any kernel the
loader can request is built (the harness is generated from
``_kernels.KERNELS``); a new kernel must add its checks here.
"""

import importlib

import cuda_emu as emu_tools
import numpy as np
import pytest

from gpureg.backends import (
    _binomial_gpu,
    _dropout_cpu,
    _dropout_gpu,
    _fista,
    _gpu,
    _kernels,
)
from gpureg.backends._twins import TwinLogisticOps, TwinOps

to_dev = emu_tools.to_dev  # a guarded device copy
D = importlib.import_module("gpureg.dropout")  # the module (gpureg.dropout is
# also the name of the function)

try:
    import ml_dtypes

    BF16 = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover - ml_dtypes is in the test extra
    BF16 = None


@pytest.fixture(scope="session")
def emulator():
    reason = emu_tools.compiler_problem()
    if reason is not None:
        pytest.skip(f"CUDA emulator not built: {reason}")
    return emu_tools.Emulator(emu_tools.build(_kernels.kernels_dir(), _kernels.KERNELS))


@pytest.fixture
def cupy(emulator, monkeypatch):
    emulator.reset()
    emulator.set_schedule(warp_ahead=True, seed=0)
    return emu_tools.install(monkeypatch, emulator)


def test_every_kernel_the_loader_can_request_is_emulated(emulator):
    wanted = {e for exprs in _kernels.KERNELS.values() for e in exprs}
    assert set(emulator.signatures) == wanted
    for filename, exprs in _kernels.KERNELS.items():
        declared = emu_tools.parse_signatures(_kernels.source(filename))
        for expr in exprs:
            assert emulator.signatures[expr] == declared[expr.split("<")[0]], expr


# ------------------------------------------------------------ enet kernels

ENET_SHAPES = [
    (1, 1),
    (3, 5),
    (4, 31),
    (2, 255),
    (5, 256),
    (3, 257),
    (4, 600),
    (9, 33),
    (2, 1025),
]


def _bits_equal(a, b):
    """Same bits, NaN positions equal (NaN payloads and signs may differ)."""
    a, b = np.asarray(a), np.asarray(b)
    na, nb = np.isnan(a), np.isnan(b)
    return bool(
        np.array_equal(na, nb)
        and np.array_equal(a[~na].view(np.uint8), b[~nb].view(np.uint8))
    )


def _enet_inputs(rng, n, p, dtype, positive, specials):
    n_sets = min(3, n)
    set_of = np.sort(rng.integers(0, n_sets, n)).astype(np.int32)
    set_of[0] = 0
    GY = rng.standard_normal((n, p))
    Y = rng.standard_normal((n, p))
    W = Y + 0.1 * rng.standard_normal((n, p))
    if positive:
        W = np.abs(W)
    if specials:
        tiny = np.finfo(dtype).smallest_subnormal
        for A in (GY, Y, W):  # subnormals of the storage dtype, and -0
            idx = rng.integers(0, A.size, max(1, A.size // 7))
            A.flat[idx] = rng.choice([tiny, -tiny, 3 * tiny, -0.0, 0.0], idx.size)
        if n > 1:  # one row meets ±inf: NaN and inf propagate as in the twin
            GY[-1, rng.integers(0, p)] = np.inf
            Y[-1, rng.integers(0, p)] = -np.inf
    C = rng.standard_normal((n_sets, p))
    step = rng.uniform(0.05, 1.0, n_sets)
    l1 = rng.uniform(0, 0.8, n) * (rng.random(n) > 0.2)
    l2 = rng.uniform(0, 0.5, n) * (rng.random(n) > 0.3)
    f = rng.uniform(0.5, 2.0, p) * (rng.random(p) > 0.15)
    t_mom = rng.uniform(1.0, 20.0, n)
    yy = (C**2).sum(1) + rng.uniform(0.5, 2.0, n_sets)
    return dict(
        GY=GY.astype(dtype),
        Y=Y.astype(dtype),
        W=W.astype(dtype),
        C=C,
        set_of=set_of,
        step=step,
        l1=l1,
        l2=l2,
        f=f,
        t_mom=t_mom,
        yy=yy,
    )


def _check_enet(rng, n, p, dtype, positive, specials):
    d = _enet_inputs(rng, n, p, dtype, positive, specials)
    dev = {k: to_dev(v) for k, v in d.items()}
    ops = _gpu.CudaOps()
    # the launcher on device buffers, the twin on host copies
    Wn_g, Yn_g = (
        to_dev(np.full((n, p), np.nan, dtype)),
        to_dev(np.full((n, p), np.nan, dtype)),
    )
    ops.fista_step(
        dev["GY"],
        dev["Y"],
        dev["W"],
        Wn_g,
        Yn_g,
        dev["C"],
        dev["set_of"],
        dev["step"],
        dev["l1"],
        dev["l2"],
        dev["f"],
        dev["t_mom"],
        positive,
    )
    Wn_c, Yn_c, t_c = (
        np.full((n, p), np.nan, dtype),
        np.full((n, p), np.nan, dtype),
        d["t_mom"].copy(),
    )
    TwinOps.fista_step(
        d["GY"],
        d["Y"],
        d["W"],
        Wn_c,
        Yn_c,
        d["C"],
        d["set_of"],
        d["step"],
        d["l1"],
        d["l2"],
        d["f"],
        t_c,
        positive,
    )
    tag = f"{np.dtype(dtype).name} n={n} p={p} positive={positive}"
    assert _bits_equal(Wn_g, Wn_c), f"W_next differs: {tag}"
    assert _bits_equal(Yn_g, Yn_c), f"Y_next differs: {tag}"
    assert _bits_equal(dev["t_mom"], t_c), f"t_mom differs: {tag}"
    g_g = ops.gap(
        dev["GY"],
        dev["W"],
        dev["C"],
        dev["yy"],
        dev["set_of"],
        dev["l1"],
        dev["l2"],
        dev["f"],
        positive,
    ).get()
    g_c = TwinOps.gap(
        d["GY"],
        d["W"],
        d["C"],
        d["yy"],
        d["set_of"],
        d["l1"],
        d["l2"],
        d["f"],
        positive,
    )
    np.testing.assert_array_equal(np.isnan(g_g), np.isnan(g_c), err_msg=tag)
    ok = ~np.isnan(g_c)
    np.testing.assert_allclose(g_g[ok], g_c[ok], rtol=1e-12, atol=1e-300, err_msg=tag)
    return d


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_enet_kernels_equal_their_twins(cupy, emulator, dtype, positive):
    rng = np.random.default_rng(20240601 + positive)
    for n, p in ENET_SHAPES:
        _check_enet(rng, n, p, dtype, positive, specials=False)
        _check_enet(rng, n, p, dtype, positive, specials=True)
    names = {name for name, _, _ in emulator.launches}
    t = "float" if dtype == np.float32 else "double"
    assert names == {f"enet_fista_step<{t}>", f"enet_gap<{t}>"}
    assert emulator.counts()["warnings"] == 0


def test_float32_subnormals_survive_the_fista_step(cupy):
    """The kernel keeps float32 subnormals (the twin does; -ftz=true would
    flush them on the device were the conversions plain casts)."""
    tiny = np.finfo(np.float32).smallest_subnormal
    n, p = 2, 40
    d = dict(
        GY=np.zeros((n, p), np.float32),
        Y=np.full((n, p), 5 * tiny, np.float32),
        W=np.full((n, p), 3 * tiny, np.float32),
        C=np.zeros((1, p)),
        set_of=np.zeros(n, np.int32),
        step=np.array([0.5]),
        l1=np.zeros(n),
        l2=np.zeros(n),
        f=np.ones(p),
        t_mom=np.ones(n) * 3.0,
    )
    dev = {k: to_dev(v) for k, v in d.items()}
    Wn, Yn = to_dev(np.zeros((n, p), np.float32)), to_dev(np.zeros((n, p), np.float32))
    _gpu.CudaOps().fista_step(
        dev["GY"],
        dev["Y"],
        dev["W"],
        Wn,
        Yn,
        dev["C"],
        dev["set_of"],
        dev["step"],
        dev["l1"],
        dev["l2"],
        dev["f"],
        dev["t_mom"],
        False,
    )
    assert (np.asarray(Wn) == 5 * tiny).all()  # z = y: a subnormal, kept
    assert (np.asarray(Yn) != 0).all()


@pytest.mark.parametrize("block", [32, 64, 1024])
def test_enet_kernels_at_other_block_sizes(cupy, emulator, monkeypatch, block):
    monkeypatch.setattr(_gpu, "BLOCK", block)
    rng = np.random.default_rng(block)
    for n, p in [(3, 5), (4, 33), (2, 1025), (5, 2049)]:
        _check_enet(rng, n, p, np.float64, False, specials=True)
    assert {b for _, _, b in emulator.launches} == {(block, 1, 1)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_results_do_not_depend_on_the_warp_schedule(cupy, emulator, seed):
    """Warps run in another order (or in lock-step): the same bits."""
    results = []
    for warp_ahead in (True, False):
        emulator.set_schedule(warp_ahead, seed)
        d = _check_enet(np.random.default_rng(7), 6, 700, np.float64, True, True)
        results.append(d)
    dropped = []
    for warp_ahead in (True, False):
        emulator.set_schedule(warp_ahead, seed)
        dropped.append(
            _run_dropout(
                np.random.default_rng(8),
                "F16",
                4097,
                0,
                "add",
                seed=2**63 + 5,
                offset=2**64 - 1,
            )
        )
    np.testing.assert_array_equal(dropped[0][0], dropped[1][0])
    np.testing.assert_array_equal(dropped[0][1], dropped[1][1])


def test_block_size_must_be_whole_warps(cupy, monkeypatch):
    d = _enet_inputs(np.random.default_rng(0), 2, 10, np.float64, False, False)
    dev = {k: to_dev(v) for k, v in d.items()}
    for bad in (100, 16, 2048, 0):
        monkeypatch.setattr(_gpu, "BLOCK", bad)
        with pytest.raises(ValueError, match="multiple of 32"):
            _gpu.CudaOps().gap(
                dev["GY"],
                dev["W"],
                dev["C"],
                dev["yy"],
                dev["set_of"],
                dev["l1"],
                dev["l2"],
                dev["f"],
                False,
            )
        monkeypatch.setattr(_dropout_gpu, "BLOCK", bad)
        with pytest.raises(ValueError, match="multiple of 32"):
            D.dropout(cupy.asarray(np.ones(100, np.float32)), 0.5, seed=1)


# ------------------------------------------------------------ logistic kernels

LOGISTIC_SHAPES = [(1, 1, 1), (3, 5, 7), (4, 31, 33), (2, 257, 255), (5, 600, 40)]


def _logistic_inputs(rng, n, m, p, dtype, positive, specials):
    """Slabs of dtype T, float64 vectors; labels, weights and penalty weights."""
    Z = 3.0 * rng.standard_normal((n, m))
    if specials and m > 2:  # far tails: exp over/underflow in the sigmoid
        Z[:, :2] = [[-800.0, 750.0]]
    G = rng.standard_normal((n, p))
    Y = rng.standard_normal((n, p))
    W = Y + 0.1 * rng.standard_normal((n, p))
    if positive:
        W = np.abs(W)
    a1 = rng.uniform(0.5, 2.0, p) * (rng.random(p) > 0.2)
    if specials and p > 2:
        a1[1] = -1.0  # a constant column, held at 0
    return dict(
        Z=Z.astype(dtype),
        G=G.astype(dtype),
        Y=Y.astype(dtype),
        W=W.astype(dtype),
        b=rng.standard_normal(n),
        y=(rng.random(m) > 0.4).astype(np.float64),
        sw=rng.uniform(0.1, 1.0, m) / m,
        a1=a1,
        b2=np.where(a1 > 0, a1 * rng.uniform(0.5, 2.0, p), 0.0),
        l1=rng.uniform(0, 0.3, n) * (rng.random(n) > 0.2),
        l2=rng.uniform(0, 0.3, n) * (rng.random(n) > 0.3),
        yb=rng.standard_normal(n),
        wb=rng.standard_normal(n),
        gb=rng.standard_normal(n),
        t_mom=rng.uniform(1.0, 20.0, n),
    )


def _check_logistic(rng, n, m, p, dtype, positive, intercept, polish):
    d = _logistic_inputs(rng, n, m, p, dtype, positive, specials=polish > 0)
    dev = {k: to_dev(v) for k, v in d.items()}
    ops, twin = _binomial_gpu.CudaLogisticOps(), TwinLogisticOps
    tag = f"{np.dtype(dtype).name} n={n} m={m} p={p} +={positive} b={intercept}"
    # residual (and the intercept polish)
    R_g, R_c = to_dev(np.full((n, m), np.nan, dtype)), np.full((n, m), np.nan, dtype)
    b_c = d["b"].copy()
    s_g = ops.residual(dev["Z"], dev["b"], dev["y"], dev["sw"], R_g, polish).get()
    s_c = twin.residual(d["Z"], b_c, d["y"], d["sw"], R_c, polish)
    close = dict(rtol=1e-12, atol=1e-14, err_msg=tag)
    np.testing.assert_allclose(np.asarray(dev["b"]), b_c, **close)
    # a few ulps of T; 1e-12 in float64, where the polished b (a block sum)
    # already differs in its last bits
    rtol = max(4 * np.finfo(dtype).eps, 1e-12)
    np.testing.assert_allclose(np.asarray(R_g), R_c, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(s_g, s_c, rtol=1e-10, atol=1e-13, err_msg=tag)
    # the step: bit for bit
    slabs_g = [to_dev(np.full((n, p), np.nan, dtype)) for _ in range(2)]
    slabs_c = [np.full((n, p), np.nan, dtype) for _ in range(2)]
    vec_g = [to_dev(np.full(n, np.nan)) for _ in range(2)]
    vec_c = [np.full(n, np.nan) for _ in range(2)]
    t_c = d["t_mom"].copy()
    args = [("G",), ("Y", "W"), ("yb", "wb"), ("gb",), ("a1", "b2", "l1", "l2")]
    for src, slabs, vecs, t_mom, o in (
        (dev, slabs_g, vec_g, dev["t_mom"], ops),
        (d, slabs_c, vec_c, t_c, twin),
    ):
        (G,), (Y, W), (yb, wb), (gb,), pen = ([src[k] for k in a] for a in args)
        rows = (Y, W, *slabs)
        icpt = (yb, wb, *vecs, gb)
        o.step(G, rows, icpt, pen, t_mom, 0.37, positive, intercept)
    for a, b, what in [
        (slabs_g[0], slabs_c[0], "W_next"),
        (slabs_g[1], slabs_c[1], "Y_next"),
        (vec_g[0], vec_c[0], "wb_next"),
        (vec_g[1], vec_c[1], "yb_next"),
        (dev["t_mom"], t_c, "t_mom"),
    ]:
        assert _bits_equal(a, b), f"{what} differs: {tag}"
    # the gap and the loss
    pen = ("a1", "b2", "l1", "l2")
    g_g, l_g = ops.gap(
        dev["Z"],
        dev["b"],
        dev["G"],
        dev["W"],
        (dev["y"], dev["sw"]),
        tuple(dev[k] for k in pen),
        positive,
    )
    g_c, l_c = twin.gap(
        d["Z"],
        b_c,
        d["G"],
        d["W"],
        (d["y"], d["sw"]),
        tuple(d[k] for k in pen),
        positive,
    )
    np.testing.assert_allclose(l_g.get(), l_c, rtol=1e-12, err_msg=tag)
    scale = l_c + np.abs(d["W"]).sum(1) * (np.abs(d["G"]).max() + 1)
    np.testing.assert_allclose(g_g.get(), g_c, rtol=1e-12, atol=1e-13 * scale.max())
    assert (g_c >= 0).all()


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logistic_kernels_equal_their_twins(cupy, emulator, dtype, positive, intercept):
    rng = np.random.default_rng(20261202 + 2 * positive + intercept)
    for n, m, p in LOGISTIC_SHAPES:
        for polish in (0, 3):
            _check_logistic(rng, n, m, p, dtype, positive, intercept, polish)
    t = "float" if dtype == np.float32 else "double"
    names = {name for name, _, _ in emulator.launches}
    assert names == {f"logistic_{k}<{t}>" for k in ("residual", "step", "gap")}
    assert emulator.counts()["warnings"] == 0


@pytest.mark.parametrize("block", [32, 1024])
def test_logistic_kernels_at_other_block_sizes(cupy, emulator, monkeypatch, block):
    monkeypatch.setattr(_binomial_gpu, "BLOCK", block)
    rng = np.random.default_rng(block)
    for n, m, p in [(3, 5, 4), (2, 1025, 33), (4, 70, 2049)]:
        _check_logistic(rng, n, m, p, np.float64, False, True, 2)
    assert {b for _, _, b in emulator.launches} == {(block, 1, 1)}


def test_logistic_polish_makes_the_intercept_optimal(cupy):
    """After the Newton polish, Σ sw (y - sigmoid(z)) is rounding."""
    rng = np.random.default_rng(5)
    d = _logistic_inputs(rng, 4, 300, 3, np.float64, False, False)
    b = to_dev(np.full(4, 3.0))  # far from the optimum
    R = to_dev(np.empty((4, 300)))
    rsum = _binomial_gpu.CudaLogisticOps().residual(
        to_dev(d["Z"]), b, to_dev(d["y"]), to_dev(d["sw"]), R, 8
    )
    assert np.abs(rsum.get()).max() < 1e-15
    assert np.abs(np.asarray(b) - 3.0).min() > 0.1


def test_binomial_engine_on_the_emulated_kernels_equals_the_twin_engine(
    cupy, monkeypatch
):
    """The binomial GPU engine (GEMMs, kernels, checks, compaction, early
    stop) through CudaLogisticOps on the emulator: the same fits and
    iteration counts as on the twins (tests/test_binomial_gpu.py checks the
    twins' accuracy against the CPU solver and scikit-learn)."""
    from test_binomial_gpu import small_problem

    monkeypatch.setattr(_binomial_gpu, "BLOCK", 32)
    args, spec = small_problem(n=40, p=5, n_alphas=4, cv=2)
    emu = _binomial_gpu.solve_sets(
        _binomial_gpu.CudaLogisticOps(), *args, spec, budget=1 << 30
    )
    twin = _binomial_gpu.solve_sets(TwinLogisticOps(), *args, spec, budget=1 << 30)
    np.testing.assert_array_equal(emu[3], twin[3])  # iterations
    np.testing.assert_array_equal(emu[4], twin[4])  # early stops
    for a, b in zip(emu[:3], twin[:3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- dropout

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": BF16}
SIZES = [1, 3, 7, 8, 31, 32, 33, 100, 1000, 4097, 65_537]


def _storage(x, tag):
    return x.view(np.uint16) if tag in ("F16", "BF16") else x


def _run_dropout(rng, tag, n, misalign, variant, *, seed=None, offset=None, p=None):
    """One launch through ``_dropout_gpu`` and the CPU twin ``_dropout_cpu``.

    Returns the (device, twin) outputs as storage bits and the two masks.
    """
    dt = DTYPES[tag]
    p = float(rng.choice([0.0, 0.1, 0.5, 0.9, 1.0])) if p is None else p
    if seed is None:
        seed = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
    if offset is None:
        offset = (
            int(rng.integers(0, 2**40))
            if rng.random() < 0.5
            else int(rng.integers(2**63, 2**64, dtype=np.uint64))
        )
    buf = (rng.standard_normal(n + 2) * 3).astype(np.float32)
    specials = np.array(
        [1e-40, -1e-42, np.inf, -np.inf, -0.0, 6e-8, 3e38, np.nan], np.float32
    )
    k = min(specials.size, n + 2)
    buf[rng.choice(n + 2, k, replace=False)] = specials[:k]
    with np.errstate(over="ignore"):  # 3e38 is inf in 16 bits
        x = to_dev(buf.astype(dt))[misalign : misalign + n]  # misaligned view
    residual = bias = None
    bias_n = 1
    if variant == "add":
        rb = rng.standard_normal(n + 2).astype(np.float32).astype(dt)
        residual = to_dev(rb)[misalign : misalign + n]
        bias_n = int(rng.choice([d for d in (1, 2, 3, 5, 7) if n % d == 0]))
        bias = to_dev(rng.standard_normal(bias_n).astype(np.float32).astype(dt))
    want_mask = variant != "nomask"
    st = [None if a is None else _storage(a, tag) for a in (x, residual, bias)]
    out_g = (
        to_dev(np.full(n, 0x5A5A, np.uint16))
        if tag in ("F16", "BF16")
        else to_dev(np.full(n, np.nan, dt))
    )
    thr, scale = D.threshold(p), D._scale(p, tag)
    words_g = _dropout_gpu.dropout_forward(
        *st, out_g, n, bias_n, tag, seed, offset, thr, scale, want_mask
    )
    host = [None if a is None else np.array(a) for a in st]
    out_c = np.empty_like(np.asarray(out_g))
    words_c = _dropout_cpu.dropout_forward(
        *host, out_c, n, bias_n, tag, seed, offset, thr, scale, want_mask
    )
    return (
        np.asarray(out_g),
        out_c,
        None if words_g is None else np.asarray(words_g),
        words_c,
    )


def _same_values(og, oc, tag):
    if tag in ("F16", "BF16"):
        as_float = og.view(np.float16 if tag == "F16" else BF16).astype(np.float32)
        nan_g = np.isnan(as_float)
        nan_c = np.isnan(
            oc.view(np.float16 if tag == "F16" else BF16).astype(np.float32)
        )
        return np.array_equal(nan_g, nan_c) and np.array_equal(og[~nan_g], oc[~nan_c])
    return _bits_equal(og, oc)


@pytest.mark.parametrize("variant", ["plain", "add", "nomask"])
@pytest.mark.parametrize("tag", list(DTYPES))
def test_dropout_kernel_equals_its_twin(cupy, emulator, tag, variant):
    if DTYPES[tag] is None:
        pytest.skip("ml_dtypes is not installed")
    rng = np.random.default_rng(hash((tag, variant)) % 2**32)
    for sms in (132, 1):  # H200, and one SM: a grid of 32 blocks strides many times
        emu_tools.configure(sms=sms)
        for n in SIZES:
            for misalign in (0, 1):
                og, oc, wg, wc = _run_dropout(rng, tag, n, misalign, variant)
                name = emulator.launches[-1][0]
                where = f"{name} n={n} misalign={misalign} sms={sms}"
                assert _same_values(og, oc, tag), where
                if variant == "nomask":
                    assert wg is None and wc is None
                else:
                    np.testing.assert_array_equal(wg, wc, err_msg=where)
    names = {nm for nm, _, _ in emulator.launches}
    assert names == {f"dropout_fwd<{tag}, true>", f"dropout_fwd<{tag}, false>"}
    assert emulator.counts()["warnings"] == 0


@pytest.mark.parametrize("block", [32, 128, 1024])
def test_dropout_at_other_block_sizes_and_many_grid_strides(
    cupy, emulator, monkeypatch, block
):
    monkeypatch.setattr(_dropout_gpu, "BLOCK", block)
    emu_tools.configure(sms=1)
    rng = np.random.default_rng(block)
    for tag in ("F32", "BF16"):
        if DTYPES[tag] is None:
            continue
        for n in (33, 8 * 32 * block * 3 + 5):  # > 3 grid-stride trips
            og, oc, wg, wc = _run_dropout(
                rng, tag, n, 1, "add", seed=2**64 - 1, offset=2**63
            )
            assert _same_values(og, oc, tag)
            np.testing.assert_array_equal(wg, wc)
    grids = {g[0] for _, g, _ in emulator.launches}
    assert max(grids) == 32  # 32 blocks per SM, one SM


def test_float16_conversions_every_value(cupy):
    """All 65,536 half values through load -> (+ bias) -> round to nearest
    even -> store, against numpy's float16 (subnormals, overflow to inf)."""
    x = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    rng = np.random.default_rng(3)
    for bias in (
        np.zeros(1, np.float16),
        np.array([2.0**-24, -(2.0**-25) * 3, 65504.0, 0.5], np.float16)[
            rng.integers(0, 4, 1)
        ],
        rng.standard_normal(16).astype(np.float16),
    ):
        x2 = x.reshape(-1, bias.size)
        y = D.dropout_add(
            to_dev(x2), to_dev(np.zeros_like(x2)), 0.0, bias=to_dev(bias), seed=0
        )
        with np.errstate(over="ignore", invalid="ignore"):
            ref = (
                (x.reshape(-1, bias.size).astype(np.float32) + bias.astype(np.float32))
                .astype(np.float16)
                .reshape(-1)
            )
        got = np.asarray(y).reshape(-1)
        nan = np.isnan(ref)
        np.testing.assert_array_equal(np.isnan(got), nan)
        np.testing.assert_array_equal(
            got[~nan].view(np.uint16), ref[~nan].view(np.uint16)
        )


def test_dropout_runs_on_the_device_of_its_data(cupy, emulator):
    """CuPy launches on the *current* device: data on device 1 must bring it
    along (a launch on device 0 with device-1 pointers is an error)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(1000).astype(np.float32)
    emu_tools.configure(device=1)
    x1 = to_dev(x)
    emu_tools.configure(device=0)
    y1, m1 = D.dropout(x1, 0.3, seed=11, offset=2**63 + 1, return_mask=True)
    assert y1.device.id == 1 and m1.device.id == 1
    y0, m0 = D.dropout(
        x, 0.3, seed=11, offset=2**63 + 1, return_mask=True, backend="cpu"
    )
    np.testing.assert_array_equal(np.asarray(y1), y0)
    np.testing.assert_array_equal(np.asarray(m1), m0)
    assert emu_tools._STATE["device"] == 0  # the caller's device is restored
    r0 = to_dev(x)
    with pytest.raises(ValueError, match="device 0"):
        D.dropout_add(x1, r0, 0.3, seed=1)


# ------------------------------------------------- the engine, end to end


def test_engine_on_the_emulated_kernels_equals_the_twin_engine(cupy, monkeypatch):
    """The whole FISTA engine (planner, GEMMs, kernels, compaction, checks)
    through CudaOps on the emulator: the same fits and iteration counts as on
    the twins (whose accuracy contract tests/test_fista_accuracy.py checks)."""
    from test_gpu_engine import _batch, _grid

    monkeypatch.setattr(_gpu, "BLOCK", 32)  # fewer fibers; 256 is tested above
    batch = _batch(40, 7, seed=3, cv=2, weighted=True)
    rhos = np.array([0.5, 1.0])
    f = np.ones(7)
    f[2] = 0.0
    grid = _grid(batch, rhos, n_alphas=4, f=f)
    kw = dict(positive=False, tol=1e-6, max_iter=3000)
    emu = _fista.solve_paths_with(_gpu.CudaOps(), batch, grid, rhos, f, **kw)
    twin = _fista.solve_paths_with(TwinOps, batch, grid, rhos, f, **kw)
    np.testing.assert_array_equal(emu.n_iter, twin.n_iter)
    np.testing.assert_allclose(emu.coef, twin.coef, rtol=1e-13, atol=1e-15)
    assert (emu.dual_gap <= 1e-6 * batch.stats.yy[:, None, None]).all()


class _FakeTorch:
    """Just enough of torch for gpureg.dropout's CUDA-tensor path: tensors are
    stand-in device arrays; ``from_dlpack`` records the stream it ran on."""

    float32, float64, float16, bfloat16, int16 = "f4", "f8", "f2", "bf16", "i2"
    _np = {"f4": np.float32, "f8": np.float64, "f2": np.float16, "i2": np.int16}

    def __init__(self, stream):
        self.handoffs = []
        self.cuda = type(
            "cuda",
            (),
            {
                "current_stream": staticmethod(
                    lambda dev: type("S", (), {"cuda_stream": stream})()
                )
            },
        )

    class Tensor:
        __module__ = "torch"

        def __init__(self, arr, dtype):
            self.arr, self.dtype = arr, dtype
            self.shape = arr.shape
            self.is_cuda = True
            self.device = type("dev", (), {"index": arr.device_id, "type": "cuda"})()

        def detach(self):
            return self

        def contiguous(self):
            return self

        def reshape(self, *shape):
            return type(self)(self.arr.reshape(*shape), self.dtype)

        def view(self, dtype):
            return type(self)(self.arr.view(_FakeTorch._np[dtype]), dtype)

    def empty(self, shape, dtype, device):
        arr = to_dev(np.empty(shape, self._np[dtype]))
        arr.device_id = device.index
        return self.Tensor(arr, dtype)

    def from_dlpack(self, arr):
        self.handoffs.append(emu_tools._STATE["stream"])
        return self.Tensor(arr, "i4")


def test_torch_cuda_tensor_on_a_side_stream_and_another_device(cupy, monkeypatch):
    """A CUDA tensor on device 1 and a non-default torch stream: the kernel
    runs on device 1, and the mask is handed to torch on torch's stream (it
    was copied to the host after the stream context had closed: unordered
    after the kernel on a non-blocking stream)."""
    torch = _FakeTorch(stream=0xBEEF)
    monkeypatch.setitem(__import__("sys").modules, "torch", torch)
    cupy.from_dlpack = lambda t: t.arr
    x = np.random.default_rng(9).standard_normal((33, 7)).astype(np.float32)
    xd = to_dev(x)
    xd.device_id = 1
    y, mask = D.dropout(
        torch.Tensor(xd, "f4"), 0.25, seed=2**63 + 7, offset=3, return_mask=True
    )
    y0, m0 = D.dropout(
        x, 0.25, seed=2**63 + 7, offset=3, return_mask=True, backend="cpu"
    )
    np.testing.assert_array_equal(np.asarray(y.arr), y0)
    np.testing.assert_array_equal(np.asarray(mask.arr).view(np.uint32), m0)
    assert torch.handoffs == [0xBEEF]  # the mask, on torch's stream
    assert all(stream == 0xBEEF for _, stream, _ in emu_tools._STATE["gets"])
    assert y.arr.device_id == 1
