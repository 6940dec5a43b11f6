"""The examples in the docstrings run, as part of the test command.

Every module of the ``exactconvex`` package (found on disk, so that a module that fails
to import is a failing test, not a collection error) and the test oracle are run through
``doctest``.  A module that needs an optional extra (torch, onnx, onnxruntime, matplotlib,
dask) which is not installed is skipped with a message, as is an example that fails only
because such an extra is missing; any other failure fails the test with doctest's report.

Why not ``--doctest-modules``: it imports every module at collection time, so one missing
extra or one broken import would stop the whole run (or, with
``--doctest-ignore-import-errors``, hide real import errors), and ``__main__`` modules
would run the command line.
"""

from __future__ import annotations

import doctest
import importlib
import io
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "exactconvex")
OPTIONAL_EXTRAS = ("torch", "onnx", "onnxruntime", "matplotlib", "dask")
FLAGS = doctest.ELLIPSIS


def _package_modules() -> list[str]:
    names = []
    for dirpath, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for f in sorted(files):
            if not f.endswith(".py") or f == "__main__.py":  # __main__ runs the command line on import
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
            names.append(rel[: -len(".__init__")] if rel.endswith(".__init__") else rel)
    return names


MODULES = _package_modules()


def _missing_extra(exc: BaseException) -> str | None:
    name = getattr(exc, "name", None) or ""
    root = name.split(".")[0]
    return root if isinstance(exc, ImportError) and root in OPTIONAL_EXTRAS else None


def _extra_available(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def run_doctests(module) -> tuple[int, list[str], list[str]]:
    """Run the doctests of a module: (examples run, failure reports, skipped-for-a-missing-extra reports)."""
    failures, skipped = [], []
    attempted = 0
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module.__name__):
        out = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        result = runner.run(test, out=out.write, clear_globs=True)
        attempted += result.attempted
        if result.failed:
            report = out.getvalue()
            missing = [e for e in OPTIONAL_EXTRAS if f"No module named '{e}'" in report and not _extra_available(e)]
            (skipped if missing else failures).append(f"{test.name}:\n{report}")
    return attempted, failures, skipped


def test_the_package_is_found_on_disk():
    assert "exactconvex" in MODULES and "exactconvex.numbers" in MODULES and "exactconvex.checker" in MODULES
    assert not any(m.endswith("__main__") for m in MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        extra = _missing_extra(exc)
        if extra and not _extra_available(extra):
            pytest.skip(f"{name} needs the optional extra {extra!r}, which is not installed")
        raise
    attempted, failures, skipped = run_doctests(module)
    assert not failures, f"{len(failures)} docstring example(s) of {name} fail:\n" + "\n".join(failures)
    if skipped and not attempted:
        pytest.skip(f"{name}: examples need an optional extra that is not installed")


def test_the_examples_that_exist_do_run():
    # a guard against a runner that silently runs nothing: these modules have examples
    for name in ("exactconvex", "exactconvex.numbers", "exactconvex.network.model", "exactconvex.decide"):
        attempted, failures, _ = run_doctests(importlib.import_module(name))
        assert attempted > 0 and not failures, name


def test_a_failing_example_is_reported():
    module = type(sys)("doctest_probe")
    module.__doc__ = ">>> 1 + 1\n3\n"
    attempted, failures, skipped = run_doctests(module)
    assert attempted == 1 and len(failures) == 1 and not skipped and "Expected:\n    3" in failures[0]


def test_oracle_examples_run():
    sys.path.insert(0, HERE)
    import oracle

    attempted, failures, _ = run_doctests(oracle)
    assert attempted > 0 and not failures, "\n".join(failures)
