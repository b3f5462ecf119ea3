"""gpureg.torch: autograd through regenerated masks, layer state, MC dropout."""

from __future__ import annotations

import io

import numpy as np
import pytest

import gpureg

torch = pytest.importorskip("torch")
gt = pytest.importorskip("gpureg.torch")


def _mask(shape, p, seed, offset):
    """The keep mask of (seed, offset) as booleans, from gpureg.dropout's bits."""
    n = int(np.prod(shape))
    _, words = gpureg.dropout(np.ones(n), p, seed=seed, offset=offset, return_mask=True)
    bits = np.unpackbits(words.view(np.uint8), bitorder="little")[:n]
    return torch.from_numpy(bits.astype(bool).reshape(shape))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_gradcheck_in_float64(p):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    r = torch.randn(5, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(7, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: gt.dropout(x, p, seed=3, offset=11), (x,))
    assert torch.autograd.gradcheck(
        lambda x, r, b: gt.dropout_add(x, r, p, bias=b, seed=3, offset=11), (x, r, b)
    )
    assert torch.autograd.gradgradcheck(
        lambda x: gt.dropout(x, p, seed=3, offset=11), (x,)
    )


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_forward_and_gradient_equal_an_explicit_mask(dtype):
    dt = getattr(torch, dtype)
    p, seed, offset = 0.3, 2024, 5
    x = torch.linspace(-3, 3, 6 * 50, dtype=torch.float64).reshape(6, 50)
    x = x.to(dt).requires_grad_()
    g = torch.linspace(1, 2, 300, dtype=torch.float64).reshape(6, 50).to(dt)
    keep = _mask(x.shape, p, seed, offset)
    scale = 1.0 / (1.0 - p)
    y = gt.dropout(x, p, seed=seed, offset=offset)
    y.backward(g)
    # the reference: the mask stored, multiplied in the arithmetic dtype
    arith = torch.float64 if dtype == "float64" else torch.float32
    s = torch.tensor(scale, dtype=arith)
    ref_y = (x.detach().to(arith) * keep * s).to(dt)
    ref_g = (g.to(arith) * keep * s).to(dt)
    assert y.dtype == dt and x.grad.dtype == dt
    assert torch.equal(y.detach(), ref_y) and torch.equal(x.grad, ref_g)
    assert 0.55 < keep.float().mean() < 0.85  # ~0.7 kept


def test_dropout_add_forward_and_gradients():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, 8, dtype=torch.float64, generator=gen, requires_grad=True)
    r = torch.randn(4, 3, 8, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(8, dtype=torch.float64, generator=gen, requires_grad=True)
    g = torch.randn(4, 3, 8, dtype=torch.float64, generator=gen)
    keep = _mask(x.shape, 0.4, 9, 1)
    y = gt.dropout_add(x, r, 0.4, bias=b, seed=9, offset=1)
    y.backward(g)
    expected = r + (x + b) * keep / 0.6
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-15)
    torch.testing.assert_close(x.grad, g * keep / 0.6, rtol=0, atol=0)
    assert torch.equal(r.grad, g)
    torch.testing.assert_close(b.grad, (g * keep / 0.6).sum((0, 1)), rtol=1e-15, atol=0)
    # no bias; eval: residual + x
    y = gt.dropout_add(x, r, 0.4, seed=9, offset=1, training=False)
    torch.testing.assert_close(y, x + r, rtol=0, atol=0)


def test_layer_modes_offsets_and_each_calls_own_mask():
    layer = gt.Dropout(0.5, seed=77)
    x = torch.ones(64, requires_grad=True)
    y1, y2 = layer(x), layer(x)  # offsets 0 and 1: two masks
    assert layer.offset == 2 and not torch.equal(y1, y2)
    (y1 * 1 + y2 * 10).sum().backward()  # each backward finds its own call's mask
    k1, k2 = _mask((64,), 0.5, 77, 0), _mask((64,), 0.5, 77, 1)
    assert torch.equal(x.grad, (k1 * 2.0 + k2 * 20.0).float())
    layer.eval()
    assert layer(x) is x and layer.offset == 2  # the identity; no offset used
    add = gt.DropoutAdd(0.5, seed=1).eval()
    torch.testing.assert_close(add(x, x, torch.ones(64)), 2 * x + 1, rtol=0, atol=0)
    assert "p=0.5, seed=77" in repr(layer)


def _net(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(5, 16),
        gt.Dropout(0.3, seed=11),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 16),
        gt.Dropout(0.3, seed=12),
        torch.nn.Linear(16, 1),
    )


def _steps(net, opt, X, y, n):
    losses = []
    for _ in range(n):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(X).squeeze(1), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_a_run_resumed_from_a_checkpoint_draws_the_same_masks():
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(32, 5, generator=gen)
    y = X[:, 0] - X[:, 1]
    net = _net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    _steps(net, opt, X, y, 3)
    buf = io.BytesIO()
    torch.save({"net": net.state_dict(), "opt": opt.state_dict()}, buf)
    straight = _steps(net, opt, X, y, 4)
    assert net[1].offset == 7 and net[4].offset == 7

    buf.seek(0)
    state = torch.load(buf, weights_only=False)
    resumed = _net(99)  # other weights, other seeds' layers: all restored
    resumed[1].seed = resumed[4].seed = 5
    resumed.load_state_dict(state["net"])
    opt2 = torch.optim.SGD(resumed.parameters(), lr=0.05)
    opt2.load_state_dict(state["opt"])
    assert (resumed[1].seed, resumed[1].offset) == (11, 3)
    assert _steps(resumed, opt2, X, y, 4) == straight


def test_mc_predict_is_deterministic_restores_the_model_and_averages():
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(20, 5, generator=gen)
    net = _net(0)
    net.append(torch.nn.Dropout(0.2))  # torch's own: seeded too
    net.eval()
    before = [m.get_extra_state() for m in (net[1], net[4])]
    mean, std = gt.mc_predict(net, X, n_samples=30, seed=4)
    again = gt.mc_predict(net, X, n_samples=30, seed=4)
    assert torch.equal(mean, again[0]) and torch.equal(std, again[1])
    other = gt.mc_predict(net, X, n_samples=30, seed=5)[0]
    assert not torch.equal(mean, other)
    assert not net.training and not net[1].training  # modes restored
    assert [m.get_extra_state() for m in (net[1], net[4])] == before
    assert mean.shape == (20, 1) and (std > 0).all()
    # the samples themselves: layer seeds from (seed, index), offsets s * 2**32
    seeds = [gt._layer_seed(4, i) for i in range(2)]
    outs = []
    state = torch.random.get_rng_state()
    torch.manual_seed(4)
    net.train()
    with torch.no_grad():
        for s in range(30):
            for layer, sd in zip((net[1], net[4]), seeds, strict=True):
                layer.seed, layer.offset = sd, s * gt.MC_OFFSET_STRIDE
            outs.append(net(X))
    torch.random.set_rng_state(state)
    stack = torch.stack(outs)
    assert torch.equal(mean, stack.mean(0)) and torch.equal(std, stack.std(0))
    one = gt.mc_predict(net, X, n_samples=1, seed=4)
    assert torch.equal(one[1], torch.zeros(20, 1))


def test_bad_arguments_are_named():
    x = torch.ones(3)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        gt.Dropout(1.5)
    with pytest.raises(ValueError, match="seed must lie in"):
        gt.dropout(x, 0.5, seed=-1)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        gt.Dropout(0.5, seed=0)(np.ones(3))
    with pytest.raises(ValueError, match="residual has shape"):
        gt.dropout_add(x, torch.ones(4), 0.5, seed=0)
    with pytest.raises(ValueError, match="n_samples must be at least 1"):
        gt.mc_predict(_net(0), torch.ones(2, 5), n_samples=0)
    with pytest.raises(ValueError, match="has no dropout layer"):
        gt.mc_predict(torch.nn.Linear(5, 1), torch.ones(2, 5))
    with pytest.raises(ValueError, match="state must be a dict"):
        gt.Dropout(0.5).set_extra_state({"seed": 1})
    with pytest.raises(TypeError, match="same kind of array and dtype"):
        gt.dropout_add(x, torch.ones(3, dtype=torch.float64), 0.5, seed=0)


def test_public_functions_are_typed_and_documented():
    import inspect

    for fn in (gt.dropout, gt.dropout_add, gt.mc_predict):
        sig = inspect.signature(fn)
        assert all(p.annotation is not p.empty for p in sig.parameters.values())
        doc = inspect.getdoc(fn)
        assert "Parameters\n----------" in doc and "Returns\n-------" in doc


def test_the_worked_example_runs_and_is_reproducible(tmp_path):
    """examples/dropout_mlp.py, shortened: same numbers on a rerun, and the
    committed results come from the script's defaults."""
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).parent.parent / "examples" / "dropout_mlp.py"
    spec = importlib.util.spec_from_file_location("dropout_mlp", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    runs = []
    for out in ("a", "b"):
        argv = ["--epochs", "3", "--mc-samples", "4", "--out", str(tmp_path / out)]
        assert example.main([*argv, "--no-plots"]) == 0
        runs.append(json.loads((tmp_path / out / "dropout_mlp.json").read_text()))
    for run in runs:
        run.pop("seconds")
    assert runs[0] == runs[1]
    unc = runs[0]["mc_dropout"]
    assert 0.5 < unc["mc_accuracy"] <= 1 and len(unc["rejection_curve"]) == 1297
    committed = json.loads((path.parent / "results" / "dropout_mlp.json").read_text())
    assert committed["epochs"] == 300 and committed["mc_dropout"]["n_samples"] == 200
    p0, p5 = committed["runs"]["p = 0"], committed["runs"]["p = 0.5"]
    assert p5["final_test_loss"] < p0["final_test_loss"]  # what the README says


@pytest.mark.gpu
def test_cuda_tensors_use_the_kernel_with_the_cpu_mask_and_gradients():
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(257, 129, dtype=torch.float64, generator=gen)
    r = torch.randn(257, 129, dtype=torch.float64, generator=gen)
    b = torch.randn(129, dtype=torch.float64, generator=gen)
    out = {}
    for dev in ("cpu", "cuda"):
        xs = [t.to(dev).requires_grad_() for t in (x, r, b)]
        y = gt.dropout_add(*xs[:2], 0.2, bias=xs[2], seed=8, offset=3)
        y.backward(torch.ones_like(y))
        out[dev] = [y.detach().cpu()] + [t.grad.cpu() for t in xs]
        assert y.is_cuda == (dev == "cuda")
    for a, c in zip(out["cpu"], out["cuda"], strict=True):
        torch.testing.assert_close(a, c, rtol=1e-15, atol=1e-15)
    xc = x[:4, :5].cuda().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: gt.dropout(t, 0.3, seed=1), (xc,))
