"""What every command of the CLI shares: exit codes, errors, bounds, loading, progress, output.

Every command module imports from here and from nowhere else in ``cli`` (so there are no
import cycles between command modules); ``cli.main`` imports the command modules to register
them.  Heavy modules are imported inside the functions that need them, so that the CLI starts
fast.

* Exit codes (contract: ``shared/spec/cli.md``): ``EXIT_YES`` 0, ``EXIT_NO`` 1, ``EXIT_UNUSABLE``
  2.  ``UsageError`` is unusable input (exit 2); ``NoVerdict`` is a bound that stopped the work
  (exit 2, and with ``--json`` a ``{"status": "limit", ...}`` object saying what was done).
* Bounds: ``--max-regions N`` (a positive integer) and ``--timeout S`` (positive, finite
  seconds; ``nan``, ``inf``, ``0`` and negative values are refused).  The timeout counts from
  the start of the command: reading the network counts toward it (it is interrupted when the
  time is up), and the search gets what is left.
* Loading: ``load_network(path, args)`` reads a network (every format ``network.load`` knows),
  passes ``--state-dict-activation`` on, and remembers the path as an input of the command.
* Output: ``write_output`` writes a file atomically (a temporary file in the same folder, then
  a rename), refuses to overwrite an input of the command or to write through a symlink, and
  says "replaced OUT" on stderr when an existing file was replaced.  ``write_certificate``
  first verifies the certificate with the independent checker against the networks the user
  gave, and never writes one that fails.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable

__all__ = ["EXIT_YES", "EXIT_NO", "EXIT_UNUSABLE", "UsageError", "NoVerdict", "BadArguments", "Parser",
           "integer", "number", "positive_seconds", "add_bounds", "check_bounds", "bounds", "add_network_options",
           "parse_state_dict_activation", "load_network", "Progress", "limit_reached", "check_outputs",
           "write_output", "write_text", "verify_certificate", "write_certificate", "point_text", "witness_text",
           "say", "elapsed", "box_option", "box_json", "allow_negative_values", "jobs_option"]

EXIT_YES, EXIT_NO, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """Input or arguments that cannot be used (exit 2, one sentence on stderr)."""


class NoVerdict(UsageError):
    """A bound (``--max-regions``, ``--timeout``) stopped the work before anything was decided.

    ``fields`` is what was done, for ``--json``: regions processed and found, seconds, and the
    command's verdict key set to null.
    """

    def __init__(self, message: str, **fields: Any):
        super().__init__(message)
        self.fields = fields


class BadArguments(UsageError):
    """argparse rejected the command line (exit 2, with the usage line)."""

    def __init__(self, message: str, usage: str):
        super().__init__(message)
        self.usage = usage


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are raised (``BadArguments``), so that ``main`` reports them
    like every other bad input: one sentence on stderr, a JSON object with ``--json``, exit 2."""

    def error(self, message: str):
        raise BadArguments(message, self.format_usage())


def say(text: str) -> None:
    """One line on stderr; a closed stderr is ignored (it must not change the exit code)."""
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        _silence(sys.stderr)


def _silence(stream) -> None:
    """Point the file descriptor of a closed pipe at /dev/null, so that later writes and the
    interpreter's final flush succeed quietly."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


# ----- bounds ------------------------------------------------------------------------------------

def integer(text: str) -> int:
    """argparse type of an integer option: ASCII digits with an optional "-" (``int()`` would also
    take other scripts' digits and spaces).  Whether the value is allowed is said later, in a
    sentence of its own (``check_bounds``).

    >>> integer("10")
    10
    >>> integer("2.5")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: expected an integer, got '2.5'
    """
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise argparse.ArgumentTypeError(f"expected an integer, got {_short(text)!r}")
    return int(text)


def number(text: str) -> float:
    """argparse type of a number of seconds: anything ``float()`` reads; ``nan``, ``inf``, zero and
    negative values are refused by ``check_bounds`` with a sentence of their own."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {_short(text)!r}") from None


def positive_seconds(text: str) -> float:
    """argparse type of a positive, finite number of seconds (``--budget``).

    >>> positive_seconds("2.5")
    2.5
    >>> positive_seconds("nan")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: expected a positive, finite number of seconds, got 'nan'
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of seconds, got {_short(text)!r}")
    return value


def add_bounds(s: argparse.ArgumentParser, quiet: bool = True) -> None:
    """``--max-regions``, ``--timeout`` (and ``--quiet``) on a subcommand."""
    s.add_argument("--max-regions", type=integer, metavar="N",
                   help="stop (exit 2, no verdict) after N regions (a positive integer)")
    s.add_argument("--timeout", type=number, metavar="S",
                   help="stop (exit 2, no verdict) after S seconds (positive, finite), reading the network included")
    if quiet:
        s.add_argument("--quiet", action="store_true", help="no progress report on stderr")


def check_bounds(args) -> None:
    """Refuse ``--max-regions`` that is not a positive integer and ``--timeout`` that is not a
    positive, finite number of seconds (``nan``, ``inf``, 0, negative), with a clear sentence.

    >>> check_bounds(argparse.Namespace(max_regions=None, timeout=float("nan")))
    Traceback (most recent call last):
        ...
    exactconvex.cli.common.UsageError: --timeout must be a positive, finite number of seconds, got nan
    """
    max_regions = getattr(args, "max_regions", None)
    timeout = getattr(args, "timeout", None)
    if max_regions is not None and (isinstance(max_regions, bool) or not isinstance(max_regions, int)
                                    or max_regions < 1):
        raise UsageError(f"--max-regions must be a positive integer, got {max_regions}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise UsageError(f"--timeout must be a positive, finite number of seconds, got {timeout}")


def _started(args) -> float:
    start = getattr(args, "_started", None)
    if start is None:
        start = time.perf_counter()
        setattr(args, "_started", start)
    return start


def elapsed(args) -> float:
    """Seconds since the command started."""
    return time.perf_counter() - _started(args)


def bounds(args) -> dict:
    """``{"max_regions", "timeout"}`` for the library; the timeout is what is left of ``--timeout``.

    Raises UsageError for values that are not positive (when ``args`` was not made by the parser)
    and NoVerdict when the time is already up.
    """
    check_bounds(args)
    max_regions = getattr(args, "max_regions", None)
    timeout = getattr(args, "timeout", None)
    if timeout is not None:
        left = timeout - elapsed(args)
        if left <= 0:
            raise NoVerdict(f"no verdict: the --timeout of {timeout:g} s ran out before the search started "
                            "(reading the input took that long). Nothing was proven.",
                            regions_processed=0, regions_found=0, seconds=round(elapsed(args), 6))
        timeout = left
    return {"max_regions": max_regions, "timeout": timeout}


def box_option(text: str | None):
    """``--box A,B`` as a ``graph.box.Box`` (None without the option); UsageError unless A < B are
    exact numbers.

    >>> box_option("-100,100").text(2)
    '[-100, 100]^2'
    """
    if text is None:
        return None
    from ..graph.box import parse_box

    try:
        return parse_box(text)
    except ValueError as exc:
        raise UsageError(f"--box: {exc}") from None


def box_json(box) -> list[str]:
    """A box as the exact strings [A, B] (rows, reports and certificates write it so)."""
    from ..numbers import q_str

    return [q_str(box.lower), q_str(box.upper)]


def allow_negative_values(parser: argparse.ArgumentParser) -> None:
    """Let option values that start with a minus and a digit (``--box -100,100``, ``-1/2,3``) be
    values: argparse reads only plain negative numbers such as -100 as values and anything else
    that starts with "-" as an option (``--box=-100,100`` works either way)."""
    import re

    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = re.compile(r"^-\d[\d.,/eE+-]*$")


# ----- loading -------------------------------------------------------------------------------------

def add_network_options(s: argparse.ArgumentParser) -> None:
    """Options of every command that reads a network: ``--state-dict-activation A``."""
    s.add_argument("--state-dict-activation", metavar="A", type=parse_state_dict_activation,
                   help="the activation between the Linear layers of a bare PyTorch state_dict, which does not "
                        "say it: relu, or leaky_relu:S with S an exact number (as in leaky_relu:1/100)")


def parse_state_dict_activation(text: str) -> str:
    """Validate ``relu`` or ``leaky_relu:S`` (S an exact number) and return it as written.

    >>> parse_state_dict_activation("leaky_relu:1/100")
    'leaky_relu:1/100'
    >>> parse_state_dict_activation("tanh")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: expected relu or leaky_relu:S with S an exact number (as in leaky_relu:1/2), got 'tanh'
    """
    from ..numbers import NumberError, to_q

    if text == "relu":
        return text
    name, sep, slope = text.partition(":")
    if name == "leaky_relu" and sep:
        try:
            to_q(slope)
            return text
        except NumberError:
            pass
    raise argparse.ArgumentTypeError("expected relu or leaky_relu:S with S an exact number (as in leaky_relu:1/2), "
                                     f"got {_short(text)!r}")


class _ReadTimeout(BaseException):
    """The --timeout ran out while reading (a BaseException: no reader may swallow it)."""


@contextmanager
def _deadline(seconds: float | None):
    """Interrupt the body after ``seconds`` (SIGALRM, main thread, POSIX); otherwise no bound."""
    import signal
    import threading

    if (seconds is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def ring(signum, frame):
        raise _ReadTimeout()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_network(path: str, args):
    """Read the network at ``path`` for a command: within what is left of ``--timeout``, with
    ``--state-dict-activation`` passed on (only when given), and remembered as an input.

    Format errors are raised as they are (``main`` reports them, exit 2).
    """
    from ..network import load

    check_bounds(args)  # before any reading: a bad bound is refused at once
    inputs = getattr(args, "_inputs", None)
    if inputs is None:
        inputs = []
        setattr(args, "_inputs", inputs)
    inputs.append(path)
    timeout = getattr(args, "timeout", None)
    left = None if timeout is None else timeout - elapsed(args)
    activation = getattr(args, "state_dict_activation", None)
    kwargs = {} if activation is None else {"state_dict_activation": activation}
    try:
        with _deadline(left):
            if left is not None and left <= 0:
                raise _ReadTimeout()
            return load(path, **kwargs)
    except _ReadTimeout:
        raise NoVerdict(f"no verdict: the --timeout of {timeout:g} s ran out while reading {path}. "
                        "Nothing was proven.", regions_processed=0, regions_found=0,
                        seconds=round(elapsed(args), 6)) from None


# ----- progress and limits ------------------------------------------------------------------------

class Progress:
    """The progress of a command's work on stderr: tqdm bars (``exactconvex.progress.ProgressBars``),
    one per phase longer than about a second, only on a terminal and never with ``--quiet``.

    Call it as ``progress(done, found)`` (the region graph: regions processed and found) and
    ``progress.phase(name)`` for the callable of a later phase (certificate, checking, conditions);
    ``close()`` ends the bar on screen.  The counts also say what was done when a bound stops the
    work (``limit_reached``).
    """

    def __init__(self, enabled: bool, what: str = "regions"):
        from ..progress import ProgressBars

        self.enabled = enabled and _isatty(sys.stderr)
        self.what = what
        self._bars = ProgressBars(self.enabled, what, file=sys.stderr, delay=_progress_delay(), notebook=False)

    @property
    def done(self) -> int:
        return self._bars.done

    @property
    def found(self) -> int:
        return self._bars.found

    @property
    def shown(self) -> bool:
        return self._bars.shown

    def __call__(self, done: int, found: int) -> None:
        self._bars(done, found)

    def phase(self, name: str):
        """The callable ``report(done, total)`` of a later phase of the work."""
        return self._bars.phase(name)

    def close(self) -> None:
        self._bars.close()


def _progress_delay() -> float:
    """Seconds a phase lasts before its bar appears: 1, or EXACTCONVEX_PROGRESS_DELAY (0: at once)."""
    try:
        value = float(os.environ.get("EXACTCONVEX_PROGRESS_DELAY", "1"))
    except ValueError:
        return 1.0
    return value if math.isfinite(value) and value >= 0 else 1.0


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def limit_reached(exc: BaseException, progress: Progress | None, args, prefix: str = "no verdict",
                  **verdict_keys: Any) -> NoVerdict:
    """The NoVerdict for a LimitReached: the message, and what was done for ``--json``."""
    done = getattr(exc, "regions_done", None)
    found = getattr(exc, "regions_found", None)
    if done is None and progress is not None:
        done, found = progress.done, progress.found
    return NoVerdict(f"{prefix}: {exc}. Nothing was proven; raise the bound to go further.",
                     **verdict_keys, regions_processed=done, regions_found=found,
                     seconds=round(elapsed(args), 6))


# ----- output ----------------------------------------------------------------------------------------

def _inputs_of(args) -> list[str]:
    return [p for p in getattr(args, "_inputs", []) or [] if p]


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(args, outputs: Iterable[tuple[str, str | None]]) -> None:
    """Refuse, before any work, output paths that would destroy an input, go through a symlink,
    name a directory or a special file, or name the same file twice.

    ``outputs`` holds (option, path) pairs such as ``("--cert", args.cert)``; None paths are skipped.
    """
    seen: list[tuple[str, str]] = []
    for option, path in outputs:
        if path is None:
            continue
        _check_output(path, option, args)
        for other_option, other in seen:
            if os.path.abspath(path) == os.path.abspath(other) or (os.path.exists(path) and _same_file(path, other)):
                raise UsageError(f"{option} and {other_option} name the same file ({path}); give two different files")
        seen.append((option, path))


def _check_output(path: str, option: str, args) -> None:
    import stat

    if path == "":
        raise UsageError(f"{option}: the file name is empty")
    for source in _inputs_of(args):
        if _same_file(path, source):
            raise UsageError(f"{option} {path} is an input of this command ({source}); refusing to overwrite it. "
                             "Write to another file.")
    if os.path.islink(path):
        raise UsageError(f"{option} {path} is a symbolic link; refusing to write through it. Give the path of a "
                         "regular file (or remove the link).")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UsageError(f"cannot write {option} {path}: the folder {folder} does not exist") from None
        return
    except OSError as exc:
        raise UsageError(f"cannot write {option} {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{option} {path} is a directory; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{option} {path} is not a regular file (a device, FIFO or socket); refusing to replace it")


def write_output(path: str, write: Callable[[Any], Any], args, option: str) -> dict:
    """Write ``path`` atomically by ``write(binary file)``; the checks of ``check_outputs`` come first.

    Says "replaced PATH" on stderr when an existing file was replaced.  Returns
    ``{"path", "bytes", "replaced"}``.  Raises UsageError when the file cannot be written; the old
    file (if any) is then left as it was, and no temporary file stays behind.
    """
    from ..network.formats import write_atomically

    _check_output(path, option, args)
    size = [0]

    def counted(fh):
        write(fh)
        size[0] = fh.tell()

    try:
        replaced = write_atomically(path, counted)
    except OSError as exc:
        raise UsageError(f"cannot write {option} {path}: {exc.strerror or exc}; "
                         + ("the old file was left as it was" if os.path.exists(path) else "nothing was written")
                         ) from None
    if replaced:
        say(f"exactconvex: replaced {path}")
    return {"path": path, "bytes": size[0], "replaced": replaced}


def write_text(path: str, text: str, args, option: str) -> dict:
    """``write_output`` of a UTF-8 text."""
    data = text.encode("utf-8")
    return write_output(path, lambda fh: fh.write(data), args, option)


def verify_certificate(cert: dict, network, path: str, progress=None, jobs: int = 1) -> float:
    """Verify ``cert`` with the independent checker against ``network``; returns the seconds taken.

    ``network`` is what the certificate must speak about, as JSON documents (``network_to_dict``):
    the network the user gave, or the pair (f, g) of an ``equivalent`` certificate.  A failure is
    a bug (UsageError "internal error", exit 2): such a certificate is never written.  ``progress``
    (the command's ``Progress``) shows the checking as a phase of its own; ``jobs``: the
    command's ``--jobs``, which the checker shares its region graph's checks among.
    """
    from ..checker import CertificateError, verify
    from ..progress import phase_of

    t0 = time.perf_counter()
    try:
        result = verify(cert, network=network, progress=phase_of(progress, "checking certificate"), jobs=jobs)
    except CertificateError as exc:
        valid, reason = False, f"the checker cannot read it: {exc}"
    else:
        valid, reason = result.valid, result.reason
    if not valid:
        raise UsageError(f"internal error: the certificate for {path} does not verify against the given network "
                         f"({reason}); it was not written. No verdict was given; please report this input.")
    return time.perf_counter() - t0


#: a certificate a command writes is verified with its ``--jobs`` from this many regions on (about a second of checking)
PARALLEL_VERIFY_REGIONS = 2000


def write_certificate(cert: dict, path: str, args, network, option: str = "--cert",
                      verified_in: float | None = None, progress=None) -> dict:
    """Verify ``cert`` against ``network`` (``verify_certificate``), then write it with ``write_text``
    in the package's layout (``certificates.certificate_text``).

    ``verified_in`` (seconds) says it was verified against ``network`` already; ``progress`` (the
    command's ``Progress``) shows the checking.  Returns ``{"path", "bytes", "valid",
    "verify_seconds", "replaced"}``.
    """
    from ..certificates import certificate_text

    if verified_in is None:
        graph = cert.get("region_graph") or {}
        # --jobs shares the checking only when it is long enough to pay for starting the processes (~0.3 s)
        jobs = jobs_option(args) if len(graph.get("regions", ())) >= PARALLEL_VERIFY_REGIONS else 1
        verified_in = verify_certificate(cert, network, path, progress, jobs)
    seconds = verified_in
    report = write_text(path, certificate_text(cert), args, option)
    return {"path": path, "bytes": report["bytes"], "valid": True, "verify_seconds": round(seconds, 6),
            "replaced": report["replaced"]}


# ----- printing -----------------------------------------------------------------------------------------

def point_text(p) -> str:
    """An exact point for people: each coordinate ``readable`` (exact when short; ``--json`` keeps
    the exact values).

    >>> point_text(["1/2", 3])
    '(1/2, 3)'
    """
    from ..numbers import readable_point, to_q

    return readable_point([to_q(v) for v in p])


def witness_text(w: dict) -> str:
    """A convexity violation (``witness_json`` form) as one sentence; outputs are numbered from 0.
    Coordinates are readable, at most 8 per point (``--json`` has them all, exactly)."""
    from ..decide.display import witness_summary

    return witness_summary(w)


def _short(text: str) -> str:
    from ..numbers import shorten

    return shorten(text)


def jobs_option(args) -> int:
    """``--jobs N``: processes for the region graph, explored or checked (N >= 1, or 0 for one per
    CPU this process may use, as ``sweep --jobs 0``; the same graph, certificate and verdict for every N)."""
    jobs = getattr(args, "jobs", 1)
    if jobs == 0:
        from ..sweep.engines import cpu_count

        return cpu_count()
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, or 0 for one per CPU, got {jobs}")
    return jobs
