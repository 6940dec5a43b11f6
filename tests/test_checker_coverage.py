"""Edge cases of the checker's reader (streamed and whole-file) and region graph that the other
tests do not reach: each one asserts the error or verdict that the edge case must give."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exactconvex.checker import CertificateError, verify
from exactconvex.checker import reader as checker_reader
from exactconvex.checker import region_graph as rg
from exactconvex.checker.reader import parse_json_text, read_json_file, read_network
from exactconvex.checker.results import Invalid
from exactconvex.decide import check
from exactconvex.network import network_to_dict
from exactconvex.sweep.generate import icnn_structured, torch_network


@pytest.fixture
def stream_everything(monkeypatch):
    monkeypatch.setattr(checker_reader, "STREAM_BYTES", 0)
    monkeypatch.setattr(checker_reader, "_CHUNK", 7)  # chunk boundaries everywhere


@pytest.fixture(scope="module")
def cert():
    net = icnn_structured(torch_network(np.random.default_rng(0), 2, [5, 5]))
    v = check(net, method="regions", certificate=True)
    assert v.convex
    return v.certificate


def write(tmp_path, text, name="c.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ----- whole-file reading -----------------------------------------------------------------------

def test_a_file_larger_than_its_size_says_is_refused(monkeypatch):
    """A regular file whose stat size (0 for /proc files) hides its real length: the bytes read
    are counted again against MAX_FILE_BYTES."""
    monkeypatch.setattr(checker_reader, "MAX_FILE_BYTES", 10)
    with pytest.raises(CertificateError, match="is larger than 10 bytes"):
        read_json_file("/proc/self/status", "the certificate")


# ----- StreamedArray ----------------------------------------------------------------------------

def test_streamed_array_indexing_and_a_file_changed_or_gone(tmp_path, stream_everything, cert):
    path = write(tmp_path, json.dumps(cert))
    regions = read_json_file(path, "the certificate")["region_graph"]["regions"]
    n = len(cert["region_graph"]["regions"])
    assert isinstance(regions, checker_reader.StreamedArray) and len(regions) == n
    expected = json.loads(json.dumps(cert["region_graph"]["regions"][-1]))
    assert regions[-1] == expected == regions[n - 1]
    with pytest.raises(IndexError):
        regions[n]
    with pytest.raises(IndexError):
        regions[-n - 1]
    with open(path, "a") as fh:  # grown: the spans no longer describe the file
        fh.write(" ")
    with pytest.raises(CertificateError, match="changed while it was being checked"):
        regions[0]
    with pytest.raises(CertificateError, match="changed while it was being checked"):
        list(regions)
    path.unlink()
    with pytest.raises(CertificateError, match="cannot be read again"):
        regions[0]


# ----- the streaming reader's syntax errors and edge cases ---------------------------------------

@pytest.mark.parametrize("text, message", [
    ('{"a" 1}', r"expected ':' at byte 5"),
    ('{"network": {"x": 1, "x": 2}}', "appears twice"),  # strict decoder, outside the regions
    ('{"network": NaN}', "NaN"),
    ('{1: 2}', "expected a string key"),
    ('{"a": 1, }', "expected a string key"),
    ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
    ('{"a": 1 "b": 2}', "expected ',' or '}' in an object"),
    ('{"region_graph": {"regions": [{} {}]}}', r"expected ',' or '\]' in the array region_graph.regions"),
    ('{"region_graph": {"regions": [1, 2}}', r"expected ',' or '\]'"),
])
def test_malformed_streamed_files_are_unreadable(tmp_path, stream_everything, text, message):
    path = write(tmp_path, text)
    with pytest.raises(CertificateError, match=message):
        read_json_file(path, "the certificate")
    with pytest.raises(CertificateError):
        verify(str(path))


def test_streamed_documents_that_are_not_the_usual_shape(tmp_path, stream_everything):
    # an empty object, a non-object document, regions that are not an array: read as JSON says
    assert read_json_file(write(tmp_path, " { } "), "c") == {}
    assert read_json_file(write(tmp_path, "[1, 2.5, {}]"), "c") == [1, "2.5", {}]
    doc = read_json_file(write(tmp_path, '{"region_graph": {"regions": 5, "x": {}}}'), "c")
    assert doc == {"region_graph": {"regions": 5, "x": {}}}
    # and none of them is a certificate
    for text in (" { } ", "[1, 2.5, {}]"):
        with pytest.raises(CertificateError):
            verify(str(write(tmp_path, text)))


def test_a_streamed_certificate_with_regions_that_are_not_a_list_is_unreadable(tmp_path, stream_everything, cert):
    bad = dict(cert, region_graph=dict(cert["region_graph"], regions={"0": 1}))
    with pytest.raises(CertificateError):
        verify(str(write(tmp_path, json.dumps(bad))))


def test_a_streamed_certificate_with_no_regions_is_invalid(tmp_path, stream_everything, cert):
    empty = dict(cert, region_graph=dict(cert["region_graph"], regions=[]))
    path = write(tmp_path, json.dumps(empty))
    regions = read_json_file(path, "c")["region_graph"]["regions"]
    assert isinstance(regions, checker_reader.StreamedArray) and len(regions) == 0
    result = verify(str(path))
    assert result.valid is False and "no regions" in result.reason
    # the same verdict as the in-memory document
    memory = verify(json.loads(json.dumps(empty)))
    assert (memory.valid, memory.reason) == (result.valid, result.reason)


# ----- region graph -----------------------------------------------------------------------------

def test_streamed_regions_by_index_equal_the_in_memory_ones(tmp_path, stream_everything, cert):
    text = json.dumps(cert)
    streamed = rg.read_region_graph(read_json_file(write(tmp_path, text), "c")["region_graph"])
    memory = rg.read_region_graph(parse_json_text(text, "c")["region_graph"])
    assert isinstance(streamed, rg.StreamedRegions) and len(streamed) == len(memory)
    for r in (0, len(memory) // 2, len(memory) - 1, -1):
        assert streamed[r] == memory[r]
    assert tuple(streamed) == memory


def test_neuron_lists_fast_and_with_messages():
    assert rg._neurons([[1, 0], [2, 5]], "where") == (rg.Neuron(1, 0), rg.Neuron(2, 5))
    for bad, message in (([[1, 0], [1]], r"where\[1\]: expected \[layer, index\]"),
                         ([[1, 0], [True, 0]], r"where\[1\]\[0\]: expected an integer"),
                         ([[1, "0"]], r"where\[0\]\[1\]: expected an integer"), ([(1, 0)], r"where\[0\]: expected")):
        with pytest.raises(CertificateError, match=message):
            rg._neurons(bad, "where")


def _checked(cert):
    doc = parse_json_text(json.dumps(cert), "c")
    net = read_network(doc["network"], "network")
    return net, rg.Layout.of(net), rg.read_region_graph(doc["region_graph"])


def test_check_well_formed(cert):
    net, layout, regions = _checked(cert)
    rg.check_well_formed(net, layout, regions)  # a certificate from check() is well formed
    with pytest.raises(Invalid, match="no regions"):
        rg.check_well_formed(net, layout, ())
    bad = json.loads(json.dumps(cert))
    bad["region_graph"]["regions"][1]["facets"][0]["neighbor"] = len(bad["region_graph"]["regions"])
    net, layout, regions = _checked(bad)
    with pytest.raises(Invalid):
        rg.check_well_formed(net, layout, regions)


def test_recent_regions_recompute_an_evicted_region(cert):
    net, layout, regions = _checked(cert)
    recent = rg._Recent(net, rg.IntegerMaps(net), rg.facet_rows)
    originals = []
    for r, R in enumerate(regions[:4]):
        facets = [layout.position(F.neuron) for F in R.facets]
        item = rg.facet_rows(rg.IntegerMaps(net)(R.pattern), facets)
        originals.append(item)
        recent.add(r, R.pattern, facets, item)
    assert list(recent.items) == [0, 1, 2, 3] and recent.get(3) is originals[3]
    recent.BUDGET = recent.size - 1  # room for all but one: adding evicts the oldest
    recent._put(4, originals[0])
    assert 0 not in recent.items and 4 in recent.items
    again = recent.get(0)  # recomputed from its pattern and facets
    assert again is not originals[0] and again.positions == originals[0].positions
    assert again.rows == originals[0].rows and again.outputs == originals[0].outputs
