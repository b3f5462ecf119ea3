"""The embedded default data set."""

from __future__ import annotations

from importlib import resources

import numpy as np


def load_diabetes() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Diabetes progression data of Efron, Hastie, Johnstone & Tibshirani (2004).

    442 patients, 10 baseline variables on their original (unscaled) units —
    age, sex, body-mass index, blood pressure and six blood serum measurements
    — and a quantitative measure of disease progression one year later.  The
    data of *Least Angle Regression*, Annals of Statistics 32(2):407–499,
    also shipped by scikit-learn (``load_diabetes(scaled=False)``).

    Returns
    -------
    X : ndarray of shape (442, 10)
    y : ndarray of shape (442,)
    feature_names : list of str
        Length 10.
    """
    text = resources.files("gpureg").joinpath("data/diabetes.csv").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    header = lines[0].split(",")
    data = np.array([[float(x) for x in ln.split(",")] for ln in lines[1:]])
    return data[:, :-1], data[:, -1], header[:-1]
