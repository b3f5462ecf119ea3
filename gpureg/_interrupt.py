"""Ctrl-C within a second, whatever is running.

Python delivers ``KeyboardInterrupt`` to the main thread only between
bytecodes, so a long numba loop or a long BLAS call would hold it back for
as long as it runs (a Gram grid stopped 34 s after Ctrl-C, a residual grid
not within two minutes).  The public entry points are therefore wrapped by
:func:`interruptible`: the work runs in a worker thread while the main thread
waits in an interruptible join.  On ``KeyboardInterrupt`` the main thread
raises a *stop flag* and re-raises at once; the worker sees the flag at its
next check and winds down:

* the numba solvers poll the flag (a one-element array from
  :func:`stop_flag`) between coordinate-descent checks and alphas;
* Python loops over training sets, folds and chunks call :func:`check_stop`,
  which raises :class:`CallInterruptedError` once the flag is up.

A BLAS or LAPACK call that is already running finishes in the background
(its result is dropped); the caller has control back immediately.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
import threading
import warnings

import numpy as np

#: Seconds the main thread gives the worker to wind down after Ctrl-C before
#: re-raising anyway (the worker is a daemon: it never keeps Python alive).
GRACE_SECONDS = 0.5

#: How often the waiting main thread wakes (signals interrupt the wait on
#: POSIX anyway; the timeout keeps it responsive on every platform).
_POLL_SECONDS = 0.1

_STOP: contextvars.ContextVar[np.ndarray | None] = contextvars.ContextVar(
    "gpureg_stop", default=None
)
#: The frame that called the interruptible entry point (set in its worker).
_CALLER: contextvars.ContextVar = contextvars.ContextVar("gpureg_caller", default=None)
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The flag outside an interruptible call: never raised.  Writeable like the
#: real ones, so the compiled solvers see one array type and compile once.
_NEVER = np.zeros(1, dtype=np.int64)


class CallInterruptedError(Exception):
    """Raised inside the worker once the caller has been interrupted.

    Nobody sees it: the main thread has already raised ``KeyboardInterrupt``.
    """


def stop_flag() -> np.ndarray:
    """The current call's stop flag, for compiled loops to poll.

    Returns
    -------
    ndarray of shape (1,) of int64
        Non-zero once the call was interrupted; a zero that is never raised
        outside an interruptible call.
    """
    flag = _STOP.get()
    return _NEVER if flag is None else flag


def stopped() -> bool:
    """Whether the current call was interrupted."""
    flag = _STOP.get()
    return flag is not None and bool(flag[0])


def check_stop() -> None:
    """Raise :class:`CallInterruptedError` when the current call was interrupted."""
    if stopped():
        raise CallInterruptedError


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the user's line that called gpureg.

    The warning points at the first frame outside the gpureg package; inside
    an interruptible call's worker thread, whose stack ends in ``threading``,
    the walk continues from the frame that made the call.

    Parameters
    ----------
    message : str
    category : Warning subclass
    """
    frame = _CALLER.get() or sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - gpureg called from nowhere
        warnings.warn(message, category, stacklevel=2)
        return
    g = frame.f_globals
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=g.get("__name__"),
        registry=g.setdefault("__warningregistry__", {}),
    )


def interruptible(func):
    """Run ``func`` in a worker thread so that Ctrl-C returns within a second.

    Outside the main thread, or inside another interruptible call, ``func``
    runs directly (signals are delivered to the main thread only).  The worker
    gets a copy of the caller's context (numpy's ``errstate``), its
    scikit-learn configuration and, when CuPy is in use, its current device
    and stream.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if (
            _STOP.get() is not None
            or threading.current_thread() is not threading.main_thread()
        ):
            return func(*args, **kwargs)
        flag = np.zeros(1, dtype=np.int64)
        ctx = contextvars.copy_context()
        ctx.run(_STOP.set, flag)
        ctx.run(_CALLER.set, sys._getframe(1))
        enter = _caller_state()
        box = {}

        def work():
            try:
                with enter():
                    box["value"] = ctx.run(func, *args, **kwargs)
            except CallInterruptedError:
                pass
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        worker = threading.Thread(
            target=work, name=f"gpureg-{func.__name__}", daemon=True
        )
        worker.start()
        try:
            while worker.is_alive():
                worker.join(_POLL_SECONDS)
        except KeyboardInterrupt:
            flag[0] = 1
            worker.join(GRACE_SECONDS)
            raise
        if "error" in box:
            error = box.pop("error")
            try:
                raise error
            finally:
                del error
        return box.pop("value")

    return wrapper


def _caller_state():
    """A context-manager factory that re-enters the caller's thread-local state.

    The scikit-learn configuration, and the device state of the GPU backend
    (its current device and stream, when CuPy is in use).
    """
    import contextlib

    import sklearn

    from .backends import _gpu

    config = sklearn.get_config()
    device_state = _gpu.caller_state()

    @contextlib.contextmanager
    def enter():
        with sklearn.config_context(**config), device_state():
            yield

    return enter
