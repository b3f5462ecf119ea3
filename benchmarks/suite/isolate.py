"""Run one library in a fresh process: its checking call, its timed calls, its memory.

Each library of a workload runs in its own child process (``multiprocessing``
with the *spawn* start method: a new interpreter, nothing inherited from the
runner's heap), which

1. imports the library and builds the workload's data itself
   (``workloads.build``, deterministic; the runner compares a digest of ``y``
   and of the alphas with its own copy);
2. on request makes the untimed checking call and sends back its
   :class:`adapters.AdapterResult` (the runner certifies it);
3. on request makes the timed calls (best of ``repeat``, cut to ``budget``
   seconds, as before) and sends back their wall seconds.

**Peak memory.**  Around every call the child resets the kernel's resident
high-water mark (writing ``5`` to ``/proc/self/clear_refs``, Linux ≥ 4.0) and
reads ``VmHWM`` from ``/proc/self/status`` after it: the call's own peak
resident set, exact (no sampling), including every thread of the library and
memory returned before the call ends.  ``ru_maxrss`` is not used: it
cannot be reset, and a spawned child inherits in it the parent's peak at
``exec``.  Where ``clear_refs`` cannot be written, a thread samples
``/proc/self/statm`` every millisecond (``rss_method`` says which).  Reported:
the absolute peak, and the increment over the resident set just before the
call (the data, the imported modules, code compiled by an earlier call).
Host memory only; for gpureg-gpu the CuPy memory pool's size after the call
(``gpu_pool_mb``, blocks freed to the pool before the call) is added.

A ``timeout`` bounds the child's whole life (data, check, timed calls); on
expiry the child is killed (by its own pid) and :class:`LibraryTimeoutError` says
in which phase.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing as mp
import os
import threading
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATM = Path("/proc/self/statm")
_MB = 2.0**20


class LibraryTimeoutError(RuntimeError):
    """The library's child process did not answer within ``timeout``."""


class ChildError(RuntimeError):
    """The library raised in its child process (the message is its traceback)."""


# ------------------------------------------------------------------ memory meter


def _status_bytes(field):
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _statm_rss():
    return int(_STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_method():
    """How peaks are measured in this process.

    Returns
    -------
    str
        ``'VmHWM'`` (high-water mark reset by ``/proc/self/clear_refs``),
        ``'sampled'`` (``/proc/self/statm`` polled every millisecond) or
        ``'none'``.
    """
    try:
        _CLEAR_REFS.write_text("5")
        _status_bytes("VmHWM")
        return "VmHWM"
    except (OSError, KeyError):
        pass
    try:
        _statm_rss()
        return "sampled"
    except (OSError, ValueError):
        return "none"


class PeakMeter:
    """Peak resident memory of the code in a ``with`` block.

    Attributes (after the block)
    ----------------------------
    before_mb, peak_mb : float or None
    method : str
    """

    def __init__(self, method):
        self.method = method
        self.before_mb = self.peak_mb = None
        self._stop = self._thread = None
        self._peak = 0

    def __enter__(self):
        gc.collect()
        if self.method == "VmHWM":
            _CLEAR_REFS.write_text("5")
            self.before_mb = _status_bytes("VmRSS") / _MB
        elif self.method == "sampled":
            self._peak = _statm_rss()
            self.before_mb = self._peak / _MB
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.001):
            self._peak = max(self._peak, _statm_rss())

    def __exit__(self, *exc):
        if self.method == "VmHWM":
            self.peak_mb = _status_bytes("VmHWM") / _MB
        elif self.method == "sampled":
            self._stop.set()
            self._thread.join()
            self.peak_mb = max(self._peak, _statm_rss()) / _MB
        return False

    def result(self):
        """``{'peak_mb', 'increment_mb', 'before_mb'}`` (None when unmeasured)."""
        inc = None if self.peak_mb is None else max(0.0, self.peak_mb - self.before_mb)
        return dict(peak_mb=self.peak_mb, increment_mb=inc, before_mb=self.before_mb)


# --------------------------------------------------------------------- the child


def call(library, problem):
    """One adapter call on a problem, warnings counted.

    Parameters
    ----------
    library : str
    problem : workloads.Problem

    Returns
    -------
    adapters.AdapterResult
    """
    from . import adapters

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = adapters.get(library)(
            problem.X,
            problem.y,
            l1_ratios=problem.l1_ratios,
            alphas=problem.alphas,
            folds=problem.folds,
            tol=problem.tol,
            max_iter=problem.max_iter,
        )
    kinds = sorted({w.category.__name__ for w in caught})
    res.extra["warnings"] = f"{len(caught)} ({', '.join(kinds)})" if caught else None
    return res


def problem_digest(problem):
    """A digest of ``y``, the alphas and the folds (the data's fingerprint)."""
    h = hashlib.sha256()
    for a in (problem.y, problem.alphas, *(np.concatenate(f) for f in problem.folds)):
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def _measured_call(library, problem, method):
    pool = None
    if library == "gpureg-gpu":
        try:
            import cupy

            pool = cupy.get_default_memory_pool()
            pool.free_all_blocks()
        except Exception:
            pool = None
    with PeakMeter(method) as meter:
        res = call(library, problem)
    mem = meter.result()
    if pool is not None:
        mem["gpu_pool_mb"] = pool.total_bytes() / _MB
    return res, mem


def _serve(conn, key, quick, shape, library):
    """The child: build the problem, then answer ``check`` / ``time`` / ``stop``."""
    try:
        from . import adapters, workloads

        reason = adapters.unavailable(library)  # also imports the library
        if reason is not None:
            raise RuntimeError(reason)
        problem = workloads.build(key, quick=quick, shape=shape)
        method = rss_method()
        gc.collect()
        base = (
            _status_bytes("VmRSS")
            if method == "VmHWM"
            else _statm_rss()
            if method == "sampled"
            else None
        )
        conn.send(
            (
                "ready",
                dict(
                    digest=problem_digest(problem),
                    rss_method=method,
                    rss_data_mb=None if base is None else base / _MB,
                    data_mb=(problem.X.nbytes + problem.y.nbytes) / _MB,
                    pid=os.getpid(),
                ),
            )
        )
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            if msg[0] == "check":
                conn.send(("checked", *_measured_call(library, problem, method)))
            elif msg[0] == "time":
                n = msg[1]
                secs, mems = [], []
                for _ in range(n):
                    res, mem = _measured_call(library, problem, method)
                    secs.append(res.wall_s)
                    mems.append(mem)
                conn.send(("timed", secs, mems))
    except BaseException:
        try:
            conn.send(("error", traceback.format_exc()))
        except Exception:
            pass
    finally:
        conn.close()


# -------------------------------------------------------------------- the parent


class Isolated:
    """One library's child process, used as a context manager.

    Parameters
    ----------
    library : str
    key : str
        Workload key.
    quick : bool
    shape : (int, int) or None
    timeout : float or None
        Seconds for the child's whole life.
    """

    def __init__(self, library, key, *, quick=False, shape=None, timeout=None):
        self.library, self.key, self.quick, self.shape = library, key, quick, shape
        self.timeout = timeout
        self.deadline = None if not timeout else time.monotonic() + timeout
        self.conn = self.proc = None
        self.info = None

    def __enter__(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_serve,
            args=(child, self.key, self.quick, self.shape, self.library),
            name=f"suite-{self.library}",
            daemon=True,
        )
        self.proc.start()
        child.close()
        (self.info,) = self._recv("imports and data")
        return self

    def _recv(self, phase):
        remaining = None
        if self.deadline is not None:
            remaining = max(0.0, self.deadline - time.monotonic())
        if not self.conn.poll(remaining):
            self._kill()
            raise LibraryTimeoutError(
                f"no result within --timeout={self.timeout:g} s "
                f"(in {phase}); child killed"
            )
        try:
            msg = self.conn.recv()
        except EOFError:
            self.proc.join(5)
            raise ChildError(
                f"the child process ended during {phase} (exit code "
                f"{self.proc.exitcode}; killed for memory?)"
            ) from None
        if msg[0] == "error":
            raise ChildError(msg[1].rstrip().splitlines()[-1] + "\n" + msg[1])
        return msg[1:]

    def check(self):
        """The untimed checking call: ``(AdapterResult, memory dict)``."""
        self.conn.send(("check",))
        return self._recv("the checking call")

    def timed(self, n):
        """``n`` timed calls: ``(list of wall seconds, list of memory dicts)``."""
        self.conn.send(("time", int(n)))
        return self._recv(f"{n} timed call(s)")

    def _kill(self):
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join()

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(("stop",))
            except OSError:
                pass
            self.proc.join(10)
            self._kill()
        self.conn.close()
        return False
