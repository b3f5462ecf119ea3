"""The public functions carry type hints and numpy-style docstrings."""

import inspect

import pytest

import gpureg
import gpureg.plotting

FUNCTIONS = [
    getattr(gpureg, name)
    for name in gpureg.__all__
    if inspect.isfunction(getattr(gpureg, name, None))
] + [
    fn
    for name, fn in vars(gpureg.plotting).items()
    if inspect.isfunction(fn)
    and not name.startswith("_")
    and fn.__module__ == "gpureg.plotting"
]


def test_the_list_covers_the_api():
    names = {fn.__name__ for fn in FUNCTIONS}
    assert {"fit_grid", "enet_path", "dropout", "plot_path", "save_figure"} <= names


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.__name__)
def test_public_functions_are_typed_and_documented(fn):
    sig = inspect.signature(fn)
    untyped = [p.name for p in sig.parameters.values() if p.annotation is p.empty]
    assert untyped == [], f"{fn.__name__}: parameters without a type hint"
    assert sig.return_annotation is not sig.empty, f"{fn.__name__}: no return type"
    doc = inspect.getdoc(fn) or ""
    assert "Parameters\n----------" in doc or not sig.parameters
    assert "Returns\n-------" in doc
