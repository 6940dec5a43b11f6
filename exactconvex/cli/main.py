"""The ``exactconvex`` command line (contract: ``shared/spec/cli.md``).

Exit codes: 0 = yes / success, 1 = no, 2 = the input could not be used (or a bound stopped
the work before anything was decided).  Errors are printed to stderr as plain sentences,
never as a traceback; with ``--json`` they are also printed on stdout as one JSON object
(``{"error": ...}``, or ``{"status": "limit", ...}`` when a bound stopped the work).

The exit code is decided by the command, never by the state of stdout: a closed pipe
(``exactconvex check NET | true``) silences the output and keeps the verdict's code.

This module only dispatches: the commands live in ``core_cmds`` (info, check, regions),
``conditions_cmd``, ``icnn_cmds`` (equiv, to-icnn, counterexample) and the verify command;
what they share is in ``common``.
"""

from __future__ import annotations

import json
import os
import sys
import time

from .common import (EXIT_UNUSABLE, BadArguments, NoVerdict, Parser, UsageError, _silence, say)

__all__ = ["main", "build_parser"]


def build_parser() -> Parser:
    """The argument parser with every command registered."""
    p = Parser(prog="exactconvex",
               description="Decide exactly whether a ReLU network is convex on all of R^d, with certificates.")
    from .. import __version__
    p.add_argument("--version", action="version", version=f"exactconvex {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    from . import core_cmds

    core_cmds.add_parsers(sub)

    from . import verify_cmd

    verify_cmd.add_parser(sub)
    from . import conditions_cmd

    conditions_cmd.add_parser(sub)

    from . import icnn_cmds

    icnn_cmds.add_parsers(sub)
    from . import plot_cmd
    plot_cmd.add_parser(sub)
    from . import sweep_cmd
    sweep_cmd.add_parser(sub)
    from . import convexify_cmd
    convexify_cmd.add_parsers(sub)
    return p


class _GuardedStdout:
    """stdout whose failures (a closed pipe, a full disk) silence it instead of raising: output
    that cannot be delivered must not change the exit code the command decided."""

    def __init__(self, stream):
        self._stream = stream
        self.failed = False

    def write(self, text):
        if not self.failed:
            try:
                return self._stream.write(text)
            except (OSError, ValueError) as exc:
                self._fail(exc)
        return len(text)

    def flush(self):
        if not self.failed:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._fail(exc)

    def _fail(self, exc) -> None:
        self.failed = True
        _silence(self._stream)
        if not isinstance(exc, BrokenPipeError):  # a closed pipe is the reader's choice; anything else is news
            say(f"exactconvex: could not write to stdout ({getattr(exc, 'strerror', None) or exc})")

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _input_errors() -> tuple:
    """The exceptions that mean "this input cannot be used" (imported only when needed)."""
    from ..checker import CertificateError
    from ..network import FormatError, NetworkError
    from ..numbers import NumberError

    return FormatError, NetworkError, NumberError, CertificateError


def _worker_died(exc: BaseException) -> bool:
    """Whether ``exc`` says that a process of ``--jobs`` was stopped from outside (``BrokenProcessPool``,
    from the standard library's pools and from the parallel exploration's); its module is loaded
    whenever such an error was raised, so nothing is imported here."""
    pools = sys.modules.get("concurrent.futures.process")
    return pools is not None and isinstance(exc, pools.BrokenProcessPool)


def _one_line(message: str) -> str:
    """A message as one line with no word longer than about 200 characters (a safety net: the
    readers already shorten long literals)."""
    from ..numbers import shorten

    words = " ".join(str(message).split()).split(" ")
    text = " ".join(w if len(w) <= 200 else shorten(w) for w in words)
    return text if len(text) <= 2000 else text[:2000] + f"... ({len(text)} characters)"


def _print_json(obj: dict) -> None:
    print(json.dumps(obj))


def _run(argv: list[str]) -> int:
    wants_json = "--json" in argv
    started = time.perf_counter()
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args._started = started
        wants_json = bool(getattr(args, "json", False))
        return args.run(args)
    except SystemExit as exc:  # --help and --version
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        say(str(code))
        return EXIT_UNUSABLE
    except BadArguments as exc:
        say(exc.usage.rstrip())
        message = _one_line(exc)
        say(f"exactconvex: error: {message}")
        if wants_json:
            _print_json({"error": message})
        return EXIT_UNUSABLE
    except NoVerdict as exc:
        message = _one_line(exc)
        say(f"exactconvex: {message}")
        if wants_json:
            _print_json({"status": "limit", "error": message, **exc.fields})
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        say("exactconvex: interrupted; no verdict was given")
        if wants_json:
            _print_json({"error": "interrupted; no verdict was given"})
        return EXIT_UNUSABLE
    except MemoryError:
        message = "out of memory; no verdict was given. Bound the work with --max-regions or --timeout"
        say(f"exactconvex: {message}")
        if wants_json:
            _print_json({"error": message})
        return EXIT_UNUSABLE
    except Exception as exc:
        if isinstance(exc, (UsageError, *_input_errors())):
            message = _one_line(exc)
        elif _worker_died(exc):
            message = _one_line(f"{str(exc).rstrip('.')}; no verdict was given. The system stops processes when "
                                "memory runs out: try fewer --jobs")
        else:  # a bug: say so plainly; EXACTCONVEX_DEBUG=1 shows the traceback
            if os.environ.get("EXACTCONVEX_DEBUG"):
                raise
            message = _one_line(f"internal error ({type(exc).__name__}: {exc}). No verdict was given. "
                                "Please report this input; set EXACTCONVEX_DEBUG=1 to see the traceback.")
        say(f"exactconvex: {message}")
        if wants_json:
            _print_json({"error": message})
        return EXIT_UNUSABLE


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 yes, 1 no, 2 unusable or undecided).

    The code is decided before stdout is flushed, and a failed write to stdout (a closed pipe)
    never changes it: stdout is then pointed at /dev/null so that nothing else fails later.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    real = sys.stdout
    guarded = _GuardedStdout(real) if real is not None else None
    if guarded is not None:
        sys.stdout = guarded
    try:
        code = _run(argv)
    finally:
        if guarded is not None and sys.stdout is guarded:
            sys.stdout = real
    if real is not None:
        try:
            real.flush()
        except (OSError, ValueError):
            _silence(real)
    return code
