"""Dropout and its RNG: Random123 answers, the docs/design.md §6 mapping, statistics."""

import numpy as np
import pytest

import gpureg
from gpureg import Dropout, dropout, dropout_add, dropout_add_backward, philox4x32
from gpureg.backends._dropout_cpu import _philox10
from gpureg.dropout import threshold

try:  # numpy's bfloat16 dtype; the GPU machine may not have it
    import ml_dtypes

    BF16 = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover - depends on the machine
    BF16 = None

needs_bf16 = pytest.mark.skipif(BF16 is None, reason="ml_dtypes is not installed")


# --------------------------------------------------------------- the generator


@pytest.mark.parametrize(
    "counter, key, expected",
    [
        ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        (
            [0xFFFFFFFF] * 4,
            [0xFFFFFFFF] * 2,
            [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD],
        ),
        (
            [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
            [0xA4093822, 0x299F31D0],
            [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
        ),
    ],
)
def test_philox_random123_known_answers(counter, key, expected):
    out = philox4x32(np.array(counter, np.uint32), np.array(key, np.uint32))
    assert out.dtype == np.uint32
    np.testing.assert_array_equal(out, np.array(expected, np.uint32))
    c = tuple(np.uint64(v) for v in counter)
    k = tuple(np.uint64(v) for v in key)
    assert [int(v) for v in _philox10(*c, *k)] == expected  # the numba twin


def test_philox_is_vectorized_and_broadcasts():
    rng = np.random.default_rng(0)
    ctr = rng.integers(0, 2**32, (5, 3, 4), dtype=np.uint64).astype(np.uint32)
    key = rng.integers(0, 2**32, (3, 2), dtype=np.uint64).astype(np.uint32)
    out = philox4x32(ctr, key)
    assert out.shape == (5, 3, 4)
    for i in range(5):
        for j in range(3):
            np.testing.assert_array_equal(out[i, j], philox4x32(ctr[i, j], key[j]))
            twin = _philox10(
                *(np.uint64(v) for v in ctr[i, j]), *(np.uint64(v) for v in key[j])
            )
            np.testing.assert_array_equal([int(v) for v in twin], out[i, j])


@pytest.mark.parametrize(
    "counter, key, exc",
    [
        ([0, 0, 0], [0, 0], ValueError),
        ([0, 0, 0, 0], [0], ValueError),
        ([0.5, 0, 0, 0], [0, 0], TypeError),
        ([-1, 0, 0, 0], [0, 0], ValueError),
        ([2**32, 0, 0, 0], [0, 0], ValueError),
    ],
)
def test_philox_bad_input(counter, key, exc):
    with pytest.raises(exc):
        philox4x32(counter, key)


# ------------------------------------------------------------ the mapping


def _mapping(n, seed, offset, p):
    """docs/design.md §6 written out with the vectorized generator."""
    q = np.arange(-(-n // 4), dtype=np.uint64)
    m = np.uint64(0xFFFFFFFF)
    ctr = np.stack(
        [
            q & m,
            q >> np.uint64(32),
            np.full_like(q, offset & 0xFFFFFFFF),
            np.full_like(q, offset >> 32),
        ],
        axis=-1,
    )
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint64)
    words = philox4x32(ctr, key).reshape(-1)[:n].astype(np.uint64)
    return words >= np.uint64(round(p * 2**32))


def _unpack(words, n):
    return np.unpackbits(words.view(np.uint8), bitorder="little")[:n].astype(bool)


@pytest.mark.parametrize(
    "n, seed, offset, p",
    [
        (1, 0, 0, 0.5),
        (7, 1, 2, 0.3),
        (33, 2**32 + 5, 3, 0.5),
        (1000, 123456789, 2**40 + 7, 0.1),
        (4099, 2**64 - 1, 2**64 - 1, 0.9),
        (64, 42, 0, 0.25),
    ],
)
def test_cpu_mask_is_the_documented_mapping(n, seed, offset, p):
    x = np.random.default_rng(n).uniform(0.5, 2.0, n).astype(np.float32)
    y, words = dropout(x, p, seed=seed, offset=offset, return_mask=True)
    keep = _mapping(n, seed, offset, p)
    assert words.dtype == np.uint32 and words.shape == (-(-n // 32),)
    np.testing.assert_array_equal(_unpack(words, n), keep)
    np.testing.assert_array_equal(y != 0, keep)
    scale = np.float32(1.0 / (1.0 - p))
    np.testing.assert_array_equal(y[keep], x[keep] * scale)  # exact, float32


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_is_binomial(p):
    n = 1_000_000
    y = dropout(np.ones(n, np.float32), p, seed=7)
    kept = np.count_nonzero(y)
    sd = np.sqrt(n * p * (1 - p))
    assert abs(kept - n * (1 - p)) < 5 * sd
    # and no structure along the array: each quarter keeps its share
    for part in np.split(y, 4):
        assert abs(np.count_nonzero(part) - n / 4 * (1 - p)) < 5 * sd / 2


@pytest.mark.parametrize(
    "dtype", [np.float16, pytest.param(BF16, marks=needs_bf16), np.float32, np.float64]
)
def test_masks_do_not_depend_on_the_dtype(dtype):
    x = np.random.default_rng(1).uniform(0.5, 2.0, (37, 11)).astype(dtype)
    _, m32 = dropout(x.astype(np.float32), 0.4, seed=9, offset=3, return_mask=True)
    y, m = dropout(x, 0.4, seed=9, offset=3, return_mask=True)
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(m, m32)
    keep = _unpack(m, x.size).reshape(x.shape)
    ctype = np.float64 if dtype == np.float64 else np.float32
    want = (
        x.astype(ctype) * ctype(np.float32(1 / 0.6))
        if dtype != np.float64
        else x * (1 / 0.6)
    ).astype(dtype)
    np.testing.assert_array_equal(
        y[keep].astype(np.float64), want[keep].astype(np.float64)
    )
    assert np.all(y[~keep].astype(np.float64) == 0)


@needs_bf16
def test_bfloat16_rounds_to_nearest_even():
    from gpureg.backends._dropout_cpu import _from_float

    f = np.array([1.0, 1.0 + 2**-8, 1.0 + 3 * 2**-8, -2.5, 3.4e38, np.inf], np.float32)
    got = _from_float(f, "BF16").view(BF16)
    np.testing.assert_array_equal(got, f.astype(BF16))  # ml_dtypes: RNE


def test_identity_zero_one_and_backward():
    x = np.random.default_rng(2).standard_normal((8, 9)).astype(np.float32)
    assert dropout(x, 0.7, seed=1, training=False) is x
    np.testing.assert_array_equal(dropout(x, 0.0, seed=1), x)
    assert np.all(dropout(x, 1.0, seed=1) == 0)
    y = dropout(x, 0.3, seed=4, offset=5)
    g = np.ones_like(x)
    gx = gpureg.dropout_backward(g, 0.3, seed=4, offset=5)
    np.testing.assert_array_equal(gx != 0, y != 0)
    np.testing.assert_array_equal(gx[gx != 0], np.float32(1 / 0.7))


def test_seeds_and_offsets_give_different_masks():
    x = np.ones(4096, np.float32)
    base = dropout(x, 0.5, seed=1, offset=0) != 0
    for kw in (
        dict(seed=2, offset=0),
        dict(seed=1, offset=1),
        dict(seed=1 + 2**32, offset=0),
        dict(seed=1, offset=2**32),
    ):
        other = dropout(x, 0.5, **kw) != 0
        assert 0.4 < np.mean(base != other) < 0.6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_add_equals_its_unfused_composition(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 24)).astype(dtype)
    r = rng.standard_normal((16, 24)).astype(dtype)
    b = rng.standard_normal(24).astype(dtype)
    y = dropout_add(x, r, 0.2, bias=b, seed=11, offset=2)
    np.testing.assert_array_equal(y, r + dropout(x + b, 0.2, seed=11, offset=2))
    np.testing.assert_array_equal(
        dropout_add(x, r, 0.2, seed=11, offset=2),
        r + dropout(x, 0.2, seed=11, offset=2),
    )
    np.testing.assert_array_equal(
        dropout_add(x, r, 0.2, bias=b, seed=11, training=False), r + (x + b)
    )
    g = rng.standard_normal((16, 24)).astype(dtype)
    gx, gr, gb = dropout_add_backward(g, 0.2, seed=11, offset=2, bias=True)
    np.testing.assert_array_equal(gx, dropout(g, 0.2, seed=11, offset=2))
    assert gr is g
    np.testing.assert_allclose(gb, gx.sum(axis=0), rtol=1e-6)


def test_layer_advances_offsets_and_backward_uses_the_last_mask():
    layer = Dropout(0.5, seed=123)
    x = np.ones(1000, np.float32)
    a, b = layer(x), layer(x)
    assert layer.offset == 2 and not np.array_equal(a, b)
    np.testing.assert_array_equal(b, dropout(x, 0.5, seed=123, offset=1))
    np.testing.assert_array_equal(layer.backward(x) != 0, b != 0)
    assert layer.eval()(x) is x and layer.backward(x) is x
    layer.train()
    assert isinstance(Dropout().seed, int) and Dropout().seed != Dropout().seed


def test_caller_arrays_are_untouched_and_shapes_kept():
    x = np.random.default_rng(5).standard_normal((3, 4, 5)).astype(np.float32)
    xc = x.copy()
    y = dropout(np.asfortranarray(x), 0.5, seed=1)
    np.testing.assert_array_equal(x, xc)
    np.testing.assert_array_equal(y, dropout(x, 0.5, seed=1))  # C order index
    assert dropout(np.float32(2.0), 0.0, seed=0).shape == ()


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda x: dropout(x, 1.5, seed=0), ValueError, "p must lie in"),
        (lambda x: dropout(x, -0.1, seed=0), ValueError, "p must lie in"),
        (lambda x: dropout(x, "a", seed=0), TypeError, "p must be"),
        (lambda x: dropout(x.astype(np.int32), 0.5, seed=0), TypeError, "floating"),
        (lambda x: dropout(np.array(["a", "b"]), 0.5, seed=0), TypeError, "floating"),
        (lambda x: dropout(x, 0.5, seed=-1), ValueError, "seed"),
        (lambda x: dropout(x, 0.5, seed=1.5), TypeError, "seed"),
        (lambda x: dropout(x, 0.5, seed=2**64), ValueError, "seed"),
        (lambda x: dropout(x, 0.5, seed=0, offset=-3), ValueError, "offset"),
        (lambda x: dropout(x, 0.5, seed=True), TypeError, "seed"),
        (lambda x: dropout(x, 0.5, seed=0, backend="tpu"), ValueError, "backend"),
        (lambda x: dropout_add(x, x[:2], 0.5, seed=0), ValueError, "residual"),
        (
            lambda x: dropout_add(x, x, 0.5, bias=np.ones(3, np.float32), seed=0),
            ValueError,
            "bias",
        ),
        (
            lambda x: dropout_add(x, x.astype(np.float64), 0.5, seed=0),
            TypeError,
            "residual",
        ),
    ],
)
def test_bad_input_is_named(call, exc, match):
    x = np.ones((4, 5), np.float32)
    with pytest.raises(exc, match=match):
        call(x)


def test_threshold_is_round_p_two_to_32():
    assert threshold(0.0) == 0 and threshold(1.0) == 2**32
    assert threshold(0.5) == 2**31
    assert threshold(1e-10) == round(1e-10 * 2**32)


# ------------------------------------------------------------- other families


def test_torch_cpu_tensors_round_trip():
    torch = pytest.importorskip("torch")
    x = torch.linspace(-2, 2, 100).reshape(10, 10)
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        xt = x.to(dt)
        y, m = dropout(xt, 0.5, seed=3, offset=1, return_mask=True)
        assert isinstance(y, torch.Tensor) and y.dtype == dt and y.shape == xt.shape
        ref = dropout(x.numpy(), 0.5, seed=3, offset=1)
        np.testing.assert_array_equal((y != 0).numpy(), ref != 0)


# --------------------------------------------------------------------- GPU


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("n", [1, 31, 4097, 1_000_003])
def test_gpu_is_bit_identical_to_cpu(dtype, n):
    import cupy

    if dtype == "bfloat16" and BF16 is None:
        pytest.skip("ml_dtypes is not installed")

    rng = np.random.default_rng(n)
    host = rng.standard_normal(n).astype(np.float32)
    if dtype in ("float32", "bfloat16"):
        # subnormals: the kernel must not flush them (CuPy compiles with -ftz)
        sub = np.array(
            [1e-39, -2e-40, np.finfo(np.float32).smallest_subnormal, 0], np.float32
        )
        host[: min(n, 4)] = sub[: min(n, 4)]
    host = host.astype(BF16 if dtype == "bfloat16" else dtype)
    seed, offset = 2**33 + 17, 2**35 + 3
    y_cpu, m_cpu = dropout(host, 0.3, seed=seed, offset=offset, return_mask=True)
    y_g, m_g = dropout(
        host, 0.3, seed=seed, offset=offset, backend="gpu", return_mask=True
    )
    np.testing.assert_array_equal(y_g.view(np.uint8), y_cpu.view(np.uint8))
    np.testing.assert_array_equal(m_g, m_cpu)
    if dtype != "bfloat16" and n > 1:
        # a device view one element in: not 16-byte aligned, the scalar path
        xd = cupy.asarray(host)
        for view, ref in ((xd, host), (xd[1:], host[1:])):
            y_d, m_d = dropout(view, 0.3, seed=seed, offset=offset, return_mask=True)
            assert isinstance(y_d, cupy.ndarray)
            y_c, m_c = dropout(ref, 0.3, seed=seed, offset=offset, return_mask=True)
            np.testing.assert_array_equal(
                cupy.asnumpy(y_d).view(np.uint8), y_c.view(np.uint8)
            )
            np.testing.assert_array_equal(cupy.asnumpy(m_d), m_c)
    r = rng.standard_normal(n).astype(host.dtype)
    a = dropout_add(host, r, 0.3, seed=seed, offset=offset, backend="gpu")
    b = dropout_add(host, r, 0.3, seed=seed, offset=offset, backend="cpu")
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.gpu
def test_gpu_torch_cuda_tensors_without_copy():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    x = torch.randn(1000, 64, device="cuda", dtype=torch.bfloat16)
    y = dropout(x, 0.1, seed=5)
    assert y.is_cuda and y.dtype == torch.bfloat16
    ref = dropout(x.cpu(), 0.1, seed=5)
    assert torch.equal(y.cpu(), ref)


def test_layer_backward_needs_a_forward_of_the_same_shape():
    """backward() before any forward returned grad_y unchanged, and a grad_y
    of another shape was not checked."""
    layer = Dropout(0.5, seed=3)
    g = np.ones((4, 5), np.float32)
    with pytest.raises(RuntimeError, match="before any forward"):
        layer.backward(g)
    layer(np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match=r"shape \(5, 4\).*\(4, 5\)"):
        layer.backward(np.ones((5, 4), np.float32))
    np.testing.assert_array_equal(layer.backward(g), dropout(g, 0.5, seed=3, offset=0))
    layer.eval()
    layer(np.ones(7))
    np.testing.assert_array_equal(layer.backward(np.arange(7.0)), np.arange(7.0))
