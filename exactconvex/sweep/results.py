"""The results file of a sweep: JSON lines, appended as work finishes, sorted when the sweep ends.

Rows are appended (one ``write`` per finished chunk, then flushed), so a run that is killed
loses at most the chunks in flight; the next run reads what is there and skips it.  A kill in
the middle of a write can leave a half-written last line: it is dropped (and its network decided
again).  Any other line that is not a result row means the file is not a results file, and it is
left untouched.  While a sweep runs, the file is locked (POSIX ``flock``), so that two sweeps do
not append to one file.  When a sweep completes, the file is rewritten (atomically, through a
temporary file) in a deterministic order: rows of other sweeps first, as they were, then this
sweep's rows in its canonical order (grid order, or the order of the files); a network with
several rows (after ``--retry-undecided``) keeps its last one.
"""

from __future__ import annotations

import json
import os
import time
from typing import Iterable

from .spec import SweepError

__all__ = ["ResultsFile", "read_results"]


def read_results(path: str | os.PathLike) -> list[dict]:
    """The rows of a results file (a half-written last line is skipped), in file order.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = open(path, "w").write('{"network": "a", "convex": true}\\n{"network": "b", "con')
    >>> [row["network"] for row in read_results(path)]
    ['a']
    """
    with open(path, "rb") as fh:
        data = fh.read()
    rows, _, _ = _parse(data, os.fspath(path))
    return [json.loads(line) for line in rows.values()]


def _parse(data: bytes, path: str) -> tuple[dict[str, str], int, str | None]:
    """{network: its last line}, the byte length of the good part, and a note when a broken last
    line was dropped.  Raises SweepError on a line that is not a row before the last one."""
    rows: dict[str, str] = {}
    lines = data.split(b"\n")
    fragment = lines.pop()  # text after the last newline: b"" when the file ends with one
    good = 0
    offset = 0
    note = None
    for i, raw in enumerate(lines):
        offset += len(raw) + 1
        text = raw.strip()
        if not text:
            good = offset
            continue
        row = None
        try:
            row = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass
        if not isinstance(row, dict) or not isinstance(row.get("network"), str):
            if i == len(lines) - 1 and not fragment.strip():
                note = f"dropped a broken last line of {path} (line {i + 1}); its network is decided again"
                break
            raise SweepError(f"{path}, line {i + 1}, is not a result row (a JSON object with a \"network\" "
                             "key): this is not a sweep results file; choose another -o file")
        rows.pop(row["network"], None)  # re-insert: a row written later wins and takes the later place
        rows[row["network"]] = text.decode("utf-8")
        good = offset
    if fragment.strip() and note is None:
        note = f"dropped a half-written last line of {path}; its network is decided again"
    return rows, good, note


class ResultsFile:
    """An open, locked results file (see the module docstring); use as a context manager."""

    def __init__(self, path: str | os.PathLike, fsync_every: float = 2.0):
        self.path = os.fspath(path)
        self.rows: dict[str, str] = {}
        self.note: str | None = None
        self._fh = None
        self._fsync_every = fsync_every
        self._last_sync = time.monotonic()

    def __enter__(self) -> "ResultsFile":
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise SweepError(f"cannot write {self.path}: the folder {directory} does not exist")
        if os.path.isdir(self.path):
            raise SweepError(f"{self.path} is a folder; -o takes a results file such as results.jsonl")
        try:
            self._fh = open(self.path, "a+b")
        except OSError as exc:
            raise SweepError(f"cannot open {self.path}: {exc.strerror}") from None
        try:
            self._lock()
            self._fh.seek(0)
            data = self._fh.read()
            self.rows, good, self.note = _parse(data, self.path)
            if good < len(data):  # drop the broken tail, so appended rows start on a line of their own
                self._fh.truncate(good)
                self._fh.flush()
        except BaseException:
            self._fh.close()
            self._fh = None
            raise
        return self

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            return
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"another sweep is writing {self.path} right now; wait for it or choose "
                             "another -o file") from None

    def append(self, lines: Iterable[str]) -> None:
        """Append rows (JSON texts, one per line) in one write, and flush them to the system."""
        lines = list(lines)
        if not lines:
            return
        self._fh.write(("\n".join(lines) + "\n").encode("utf-8"))
        self._fh.flush()
        now = time.monotonic()
        if now - self._last_sync >= self._fsync_every:  # bounds what a power cut could lose
            os.fsync(self._fh.fileno())
            self._last_sync = now

    def finish(self, order: list[str], lines: dict[str, str]) -> None:
        """Rewrite the file in the final order: rows of networks not in ``order`` first (as they are),
        then the rows of ``order``, each network's ``lines`` entry (else its row in the file)."""
        wanted = set(order)
        final = [text for name, text in self.rows.items() if name not in wanted]
        final += [lines.get(name, self.rows.get(name)) for name in order if name in lines or name in self.rows]
        content = ("\n".join(final) + "\n").encode("utf-8") if final else b""
        self._fh.seek(0)
        if self._fh.read() == content:
            return
        tmp = f"{self.path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)  # atomic: a kill now leaves either the old file or the new one

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            except OSError:
                pass
            self._fh.close()
            self._fh = None
