"""The checker reads large certificate files as a stream and checks the region graph in one pass.

* Streamed and in-memory reading give the same verdicts and reasons (valid, invalid, unreadable).
* The regions array is never held: the peak memory of ``verify`` (tracemalloc) stays nearly flat
  while the certificate grows several times.
"""

from __future__ import annotations

import copy
import json
import tracemalloc

import numpy as np
import pytest

from exactconvex.checker import CertificateError, verify
from exactconvex.checker import reader as checker_reader
from exactconvex.checker.reader import read_json_file, read_network
from exactconvex.checker.region_graph import StreamedRegions
from exactconvex.certificates import certificate_text
from exactconvex.decide import check
from exactconvex.network import network_to_dict
from exactconvex.sweep.generate import icnn_structured, torch_network


@pytest.fixture
def stream_everything(monkeypatch):
    monkeypatch.setattr(checker_reader, "STREAM_BYTES", 0)
    monkeypatch.setattr(checker_reader, "_CHUNK", 1000)  # many chunk boundaries, inside numbers and strings


def certificate(d=2, hidden=(8, 8), seed=0):
    net = icnn_structured(torch_network(np.random.default_rng(seed), d, list(hidden)))
    v = check(net, method="regions", certificate=True)
    assert v.convex
    return v.certificate


def both(cert, tmp_path, text=None):
    """verify of the file (streamed) and of the parsed document; (result or error text) each."""
    path = tmp_path / "cert.json"
    path.write_text(text if text is not None else certificate_text(cert))
    out = []
    for source in (str(path), None):
        try:
            if source is None:
                doc = json.loads(path.read_text())
                r = verify(doc)
            else:
                r = verify(source)
            out.append((r.valid, r.reason, r.regions, r.facets))
        except CertificateError as exc:
            out.append(("unreadable", str(exc).replace(f"the certificate {path}", "the certificate")))
    return out


def test_a_streamed_file_is_really_streamed(tmp_path, stream_everything):
    cert = certificate()
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    doc = read_json_file(path, "the certificate")
    regions = doc["region_graph"]["regions"]
    assert isinstance(regions, checker_reader.StreamedArray) and len(regions) == len(cert["region_graph"]["regions"])
    assert regions[3] == json.loads(json.dumps(cert["region_graph"]["regions"][3]))
    assert doc["network"] == json.loads(json.dumps(cert["network"]))


def test_streamed_and_in_memory_verdicts_agree(tmp_path, stream_everything):
    cert = certificate()
    streamed, memory = both(cert, tmp_path)
    assert streamed == memory and streamed[0] is True
    for layout in (json.dumps(cert, indent=1), json.dumps(cert, separators=(",", ":"))):  # any layout reads the same
        assert both(cert, tmp_path, layout) == [streamed, memory]
    # invalid: a wrong point, a wrong neighbour, a negative bend, a missing redundancy
    mutations = []
    c = copy.deepcopy(cert)
    c["region_graph"]["regions"][5]["interior_point"] = ["1000", "1000"]
    mutations.append(c)
    c = copy.deepcopy(cert)
    c["region_graph"]["regions"][7]["facets"][0]["neighbor"] = 0
    mutations.append(c)
    c = copy.deepcopy(cert)
    c["region_graph"]["regions"][-1]["facets"][0]["point"] = ["0", "0"]
    mutations.append(c)
    c = copy.deepcopy(cert)
    for R in c["region_graph"]["regions"]:
        if R["redundant"] or R.get("implied"):
            R["redundant"], R["implied"] = [], []
            break
    mutations.append(c)
    c = copy.deepcopy(cert)
    c["region_graph"]["regions"][2]["facets"][0]["neighbor"] = len(c["region_graph"]["regions"])
    mutations.append(c)
    for c in mutations:
        streamed, memory = both(c, tmp_path)
        assert streamed == memory and streamed[0] is False, (streamed, memory)


@pytest.mark.parametrize("damage", ["truncated", "duplicate key", "nan", "not a number", "extra data", "bad utf8"])
def test_unreadable_streamed_files_are_unreadable(tmp_path, stream_everything, damage):
    cert = certificate(hidden=(5, 5))
    text = json.dumps(cert)
    at = text.index('"interior_point"', len(text) // 2)
    if damage == "truncated":
        text = text[:len(text) * 3 // 4]
    elif damage == "duplicate key":
        text = text[:at] + '"pattern": ["0", "0"], ' + text[at:]
    elif damage == "nan":
        text = text[:at] + '"x": NaN, ' + text[at:]
    elif damage == "not a number":
        text = text[:at] + text[at:].replace('"interior_point": ["', '"interior_point": ["+', 1)
    elif damage == "extra data":
        text = text + " {}"
    path = tmp_path / "bad.json"
    if damage == "bad utf8":
        path.write_bytes(text[:at].encode() + b"\xff" + text[at:].encode())
    else:
        path.write_text(text)
    with pytest.raises(CertificateError):
        verify(str(path))


def test_an_invalid_region_before_a_malformed_one_is_still_unreadable(tmp_path, stream_everything):
    """All of a certificate is read before anything is checked, streamed or not."""
    cert = certificate(hidden=(5, 5))
    cert["region_graph"]["regions"][0]["interior_point"] = ["1000", "1000"]  # invalid
    cert["region_graph"]["regions"][-1]["facets"][0]["neighbor"] = "one"  # malformed
    streamed, memory = both(cert, tmp_path)
    assert streamed[0] == memory[0] == "unreadable"


def test_a_malformed_region_is_unreadable_even_when_a_check_stops_before_the_regions(tmp_path, stream_everything):
    """The regions of a streamed file are read by the checks' first pass; a check that fails before
    it (here: the proofs) still leaves the rest to be read, and a malformed region wins."""
    cert = certificate(hidden=(5, 5))
    cert["proofs"] = cert["proofs"] * 2  # invalid: two proofs for one output
    cert["region_graph"]["regions"][-1]["facets"][0]["neighbor"] = "one"  # malformed
    streamed, memory = both(cert, tmp_path)
    assert streamed[0] == memory[0] == "unreadable"
    cert["region_graph"]["regions"][-1]["facets"][0]["neighbor"] = 0  # well formed again: invalid
    streamed, memory = both(cert, tmp_path)
    assert streamed == memory and streamed[0] is False and "2 proofs for 1 outputs" in streamed[1]


def test_verify_makes_no_reference_cycles_and_restores_the_collector(tmp_path, monkeypatch):
    """``verify`` pauses the cyclic garbage collector: that frees nothing only if the checker makes
    no reference cycles, valid, invalid or unreadable, in memory or streamed."""
    import gc

    cert = certificate(hidden=(5, 5))
    invalid, malformed = copy.deepcopy(cert), copy.deepcopy(cert)
    invalid["region_graph"]["regions"][3]["interior_point"] = ["1000", "1000"]
    malformed["region_graph"]["regions"][3]["facets"][0]["neighbor"] = "x"
    for stream in (False, True):
        monkeypatch.setattr(checker_reader, "STREAM_BYTES", 0 if stream else 1 << 40)
        for c in (cert, invalid, malformed):
            path = tmp_path / "c.json"
            path.write_text(json.dumps(c))
            for source in (str(path), c):
                gc.collect()
                gc.disable()
                try:
                    verify(source)
                except CertificateError:
                    pass
                assert gc.collect() == 0
                gc.enable()
    assert gc.isenabled()
    gc.disable()
    try:
        verify(cert)
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


def test_verify_peak_memory_stays_flat_as_the_certificate_grows(tmp_path, stream_everything, monkeypatch):
    # a small cache of recent regions' maps (its budget is a constant amount of memory; here it
    # is kept below both certificates, so that what grows with them would show)
    from exactconvex.checker.region_graph import _Recent

    monkeypatch.setattr(_Recent, "BUDGET", 1 << 16)  # 64 KB: about 40 regions
    peaks, sizes, counts = [], [], []
    for hidden in ((10, 10), (40, 40)):
        cert = certificate(hidden=hidden, seed=3)
        path = tmp_path / f"c{hidden[0]}.json"
        path.write_text(json.dumps(cert))
        counts.append(len(cert["region_graph"]["regions"]))
        sizes.append(path.stat().st_size)
        del cert
        tracemalloc.start()
        result = verify(str(path))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert result.valid
    assert counts[1] > 6 * counts[0], counts
    # 7.6x the regions (and 4x the neurons per region: one region's data grows about 4x); the peak
    # grows about as one region's data does, far less than the regions or the file (9.4x; 12x before
    # implied groups were written as marks), and stays below the file's size: nothing is held per region
    # (with the one-pass check and small recent items the 10x10 peak fell from 515 KB to 235 KB, the
    # 40x40 one from 1.48 MB to 1.07 MB)
    assert peaks[1] / peaks[0] < (counts[1] / counts[0]) / 1.5, (peaks, sizes, counts)
    assert peaks[1] < sizes[1], (peaks, sizes, counts)
    # and reading the whole file first (as below STREAM_BYTES) costs many times more
    monkeypatch.setattr(checker_reader, "STREAM_BYTES", 1 << 40)
    tracemalloc.start()
    assert verify(str(path)).valid
    whole = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert whole > 5 * peaks[1], (whole, peaks)
