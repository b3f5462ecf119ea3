"""Dropout where it is used: a small MLP on the digits, with and without dropout.

Trains the same multilayer perceptron (64 → 256 → 256 → 10, ReLU) on 500 of
scikit-learn's 8 × 8 digits twice — without dropout (p = 0) and with
``gpureg.torch.Dropout(p=0.5)`` after each hidden layer — and evaluates it
on the other 1,297 digits:

1. **Over-fitting.**  Training and test cross-entropy after every epoch
   (``dropout_mlp_curves.png``).  Without dropout the network fits the 500
   training digits exactly and its test loss climbs back up; dropout trains
   an ensemble of thinned networks that share weights (each step samples
   one: every unit kept with probability 1 - p, the kept ones scaled by
   1/(1 - p) so that the full network at test time is their average), and
   its test loss stays lower.
2. **Uncertainty.**  Monte Carlo dropout (Gal & Ghahramani, 2016): with the
   dropout layers kept on at test time, 200 masks give 200 predictions per
   digit; their mean is the predictive distribution and its entropy the
   model's uncertainty.  ``dropout_mlp_uncertainty.png`` shows the error
   rate on the test digits that remain when the most uncertain ones are set
   aside (referred to a human, say), and the uncertainty of the digits the
   model gets right and wrong: the digits it is unsure of are the ones it
   gets wrong.

Everything is seeded (torch's generator, the dropout layers' Philox seeds,
the MC seed) and torch runs on one thread, so a rerun on the same software
reproduces the numbers in ``dropout_mlp.json`` and the figures.  About 20 s
on a laptop CPU.

Usage::

    python examples/dropout_mlp.py [--out examples/results] [--epochs 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np


def make_model(p, seed):
    """The MLP with ``gpureg.torch.Dropout(p)`` after each hidden layer."""
    import torch
    from torch import nn

    from gpureg.torch import Dropout

    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, 256),
        nn.ReLU(),
        Dropout(p, seed=seed + 1),
        nn.Linear(256, 256),
        nn.ReLU(),
        Dropout(p, seed=seed + 2),
        nn.Linear(256, 10),
    )


def train(model, data, epochs, batch_size=50, lr=1e-3, seed=0):
    """Adam on minibatches; the losses (eval mode) after every epoch."""
    import torch
    from torch.nn.functional import cross_entropy

    Xtr, ytr, Xte, yte = data
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"train_loss": [], "test_loss": [], "test_accuracy": []}
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(ytr), generator=gen).split(batch_size):
            opt.zero_grad()
            cross_entropy(model(Xtr[idx]), ytr[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            history["train_loss"].append(cross_entropy(model(Xtr), ytr).item())
            logits = model(Xte)
            history["test_loss"].append(cross_entropy(logits, yte).item())
            acc = (logits.argmax(1) == yte).float().mean().item()
            history["test_accuracy"].append(acc)
    return history


def uncertainty(model, Xte, yte, n_samples, seed, n_bins=10):
    """MC-dropout predictions; the error rate against their entropy."""
    import torch
    from sklearn.metrics import roc_auc_score

    from gpureg.torch import mc_predict

    probs = torch.nn.Sequential(model, torch.nn.Softmax(dim=1))
    mean, std = mc_predict(probs, Xte, n_samples=n_samples, seed=seed)
    pred = mean.argmax(1)
    wrong = (pred != yte).numpy()
    entropy = -(mean * mean.clamp_min(1e-12).log()).sum(1).numpy()
    spread = std.gather(1, pred[:, None]).squeeze(1).numpy()
    order = np.argsort(entropy, kind="stable")
    bins = np.array_split(order, n_bins)
    # set aside the most uncertain digits first: error rate on those kept
    kept = np.arange(len(wrong), 0, -1)
    rejection = np.cumsum(wrong[order])[::-1] / kept
    model.eval()
    with torch.no_grad():
        deterministic = (model(Xte).argmax(1) == yte).float().mean().item()
    return (
        dict(
            n_samples=n_samples,
            seed=seed,
            mc_accuracy=float(1 - wrong.mean()),
            deterministic_accuracy=deterministic,
            error_rate_by_entropy_decile=[float(wrong[b].mean()) for b in bins],
            entropy_decile_edges=[float(entropy[b].max()) for b in bins],
            error_rate_after_setting_aside={
                f"{q:.0%}": float(rejection[int(round(q * len(wrong)))])
                for q in (0.0, 0.02, 0.05, 0.10, 0.20)
            },
            rejection_curve=[float(v) for v in rejection],
            auroc_entropy_flags_errors=float(roc_auc_score(wrong, entropy)),
            auroc_std_flags_errors=float(roc_auc_score(wrong, spread)),
            mean_entropy_right=float(entropy[~wrong].mean()),
            mean_entropy_wrong=float(entropy[wrong].mean()),
        ),
        entropy,
        wrong,
    )


def plot(histories, unc, entropy, wrong, out):
    """The two figures: loss curves, and error rate against uncertainty."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for (label, h), color in zip(
        histories.items(), ("tab:red", "tab:blue"), strict=True
    ):
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        ax.plot(epochs, h["train_loss"], "--", color=color, label=f"{label}: train")
        ax.plot(epochs, h["test_loss"], "-", color=color, label=f"{label}: test")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title("MLP on 500 digits: dropout against over-fitting")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "dropout_mlp_curves.png", dpi=120)
    plt.close(fig)

    fig, (a, b) = plt.subplots(1, 2, figsize=(10.4, 4.0))
    curve = np.asarray(unc["rejection_curve"])
    aside = np.arange(curve.size) / curve.size
    a.plot(100 * aside, 100 * curve, color="tab:blue", label="most uncertain first")
    a.axhline(100 * curve[0], color="gray", ls=":", label="random order (expected)")
    a.set_xlim(0, 30)
    a.set_ylim(0, None)
    a.set_xlabel("test digits set aside (%)")
    a.set_ylabel("error rate on the rest (%)")
    a.set_title(f"MC dropout: refer the unsure ({unc['n_samples']} masks)")
    a.legend()
    edges = np.linspace(0, entropy.max(), 30)
    b.hist(entropy[~wrong], bins=edges, alpha=0.7, label="right", color="tab:green")
    b.hist(entropy[wrong], bins=edges, alpha=0.7, label="wrong", color="tab:red")
    b.set_yscale("log")
    b.set_xlabel("predictive entropy (nats)")
    b.set_ylabel("test digits")
    b.set_title(f"AUROC of entropy for errors: {unc['auroc_entropy_flags_errors']:.2f}")
    b.legend()
    fig.tight_layout()
    fig.savefig(out / "dropout_mlp_uncertainty.png", dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    """Train both models, write ``dropout_mlp.json`` and the two figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--p", type=float, default=0.5, help="dropout probability")
    parser.add_argument("--mc-samples", type=int, default=200)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("needs torch: pip install 'gpureg[torch]'", file=sys.stderr)
        return 3
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import gpureg

    t0 = time.perf_counter()
    torch.set_num_threads(1)  # the same sums every run: reproducible numbers
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(
        X / 16.0, y, train_size=500, stratify=y, random_state=0
    )
    data = (
        torch.tensor(Xtr, dtype=torch.float32),
        torch.tensor(ytr),
        torch.tensor(Xte, dtype=torch.float32),
        torch.tensor(yte),
    )
    histories, models = {}, {}
    for p in (0.0, args.p):
        label = f"p = {p:g}"
        models[label] = make_model(p, seed=0)
        histories[label] = train(models[label], data, args.epochs)
        h = histories[label]
        print(
            f"{label}: final train loss {h['train_loss'][-1]:.4f}, test loss "
            f"{h['test_loss'][-1]:.4f} (lowest {min(h['test_loss']):.4f} at epoch "
            f"{int(np.argmin(h['test_loss'])) + 1}), test accuracy "
            f"{h['test_accuracy'][-1]:.4f}"
        )
    unc, entropy, wrong = uncertainty(
        models[f"p = {args.p:g}"], data[2], data[3], args.mc_samples, seed=0
    )
    print(
        f"MC dropout ({args.mc_samples} masks): accuracy {unc['mc_accuracy']:.4f} "
        f"(deterministic {unc['deterministic_accuracy']:.4f}); error rate after "
        f"setting aside the most uncertain {unc['error_rate_after_setting_aside']}; "
        f"AUROC of entropy for errors {unc['auroc_entropy_flags_errors']:.3f}"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = dict(
        data="sklearn digits: 500 train (stratified, random_state=0), 1297 test",
        model="MLP 64-256-256-10, ReLU, gpureg.torch.Dropout after each hidden layer",
        optimizer="Adam lr 1e-3, batches of 50",
        epochs=args.epochs,
        runs={
            label: dict(
                final_train_loss=h["train_loss"][-1],
                final_test_loss=h["test_loss"][-1],
                lowest_test_loss=min(h["test_loss"]),
                lowest_test_loss_epoch=int(np.argmin(h["test_loss"])) + 1,
                final_test_accuracy=h["test_accuracy"][-1],
                history=h,
            )
            for label, h in histories.items()
        },
        mc_dropout=unc,
        seconds=time.perf_counter() - t0,
        versions=dict(
            python=platform.python_version(),
            torch=torch.__version__,
            numpy=np.__version__,
            gpureg=gpureg.__version__,
        ),
    )
    (out / "dropout_mlp.json").write_text(json.dumps(result, indent=1))
    if not args.no_plots:
        plot(histories, unc, entropy, wrong, out)
    print(f"wrote {out / 'dropout_mlp.json'} ({result['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
