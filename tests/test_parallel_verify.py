"""``verify(..., jobs=N)`` and ``exactconvex verify --jobs N`` share the region graph's checks.

* The parts split the checks: a fault in region r is found by the part that owns r and by no
  other, so together the parts make every check of the serial pass, once.
* Every number of jobs gives the serial verdict, and the serial reason when there is one fault.
* A malformed region is unreadable whichever part owns it, even when another part stops at an
  invalid one first (a part that finds a fault reads the whole certificate).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pytest

from exactconvex.certificates import certificate_text
from exactconvex.checker import CertificateError, _part, verify
from exactconvex.checker import reader as checker_reader
from exactconvex.checker.reader import read_json_file
from exactconvex.checker.region_graph import StreamedRegions, read_the_rest
from exactconvex.decide import check
from exactconvex.sweep.generate import icnn_structured, torch_network


@pytest.fixture(scope="module")
def cert():
    net = icnn_structured(torch_network(np.random.default_rng(3), 2, [6, 6]))
    v = check(net, method="regions", certificate=True)
    assert v.convex and len(v.certificate["region_graph"]["regions"]) >= 12
    return v.certificate


@pytest.fixture
def stream_everything(monkeypatch):
    monkeypatch.setattr(checker_reader, "STREAM_BYTES", 0)


def owner(r: int, n: int, parts: int) -> int:
    return r * parts // n


def faulty(cert: dict, r: int, kind: str) -> dict:
    """The certificate with one fault in region r."""
    c = copy.deepcopy(cert)
    R = c["region_graph"]["regions"][r]
    if kind == "interior point on a facet":  # check 1
        R["interior_point"] = R["facets"][0]["point"]
    elif kind == "facet point moved":  # check 2
        R["facets"][0]["point"] = R["interior_point"]
    elif kind == "wrong neighbour":  # check 3
        R["facets"][0]["neighbor"] = r
    elif kind == "redundancy dropped":  # check 4
        R["redundant"], R["implied"] = [], []
    elif kind == "facet point too short":  # the form of a point: only its owner reads the region's points
        R["facets"][-1]["point"] = R["facets"][-1]["point"][:1]
    return c


def write(tmp_path, doc, name="c.json") -> str:
    path = tmp_path / name
    path.write_text(certificate_text(doc))
    return str(path)


@pytest.mark.parametrize("kind", ["interior point on a facet", "facet point moved", "wrong neighbour",
                                  "redundancy dropped", "facet point too short"])
@pytest.mark.parametrize("parts", [2, 3])
def test_exactly_the_owner_of_a_faulty_region_finds_the_fault(tmp_path, stream_everything, cert, kind, parts):
    regions = cert["region_graph"]["regions"]
    n = len(regions)
    for r in sorted({0, n // 3, n // 2, n - 1}):
        if kind == "redundancy dropped" and not (regions[r]["redundant"] or regions[r].get("implied")):
            continue
        bad = faulty(cert, r, kind)
        serial = verify(bad)
        assert not serial.valid
        path = write(tmp_path, bad)
        for source in (path, bad):  # streamed (the others' regions read lean) and in memory
            found = [not _part(source, None, False, (k, parts)).valid for k in range(parts)]
            if kind == "facet point too short" and source is bad:  # in memory every region is read whole
                assert all(found)
            else:
                assert found == [k == owner(r, n, parts) for k in range(parts)], (r, found)
            reasons = [_part(source, None, False, (k, parts)).reason for k in range(parts)]
            assert serial.reason in reasons


def test_every_number_of_jobs_gives_the_serial_result(tmp_path, cert):
    path = write(tmp_path, cert)
    serial = verify(path)
    assert serial.valid and serial.regions == len(cert["region_graph"]["regions"])
    for jobs in (2, 3):
        result = verify(path, jobs=jobs)
        assert (result.valid, result.reason, result.regions, result.facets) == \
            (serial.valid, serial.reason, serial.regions, serial.facets)
    n = serial.regions
    for r in (0, n - 1):  # a fault that only part 0, then only the last part, can find
        bad = write(tmp_path, faulty(cert, r, "wrong neighbour"), "bad.json")
        expected = verify(bad)
        assert not expected.valid
        for jobs in (2, 3):
            result = verify(bad, jobs=jobs)
            assert (result.valid, result.reason) == (False, expected.reason)
    assert verify(faulty(cert, n - 1, "interior point on a facet"), jobs=2).valid is False  # in memory too


def test_progress_with_jobs_runs_to_the_total(tmp_path, cert):
    calls = []
    verify(write(tmp_path, cert), jobs=2, progress=lambda done, total: calls.append((done, total)))
    n = len(cert["region_graph"]["regions"])
    assert calls and calls[-1] == (n, n) and all(0 <= done <= total == n for done, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def malformed_last_region(cert: dict, r: int | None = None) -> dict:
    c = copy.deepcopy(cert)
    regions = c["region_graph"]["regions"]
    R = next(R for R in reversed(regions) if R["redundant"] or R.get("implied")) if r is None else regions[r]
    if R["redundant"]:
        R["redundant"][0]["constant"] = "1/0"
    else:
        R["implied"][0]["neurons"] = "not a list"
    return c


def test_a_malformed_entry_is_unreadable_whichever_part_reads_it(tmp_path, stream_everything, cert):
    n = len(cert["region_graph"]["regions"])
    bad = malformed_last_region(cert)
    path = write(tmp_path, bad)
    with pytest.raises(CertificateError):
        verify(path)
    for jobs in (2, 3):
        with pytest.raises(CertificateError):
            verify(path, jobs=jobs)
    for where in ("interior_point", "point"):  # points, which only the owner of their region reads
        points = copy.deepcopy(cert)
        R = points["region_graph"]["regions"][-1]
        (R if where == "interior_point" else R["facets"][0])[where][0] = "1/0"
        path = write(tmp_path, points, "points.json")
        assert _part(path, None, False, (0, 2)).valid  # read lean there: not read
        for jobs in (1, 2, 3):
            with pytest.raises(CertificateError, match=where):
                verify(path, jobs=jobs)
    # part 0 reads the last regions lean and stops at an invalid region 0: it still reads them whole
    bad["region_graph"]["regions"][0] = faulty(cert, 0, "wrong neighbour")["region_graph"]["regions"][0]
    path = write(tmp_path, bad)
    with pytest.raises(CertificateError):
        _part(path, None, False, (0, 2))
    with pytest.raises(CertificateError):
        verify(path, jobs=2)
    # a lean pass that completed counts as read; asked for everything, the rest is read whole
    doc = read_json_file(path, "the certificate")
    regions = doc["region_graph"]["regions"]
    for _ in StreamedRegions(regions).read(lambda r: r < n // 2):
        pass
    assert regions.complete and regions.lean
    read_the_rest(doc)  # (nothing read again)
    with pytest.raises(CertificateError):
        read_the_rest(doc, everything=True)


def test_jobs_must_be_a_positive_integer(cert):
    for jobs in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="jobs"):
            verify(cert, jobs=jobs)


def test_cli_verify_with_jobs(tmp_path, cert):
    path = write(tmp_path, cert)
    bad = write(tmp_path, faulty(cert, len(cert["region_graph"]["regions"]) - 1, "wrong neighbour"), "bad.json")
    unreadable = write(tmp_path, malformed_last_region(cert), "unreadable.json")

    def run(*args):
        p = subprocess.run([sys.executable, "-m", "exactconvex", "verify", *args, "--quiet"], capture_output=True,
                           text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    one, two = run(path, "--json"), run(path, "--json", "--jobs", "2")
    assert one[0] == two[0] == 0 and json.loads(one[1]) == json.loads(two[1])
    code, _, err = run(bad, "--jobs", "2")
    assert code == 1 and "invalid certificate: region" in err
    code, _, err = run(unreadable, "--jobs", "2")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(path, "--jobs", "-1")
    assert code == 2 and "--jobs must be at least 1, or 0 for one per CPU, got -1" in err
    code, _, err = run(path, "--jobs", "0")  # one per CPU, as sweep --jobs 0
    assert code == 0, err


def test_a_fault_found_after_a_lean_pass_still_reads_every_region_whole(tmp_path, stream_everything):
    """"nearest_convex" checks its optimality after the region graph's pass: part 0 has read the
    last regions lean by then, and must read them whole before it reports the fault."""
    from flint import fmpq

    from exactconvex.convexify import convexify
    from exactconvex.sweep.generate import network_rng

    net = torch_network(network_rng(0, 2, [4, 4], 1, 0), 2, [4, 4], 1)
    result = convexify(net)
    assert result.distance > 0
    bad = result.certificate()
    multiplier = bad["outputs"][0]["multipliers"][0]
    multiplier["y"] = str(fmpq(multiplier["y"]) * 3)
    assert "the multipliers prove a distance of at least" in verify(bad).reason
    bad = malformed_last_region(bad)
    path = write(tmp_path, bad)
    with pytest.raises(CertificateError):
        _part(path, None, False, (0, 2))
    with pytest.raises(CertificateError):
        verify(path, jobs=2)


def test_binding_to_a_given_network_holds_with_jobs(cert):
    from exactconvex.network import network_from_dict

    given = network_from_dict(cert["network"])
    assert verify(cert, network=given, jobs=2).valid and verify(cert, network=cert["network"], jobs=2).valid
    other = copy.deepcopy(cert["network"])
    other["layers"][0]["bias"] = ["1"] * len(other["layers"][0]["weight"])
    result = verify(cert, network=other, jobs=2)
    assert not result.valid and "differs from the given network" in result.reason


def test_check_with_jobs_verifies_a_large_certificate_with_jobs(tmp_path, monkeypatch, cert):
    """``check --jobs N --cert`` checks the certificate it writes with N processes when it is large
    enough (``PARALLEL_VERIFY_REGIONS`` regions), and in this process otherwise."""
    import exactconvex.checker as checker
    from exactconvex.cli import common
    from exactconvex.cli import main as cli

    seen = []
    real = checker.verify
    monkeypatch.setattr(checker, "verify", lambda *a, jobs=1, **k: seen.append(jobs) or real(*a, jobs=jobs, **k))
    net = tmp_path / "net.json"
    net.write_text(json.dumps(cert["network"]))
    for threshold, expected in ((10 ** 9, 1), (0, 2)):
        monkeypatch.setattr(common, "PARALLEL_VERIFY_REGIONS", threshold)
        out = tmp_path / f"cert{threshold}.json"
        assert cli.main(["check", str(net), "--method", "regions", "--cert", str(out), "--jobs", "2", "--quiet"]) == 0
        assert seen[-1] == expected and verify(str(out)).valid


def test_the_cli_reports_a_killed_checking_process_as_such(monkeypatch, tmp_path, capsys):
    # what the standard library's pool raises when the system kills one of its processes
    from concurrent.futures.process import BrokenProcessPool

    import exactconvex.checker
    from exactconvex.cli import main as cli

    def killed(*args, **kwargs):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly while the future was running "
                                "or pending.")

    monkeypatch.setattr(exactconvex.checker, "verify", killed)
    path = tmp_path / "cert.json"
    path.write_text("{}")
    code = cli.main(["verify", str(path), "--jobs", "2"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "terminated abruptly while the future was running or pending; no verdict was given" in err
    assert "try fewer --jobs" in err and "internal error" not in err


class _DiesWhenUnpickled:
    """Passed to the other parts' processes as ``reference`` (true: the plain kernels in part 0):
    unpickling it there kills that process, as the system does when memory runs out."""

    def __bool__(self) -> bool:
        return True

    def __reduce__(self):
        return exec, ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)",)


def test_a_killed_part_stops_verification_before_part_0_is_done(tmp_path, monkeypatch, cert):
    from concurrent.futures.process import BrokenProcessPool

    from exactconvex.checker import region_graph

    well_formed = region_graph.check_region_well_formed

    def slowly(*args):  # part 0 (this process) takes 0.15 s per region read; the other part dies at once, and
        import time  # its death is known long before part 0's first progress step after the start (16 regions)

        time.sleep(0.15)
        return well_formed(*args)

    monkeypatch.setattr(region_graph, "check_region_well_formed", slowly)
    seen = []
    with pytest.raises(BrokenProcessPool):
        verify(write(tmp_path, cert), reference=_DiesWhenUnpickled(), jobs=2, progress=lambda d, t: seen.append((d, t)))
    total = len(cert["region_graph"]["regions"])
    assert total >= 32 and seen and max(d for d, _ in seen) < total  # stopped at a progress call, before the end


def test_every_part_checks_the_neighbours_of_every_region(tmp_path, stream_everything, cert):
    """A region's facets' neighbours are read by every part, even where the region's points are not."""
    n = len(cert["region_graph"]["regions"])
    bad = copy.deepcopy(cert)
    bad["region_graph"]["regions"][-1]["facets"][0]["neighbor"] = n
    path = write(tmp_path, bad)
    for part in (0, 1):  # part 0 reads the last region lean, part 1 whole
        result = _part(path, None, False, (part, 2))
        assert not result.valid and f"facet 0: neighbor {n} is not a region index" in result.reason
