"""The independent certificate checker (format: ``docs/certificate-format.md``).

``verify(cert, network=None)`` re-derives everything it needs from the network embedded in
the certificate, with exact rational arithmetic, and trusts nothing it can recompute.

The trusted base is this package and nothing else of exactconvex: it imports only the
standard library, python-flint and its own files (a test computes the transitive import
closure), and shares no code with the search:

* ``reader.py``: the strict JSON reader, exact numbers, networks;
* ``arithmetic.py``: evaluation, local affine maps, f - g, an output along a line;
* ``region_graph.py``: checks 1-5, one function per check, named after the lemmas of
  ``proofs/completeness.md`` and ``proofs/facet-bends.md``;
* ``convexity.py`` and ``extra_claims.py``: the four claims;
* ``box_claim.py``: claims about a box [A, B]^d ("convex_on_box", "not_convex" with a box);
* ``results.py``: what a check returns.

Two kinds of failure, decided consistently:

* ``CertificateError`` (unreadable, exit 2): not JSON, wrong ``format``/``version``, a required
  key missing, a value of the wrong JSON type, a string that is not an exact number, an
  embedded or given network that cannot be read.  All of it is read before anything is
  checked.
* ``CheckResult(valid=False, reason)`` (invalid, exit 1): well formed but wrong, including wrong
  lengths, out-of-range indices, unknown claims or methods, a given network that differs
  from the certificate's, and every false (in)equality.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, replace
from typing import Any, Callable

from .box_claim import check_convex_on_box, check_not_convex_on_box, read_convex_on_box, read_not_convex_on_box
from .convexify_claim import check_nearest_convex, read_nearest_convex
from .convexity import check_convex, read_convex
from .extra_claims import (check_equivalent, check_not_icnn_representable, read_equivalent,
                           read_not_icnn_representable)
from .reader import (CertificateError, Network, field, json_document, network_document, read_json_file,
                     read_network, short_text, typed)
from .region_graph import FAST, REFERENCE, Kernels, read_the_rest
from .results import CheckResult, Invalid, Summary, require

__all__ = ["verify", "CheckResult", "CertificateError", "CLAIMS", "Claim"]

CERT_FORMAT, CERT_VERSION = "exactconvex.certificate", 1


@dataclass(frozen=True)
class Claim:
    """How a claim is read (``CertificateError`` if malformed) and checked (``Invalid`` if wrong)."""

    read: Callable[[dict], Any]
    check: Callable[[Network, Any, Kernels], Summary]


CLAIMS: dict[str, Claim] = {
    "not_convex": Claim(read_not_convex_on_box, check_not_convex_on_box),  # "not_convex" with an optional "box"
    "convex": Claim(read_convex, check_convex),
    "equivalent": Claim(read_equivalent, check_equivalent),
    "not_icnn_representable": Claim(read_not_icnn_representable, check_not_icnn_representable),
    "nearest_convex": Claim(read_nearest_convex, check_nearest_convex),
    "convex_on_box": Claim(read_convex_on_box, check_convex_on_box),
}


def _document(value: Any, what: str) -> Any:
    """A JSON file's content, or a Python value read as its JSON text would be."""
    if isinstance(value, (str, os.PathLike)):
        return read_json_file(value, what)
    if isinstance(value, dict):
        return json_document(value, what)
    raise CertificateError(f"{what}: expected a JSON file path or a parsed JSON object, got {type(value).__name__}")


def _given_network(value: Any, what: str) -> Network:
    """A network the user gave: a JSON file path, a network document, or an object with the
    attributes of ``exactconvex.Network`` (read through its data only)."""
    if isinstance(value, (str, os.PathLike, dict)):
        return read_network(_document(value, what), what)
    return read_network(network_document(value, what), what)


def _difference(a: Network, b: Network) -> str:
    """Where two different networks first differ, in words."""
    if a.input_dim != b.input_dim or a.depth != b.depth:
        return f"input dimension and depth {a.input_dim}, {a.depth} against {b.input_dim}, {b.depth}"
    return [f"layer {l}, {name}" for l, (A, B) in enumerate(zip(a.layers, b.layers), start=1)
            for name in ("weight", "bias", "skip", "slope") if getattr(A, name) != getattr(B, name)][0]


def _bind(claim: str, net: Network, parsed: Any, given: list[Network]) -> None:
    """The certificate speaks about the given network(s): one binds the embedded network, two
    bind ``networks.f`` and ``networks.g`` of an "equivalent" certificate."""
    if len(given) == 1 and net != given[0]:
        raise Invalid(f"the embedded network differs from the given network ({_difference(net, given[0])})")
    if len(given) == 2:
        require(claim == "equivalent", f"two networks were given, but the certificate claims {short_text(claim)}; only "
                                       f"an \"equivalent\" certificate speaks about two networks")
        for name, mine, theirs in (("networks.f", parsed.f, given[0]), ("networks.g", parsed.g, given[1])):
            if mine != theirs:
                raise Invalid(f"{name} differs from the {'first' if name[-1] == 'f' else 'second'} given network "
                              f"({_difference(mine, theirs)})")


def verify(cert, network=None, *, reference: bool = False, progress: Callable[[int, int], None] | None = None,
           jobs: int = 1) -> CheckResult:
    """Check a certificate exactly.

    Parameters
    ----------
    cert : str, os.PathLike or dict
        A certificate file (JSON) or its parsed content.
    network : optional
        Binds the certificate to what the user gave.  One network (a JSON file path, a parsed
        network document, or an ``exactconvex.Network``): the embedded ``"network"`` must
        equal it exactly.  A pair ``(f, g)`` of those, for an ``"equivalent"`` certificate:
        ``networks.f`` and ``networks.g`` must equal them exactly.  The checker reads JSON
        only; other model files go through the CLI (``exactconvex verify``), which converts
        them.
    reference : bool
        Use the plain-rational reference implementations of the speed tricks (slower; for
        testing that they agree).
    progress : callable(done, total), optional
        Called as the region graph's regions are checked (one pass over the regions).
    jobs : int
        Processes that share the checks of the region graph: each reads the whole certificate
        and checks the regions of one part (region r of n in part r * jobs // n).  The verdict
        is the same for every number of jobs; so is the reason, unless the certificate has
        faults in several parts (then the first part's first one).

    Returns
    -------
    CheckResult
        ``valid`` True with a summary, or False with the first reason found.

    Raises
    ------
    CertificateError
        The certificate, or a given network, cannot be read.

    Examples
    --------
    >>> abs_net = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...            "layers": [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}]}
    >>> verify({"format": "exactconvex.certificate", "version": 1, "claim": "not_convex", "network": abs_net,
    ...         "witness": {"output": 0, "x": ["1"], "y": ["-1"], "lambda": "1/2"}}).valid
    True
    """
    if type(jobs) is not int or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if jobs == 1:
        return _part(cert, network, reference, (0, 1), progress)
    import multiprocessing  # (forkserver: no fork of a process whose threads, as a progress bar's, hold locks)
    from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                                          else "spawn")

    def watched(done: int, total: int) -> None:  # a part whose process died (killed) stops part 0 now: no verdict
        for f in others:
            if f.done() and isinstance(f.exception(), BrokenProcessPool):
                raise f.exception()
        if progress is not None:
            progress(min(total, done * jobs), total)

    with ProcessPoolExecutor(jobs - 1, mp_context=context) as pool:  # parts 1, ..., jobs - 1 there, part 0 here
        others = [pool.submit(_part, cert, network, reference, (k, jobs)) for k in range(1, jobs)]
        for outcome in [lambda: _part(cert, network, reference, (0, jobs), watched)] + [f.result for f in others]:
            result = outcome()  # (a CertificateError raised in a part is raised here)
            if not result.valid:  # this part read the whole certificate (``read_the_rest``): it decides
                return result
    return result  # every part valid: every check made, every region read whole by its part


def _part(cert, network, reference: bool, part: tuple[int, int], progress=None) -> CheckResult:
    """``verify`` of one part of the region graph's checks (``Kernels.part``)."""
    enabled = gc.isenabled()
    gc.disable()  # the checker makes no reference cycles: a collection would only scan the certificate (and the
    try:  # caller's objects) again and again, for nothing (half the time of verifying a large certificate)
        return _verify(cert, network, reference, progress, part)
    finally:
        if enabled:
            gc.enable()


def _verify(cert, network, reference: bool, progress, part: tuple[int, int]) -> CheckResult:
    data = typed(_document(cert, "the certificate"), dict, "the certificate")
    if data.get("format") != CERT_FORMAT:
        raise CertificateError(f'the certificate: "format" must be "{CERT_FORMAT}", got {short_text(data.get("format"))}')
    if type(data.get("version")) is not int or data["version"] != CERT_VERSION:
        raise CertificateError(f'the certificate: "version" must be {CERT_VERSION}, got {short_text(data.get("version"))}')
    claim = typed(field(data, "claim", "certificate"), str, "claim")
    net = read_network(field(data, "network", "certificate"), "network")
    pair = isinstance(network, (tuple, list))
    if pair and len(network) != 2:
        raise CertificateError(f"expected one network or a pair (f, g), got {len(network)} networks")
    given = [] if network is None else [_given_network(n, f"network {'fg'[i]}") for i, n in enumerate(network)] \
        if pair else [_given_network(network, "the given network")]
    if claim not in CLAIMS:
        return CheckResult(False, f"claim {short_text(claim)} is not supported by this checker "
                                  f"(supported: {', '.join(sorted(CLAIMS))})", claim)
    parsed = CLAIMS[claim].read(data)
    try:
        _bind(claim, net, parsed, given)
        kernels = replace(REFERENCE if reference else FAST, progress=progress, part=part)
        summary = CLAIMS[claim].check(net, parsed, kernels)
    except Invalid as exc:
        read_the_rest(data, everything=True)
        return CheckResult(False, str(exc), claim)
    read_the_rest(data)
    return CheckResult(True, summary.text, claim, summary.regions, summary.facets)
