"""The backend contract: what every backend module provides.

A backend is a module (``_numba`` for ``"cpu"``, ``_numpy`` for ``"numpy"``,
``_gpu`` for ``"gpu"``) with the functions of :class:`Backend`.  Everything
that touches a device — its array module, copies, synchronization, memory,
where the batch is built, the caller's device state carried into a worker
thread — goes through these functions, so that the rest of the package
never imports cupy (``tests/test_backend_contract.py`` checks both rules).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    """The functions a backend module defines (written here as methods).

    Every backend module must define each of them with the same parameters
    (``tests/test_backend_contract.py`` compares the signatures).
    """

    def is_available(self) -> bool:
        """Whether the backend can run here."""

    def missing_reason(self) -> str | None:
        """Why the backend cannot run here, or None when it can."""

    def array_module(self) -> Any:
        """The array module of the backend's arrays (numpy or cupy)."""

    def to_device(self, a) -> Any:
        """``a`` as an array of :meth:`array_module` (no copy when it is one)."""

    def to_host(self, a) -> Any:
        """``a`` as a numpy array."""

    def synchronize(self) -> None:
        """Wait until the work queued on the device is done (a no-op on hosts)."""

    def device_name(self) -> str:
        """What the backend runs on, for benchmark records."""

    def memory_budget(self) -> int | None:
        """Device bytes the Gram matrices may take; None for host backends."""

    def caller_state(self) -> Any:
        """A context-manager factory re-entering the calling thread's device state.

        Called in the calling thread; the factory is entered in a worker
        thread (:func:`gpureg._interrupt.interruptible`).
        """

    def build_batch(
        self,
        X,
        y,
        W,
        *,
        mode,
        fit_intercept,
        standardize,
        dtype,
        X_device=None,
        timings=None,
    ) -> Any:
        """Every training set's problems, where the backend solves them.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        W : ndarray of shape (n_sets, n_samples)
            Training weights of every set (the full data last).
        mode : {'gram', 'residual'}
        fit_intercept, standardize : bool
        dtype : numpy dtype
        X_device : device array, optional
            The caller's X when it already lives on the device.
        timings : dict, optional
            Where to record sub-steps in seconds (``"transfer"``: host to
            device copies).

        Returns
        -------
        GramBatch or ResidualBatch
        """

    def solve_paths(
        self,
        batch,
        alphas,
        l1_ratios,
        penalty_factor,
        *,
        positive,
        tol,
        max_iter,
        progress=None,
    ) -> Any:
        """Solve every (training set, l1_ratio, alpha) fit of ``batch``.

        Parameters
        ----------
        batch : GramBatch or ResidualBatch
        alphas : ndarray of shape (n_l1_ratios, n_alphas)
        l1_ratios : ndarray of shape (n_l1_ratios,)
        penalty_factor : ndarray of shape (n_features,)
        positive : bool
        tol : float
        max_iter : int
        progress : callable, optional
            Called with the number of paths finished.

        Returns
        -------
        PathSolution
            Coefficients of shape (n_sets, n_l1_ratios, n_alphas, n_features).
        """
