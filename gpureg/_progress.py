"""The progress bar of long calls (``progress=True``)."""

from __future__ import annotations


def progress_bar(progress: bool, total: int, unit: str = "path"):
    """A tqdm bar over ``total`` units, or None when ``progress`` is false.

    Parameters
    ----------
    progress : bool
    total : int
    unit : str, default='path'

    Returns
    -------
    tqdm.tqdm or None
        Call ``update(k)`` as work finishes and ``close()`` at the end.
    """
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"gpureg {unit}s", unit=unit)
