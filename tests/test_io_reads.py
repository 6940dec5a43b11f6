"""Reading and writing network files safely (issue 11, "Unbounded reads", "Malformed .npz",
"Leniency the format forbids", "Output safety" of the library writers).

Each test is built from a reproducer of the issue: a read that never ends or grows without
bound must be refused at once with a clear message, malformed input must name what is wrong
(never an internal error, never numpy's pickle advice), and a failed write must leave the old
file as it was."""

from __future__ import annotations

import json
import os
import stat
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

from exactconvex import Network
from exactconvex.network import FormatError, load, network_from_dict, read_npz, save_json, save_npz
from exactconvex.network import formats
from exactconvex.network.formats import parse_json_text, write_atomically

ONE_LAYER = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
             "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]}


def refused(path, *words) -> str:
    with pytest.raises(FormatError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and len(message) < 400, message[:600]
    assert "internal error" not in message and "allow_pickle" not in message
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


# ----- only regular files are read ------------------------------------------------------------

def test_dev_zero_is_refused_not_read():
    # reproducer: `check /dev/zero` grew to 23 GB
    refused("/dev/zero", "/dev/zero", "regular file")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    # reproducer: a FIFO blocked forever (nobody writes into it here, so any read would hang)
    fifo = tmp_path / "net.json"
    os.mkfifo(fifo)
    refused(fifo, "FIFO", "regular file")
    fifo_npz = tmp_path / "net.npz"
    os.mkfifo(fifo_npz)
    refused(fifo_npz, "FIFO")


def test_a_directory_is_refused(tmp_path):
    refused(tmp_path, "directory")
    (tmp_path / "d.npz").mkdir()
    refused(tmp_path / "d.npz", "directory")


def test_json_larger_than_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(ONE_LAYER))
    assert load(path).input_dim == 1
    monkeypatch.setattr(formats, "MAX_JSON_BYTES", len(path.read_bytes()) - 1)
    refused(path, "too large", "limit")


# ----- .npz: every member checked from its header before it is decompressed ---------------------

def _npz_with_header_only(path, name, shape, dtype=np.float64, payload=b""):
    """An .npz whose member ``name`` announces ``shape`` (deflated zeros, or ``payload``)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open(name + ".npy", "w", force_zip64=True) as member:
            npy.write_array_header_1_0(member, {"descr": npy.dtype_to_descr(np.dtype(dtype)),
                                                "fortran_order": False, "shape": shape})
            member.write(payload)


def test_huge_npz_matrix_is_refused_from_its_header(tmp_path, monkeypatch):
    # reproducer: a 389 KB compressed .npz of a 20000 x 20000 zero matrix never finished loading.
    # Built for real (int8 zeros keep the test quick); any decompression of an array is a failure.
    path = tmp_path / "big.npz"
    zeros = bytes(2**22)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("W1.npy", "w", force_zip64=True) as member:
            npy.write_array_header_1_0(member, {"descr": "|i1", "fortran_order": False, "shape": (20000, 20000)})
            for _ in range(20000 * 20000 // len(zeros)):
                member.write(zeros)
            member.write(bytes(20000 * 20000 % len(zeros)))
        with zf.open("W2.npy", "w") as member:
            np.save(member, np.zeros((1, 20000), dtype=np.int8))
    assert path.stat().st_size < 2 * 2**20

    def no_decompression(*args, **kwargs):
        raise AssertionError("an array was decompressed")

    monkeypatch.setattr(npy, "read_array", no_decompression)
    message = refused(path, "too many numbers", "20000, 20000", "nothing was decompressed")
    assert "50,000,000" in message


def test_npz_entry_cap_counts_all_arrays_together(tmp_path, monkeypatch):
    np.savez(tmp_path / "n.npz", W1=np.ones((3, 2)), b1=np.ones(3), W2=np.ones((1, 3)))
    monkeypatch.setattr(formats, "MAX_NPZ_ENTRIES", 3 * 2 + 3 + 3)
    assert load(tmp_path / "n.npz").input_dim == 2
    monkeypatch.setattr(formats, "MAX_NPZ_ENTRIES", 3 * 2 + 3 + 3 - 1)
    refused(tmp_path / "n.npz", "too many numbers")


def test_npz_byte_cap_counts_long_strings(tmp_path, monkeypatch):
    np.savez(tmp_path / "s.npz", W1=np.array([["1" * 1000]]), W2=np.array([[1]]))
    monkeypatch.setattr(formats, "MAX_NPZ_BYTES", 3000)
    refused(tmp_path / "s.npz", "too large")


@pytest.mark.parametrize("arrays, words", [
    ({"W1": np.array([[1.0]]), "W2": np.array([[1.0]]), "input_dim": np.array(2.5)}, ["input_dim", "integer"]),
    ({"W1": np.array([[1.0]]), "W2": np.array([[1.0]]), "input_dim": np.array([1])}, ["input_dim", "scalar"]),
    ({"W1": np.array([[1.0]]), "W2": np.array([[1.0]]), "input_dim": np.array("1")}, ["input_dim", "integer"]),
    ({"W1": np.array([[1.0]]), "W2": np.array([[1.0]]), "input_dim": np.array(True)}, ["input_dim", "integer"]),
    ({"W1": np.zeros((0, 3))}, ["W1", "empty", "(0, 3)"]),
    ({"W1": np.zeros((3, 0)), "W2": np.zeros((1, 3))}, ["W1", "empty"]),
    ({"W1": np.ones((1, 1)), "b1": np.zeros(0), "W2": np.ones((1, 1))}, ["b1", "empty"]),
    ({"W1": np.array([[1, None]], dtype=object)}, ["W1", "Python objects", "not read"]),
    ({"W1": np.array([1.0, 2.0])}, ["W1", "2-D"]),
    ({"W1": np.ones((1, 1)), "b1": np.ones((1, 1))}, ["b1", "1-D"]),
    ({"W1": np.array([[1j]])}, ["W1", "complex"]),
    ({"W1": np.array([["+3"]])}, ["W1", "+3"]),
    ({"W1": np.array([[" 1 / 7 "]])}, ["W1", "1 / 7"]),
    ({"W1": np.array([["1/-2"]])}, ["W1", "1/-2"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "S2_00": np.ones((1, 1))}, ["S2_00", "unknown"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "S2_\u0660": np.ones((1, 1))}, ["unknown"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "S2_" + "1" * 4400: np.ones((1, 1))}, ["out of range",
                                                                                          "4400 digits"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "S" + "1" * 4400 + "_0": np.ones((1, 1))}, ["does not exist",
                                                                                                "4400 digits"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "slope2": np.array("1/2")}, ["layer 2", "last layer"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "slope3": np.array("1/2")}, ["slope3", "does not exist"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "slope1": np.array(["1/2"])}, ["slope1", "scalar"]),
    ({"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "W0": np.ones((1, 1))}, ["W0", "unknown"]),
])
def test_malformed_npz_gets_a_clear_message(tmp_path, arrays, words):
    np.savez(tmp_path / "bad.npz", **arrays)
    refused(tmp_path / "bad.npz", *words)


def test_corrupt_npz_files(tmp_path):
    np.savez(tmp_path / "good.npz", W1=np.array([[1.0, 2.0]]), W2=np.array([[3.0]]))
    data = (tmp_path / "good.npz").read_bytes()
    assert read_npz(tmp_path / "good.npz").input_dim == 2
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "truncated.npz", "not a readable .npz")
    flipped = bytearray(data)
    flipped[data.index(b"W1.npy") + 60] ^= 0xFF  # inside W1's stored bytes: a CRC or header error
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    refused(tmp_path / "flipped.npz", "flipped.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", "not a readable .npz")
    with zipfile.ZipFile(tmp_path / "text.npz", "w") as zf:
        zf.writestr("notes.txt", "hello")
    refused(tmp_path / "text.npz", "notes.txt", "not a NumPy array")
    _npz_with_header_only(tmp_path / "short.npz", "W1", (2, 2), payload=b"\0" * 8)  # 4 doubles announced, 1 given
    refused(tmp_path / "short.npz", "not a readable .npz")


def test_object_arrays_never_show_numpys_pickle_advice(tmp_path):
    np.savez(tmp_path / "o.npz", W1=np.array([[1.0]]), W2=np.array([{"a": 1}], dtype=object).reshape(1, 1))
    message = refused(tmp_path / "o.npz", "Python objects")
    assert "pickle" not in message


def test_npz_slopes_round_trip(tmp_path):
    net = Network.from_lists(2, [{"weight": [[1, -1], [2, 0]], "bias": [0, 1], "slope": "1/2"},
                                 {"weight": [[1, 1]], "skip": {0: [[1, 0]]}, "slope": "-3"},
                                 {"weight": [[1]], "skip": {1: [[2, 3]]}}])
    save_npz(net, tmp_path / "leaky")  # written where asked: no ".npz" appended
    assert sorted(os.listdir(tmp_path)) == ["leaky"]
    os.rename(tmp_path / "leaky", tmp_path / "leaky.npz")
    back = load(tmp_path / "leaky.npz")
    assert back == net and [str(s) for s in back.slopes] == ["1/2", "-3"]


# ----- JSON: skip keys, long literals -------------------------------------------------------------

@pytest.mark.parametrize("key", ["00", "01", "\u0660", "\u0661", "+0", " 0", "0 ", "-0", "0.0", "", "\uff10"])
def test_skip_keys_are_plain_ascii_indices(key):
    doc = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
           "layers": [{"weight": [[1]]}, {"weight": [[1]], "skip": {key: [[1]]}}]}
    with pytest.raises(FormatError, match="layer 2.*skip"):
        network_from_dict(doc)
    doc["layers"][1]["skip"] = {"0": [[1]]}
    assert list(network_from_dict(doc).layers[1].skip) == [0]


def test_skip_key_beyond_pythons_digit_limit_is_out_of_range():
    doc = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
           "layers": [{"weight": [[1]]}, {"weight": [[1]]}, {"weight": [[1]], "skip": {"1" * 5000: [[1]]}}]}
    with pytest.raises(FormatError) as err:
        network_from_dict(doc)
    assert "out of range" in str(err.value) and "5000 digits" in str(err.value) and len(str(err.value)) < 200


@pytest.mark.parametrize("literal", ['"' + "7" * 1_000_000 + 'x"', '"+' + "7" * 1_000_000 + '"',
                                     '"1/-' + "3" * 100_000 + '"', '"1e' + "9" * 100_000 + '"'])
def test_one_megabyte_literals_give_one_line_messages(tmp_path, literal):
    # reproducer: huge numbers printed whole in one-line errors (1 MB of message)
    text = json.dumps(ONE_LAYER).replace("[[1, 1]]", f"[[1, {literal}]]")
    path = tmp_path / "net.json"
    path.write_text(text)
    message = refused(path, "layer 2", "weight")
    assert len(message) < 300


def test_duplicate_huge_key_message_is_short():
    key = "k" * 1_000_000
    with pytest.raises(FormatError) as err:
        parse_json_text('{"%s": 1, "%s": 2}' % (key, key))
    assert "twice" in str(err.value) and len(str(err.value)) < 200


# ----- atomic writes -------------------------------------------------------------------------------

def test_write_atomically_replaces_or_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    os.chmod(path, 0o640)

    def fails_half_way(fh):
        fh.write(b"partial new cont")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(path, fails_half_way)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.json"]  # no temporary file left behind
    assert write_atomically(path, lambda fh: fh.write(b"new")) is True
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert write_atomically(tmp_path / "fresh", lambda fh: fh.write(b"x")) is False
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o666 & ~umask


def test_write_atomically_replaces_a_symlink_not_its_target(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    write_atomically(link, lambda fh: fh.write(b"new"))
    assert target.read_text() == "keep" and not link.is_symlink() and link.read_text() == "new"


def test_save_json_and_save_npz_failures_keep_the_old_file(tmp_path, monkeypatch):
    net = network_from_dict(ONE_LAYER)
    for name, save in (("n.json", save_json), ("n.npz", save_npz)):
        path = tmp_path / name
        save(net, path)
        before = path.read_bytes()

        def broken(*args, **kwargs):
            raise OSError(5, "Input/output error")

        with monkeypatch.context() as m:
            m.setattr(formats, "dumps", broken)
            m.setattr(np, "savez", broken)
            with pytest.raises(OSError):
                save(net, path)
        assert path.read_bytes() == before and load(path) == net
    assert sorted(os.listdir(tmp_path)) == ["n.json", "n.npz"]
