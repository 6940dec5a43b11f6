"""Progress of long work, for the command line and for Python callers (tqdm bars).

Every long computation of the library reports its progress through one plain callable,
``progress(done, total)``: the region graph calls it per region processed (``total``: the
regions found so far, which grows), the certificate writer per region written, the checker per
region checked, ``conditions`` per facet.  Whoever wants more than the region graph passes an
object with a ``phase(name)`` method as well: it is asked for a fresh callable at the start of
each later phase (``phase_of``), so that one object follows a whole ``check`` (region graph,
certificate, checking) or ``conditions`` (region graph, conditions, printing).

``ProgressBars`` is that object: one tqdm bar per phase, shown only when the phase lasts longer
than about a second (``delay``), on a stream or as a notebook widget.  The command line makes one
on stderr when stderr is a terminal (never in a pipe, never with ``--quiet``); Python callers get
one with ``progress=True`` (``as_progress``), as in ``exactconvex.check(net, progress=True)``.

A plain callable given by a caller receives the region graph's progress only (as always).

tqdm is imported when a bar is first made, so that importing this module costs nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

__all__ = ["ProgressBars", "as_progress", "phase_of", "Reporter"]

#: What every long computation calls: ``progress(done, total)``.
Reporter = Callable[[int, int], None]

_UNITS = {"regions": "region", "conditions": "facet", "certificate": "region", "checking certificate": "region"}


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _columns(stream) -> int | None:
    """The width of the terminal behind ``stream`` (0 when it does not say), None for no terminal."""
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where a widget bar is the right display)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # pragma: no cover - IPython present but not running
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _bar_class(notebook: bool):
    """tqdm's bar (the notebook widget when asked and ipywidgets is there), without tqdm's monitor
    thread: a thread must not run while the library forks worker processes."""
    base = None
    if notebook:
        try:
            import ipywidgets  # noqa: F401 - tqdm.notebook needs it, and only warns without it
            from tqdm.notebook import tqdm as base
        except ImportError:
            base = None
    if base is None:
        from tqdm import tqdm as base

    class Bar(base):
        monitor_interval = 0

    return Bar


class ProgressBars:
    """One tqdm bar per phase of work (module docstring), shown after ``delay`` seconds.

    Call it as ``bars(done, total)`` for the region graph (the first phase, named ``what``) and
    ``bars.phase(name)`` for a callable of each later phase; ``close()`` ends the last bar.
    ``done`` and ``found`` keep the region graph's counts (what was done when a bound stops the
    work).

    Parameters
    ----------
    enabled : bool
        False: nothing is shown (the counts are still kept).
    what : str
        The name of the first phase.
    file : stream, optional
        Where the bars go (default stderr); ignored for a notebook widget.
    delay : float
        Seconds a phase must last before its bar appears.
    notebook : bool, optional
        Show widgets (default: when running in a Jupyter kernel with ipywidgets installed).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bars = ProgressBars(file=out, delay=0)
    >>> for i in range(1, 4):
    ...     bars(i, 3)
    >>> bars.close()
    >>> "3/3" in out.getvalue(), bars.done, bars.found
    (True, 3, 3)
    """

    def __init__(self, enabled: bool = True, what: str = "regions", file=None, delay: float = 1.0,
                 notebook: bool | None = None):
        self.enabled = enabled
        self.what = what
        self.file = file
        self.delay = delay
        self.notebook = _in_notebook() if notebook is None else notebook
        self.done = 0
        self.found = 0
        self.start = time.perf_counter()
        self._bar = None
        self._bar_what = None
        self._phases: list[str] = []

    @property
    def shown(self) -> bool:
        """Whether a bar is on screen now."""
        bar = self._bar
        return bar is not None and getattr(bar, "last_print_t", 0) >= bar.start_t + self.delay

    def __call__(self, done: int, found: int) -> None:
        self.done, self.found = done, found
        self._show(self.what, done, found)

    def phase(self, name: str) -> Reporter:
        """The callable ``report(done, total)`` of a new phase of work named ``name``."""
        self._end_bar()
        self._phases.append(name)

        def report(done: int, total: int) -> None:
            self._show(name, done, total)

        return report

    def _show(self, what: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        try:
            bar = self._bar
            if bar is None or self._bar_what != what:
                self._end_bar()
                bar = self._new_bar(what, total)
            if total is not None and bar.total != total:
                bar.total = total
            if done != bar.n:
                bar.update(done - bar.n)
        except (OSError, ValueError):  # a closed stderr: stop showing, keep working
            self.enabled = False
            self._bar = None

    def _new_bar(self, what: str, total: int):
        Bar = _bar_class(self.notebook)
        kwargs = {}
        if not self.notebook:
            stream = self.file if self.file is not None else sys.stderr
            kwargs = {"file": stream, "dynamic_ncols": True}
            if _columns(stream) == 0:  # a terminal that does not say its width: 80 columns, not an empty bar
                kwargs = {"file": stream, "ncols": 80}
        self._bar = Bar(total=total, desc=what, unit=_UNITS.get(what, "step"), delay=self.delay, mininterval=0.25,
                        leave=True, **kwargs)
        self._bar_what = what
        return self._bar

    def _end_bar(self) -> None:
        bar, self._bar, self._bar_what = self._bar, None, None
        if bar is not None:
            try:
                bar.close()
            except (OSError, ValueError):
                self.enabled = False

    def close(self) -> None:
        """End the bar on screen (it stays, complete, above what follows)."""
        self._end_bar()


def as_progress(progress):
    """What a library function does with its ``progress`` argument.

    None or False: nothing; True: ``ProgressBars`` (a widget in a notebook, text on stderr
    otherwise); a callable (or a ``ProgressBars``): itself.

    >>> as_progress(None) is None and as_progress(False) is None
    True
    >>> type(as_progress(True)).__name__
    'ProgressBars'
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        return ProgressBars()
    if not callable(progress):
        raise TypeError(f"progress must be None, a bool or a callable progress(done, total), "
                        f"not {type(progress).__name__}")
    return progress


def phase_of(progress, name: str) -> Reporter | None:
    """The reporter of a later phase of work: ``progress.phase(name)`` when ``progress`` has
    phases (``ProgressBars``, the command line's progress), otherwise None (a plain callable
    follows the region graph only)."""
    phase = getattr(progress, "phase", None)
    return phase(name) if callable(phase) else None
