"""examples/paper_experiments.py: the per-cell tables agree with the rows, the README sections are
replaced in place, and `verify` rejects a certificate whose network is not the grid's network."""

import importlib.util
import json
import os
import shutil

import pytest

from exactconvex.sweep import read_results, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module():
    spec = importlib.util.spec_from_file_location("paper_experiments",
                                                  os.path.join(ROOT, "examples", "paper_experiments.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    folder = out / "2d"
    folder.mkdir()
    # small 2-D networks: several convex (some affine, some not), most not, with the box
    sweep(grid="d=2;widths=1x1,2x2;count=60;seed=0", results=str(folder / "results.jsonl"), box=("-100", "100"),
          certs=str(folder / "certificates"), certs_for="convex-not-icnn", progress=False)
    return out


def test_cell_table_counts_match_rows(swept):
    pe = _module()
    rows = read_results(str(swept / "2d" / "results.jsonl"))
    pe.mark_affine(str(swept / "2d"), rows)
    table = pe.cell_table(rows)
    assert [c["hidden_widths"] for c in table] == ["1x1", "2x2"]
    for c in table:
        rs = [r for r in rows if "x".join(map(str, r["hidden_widths"])) == c["hidden_widths"]]
        assert c["networks"] == len(rs) == 60
        assert c["convex_rd"] == sum(r["convex"] is True for r in rs)
        assert c["convex_box"] == sum(r.get("convex_box") is True for r in rs)
        # convex on R^d implies convex on the box
        assert c["convex_box"] >= c["convex_rd"]
        assert c["ci95_rd_low"] <= c["share_rd"] <= c["ci95_rd_high"]
        assert c["convex_affine"] + (c["convex_rd"] - c["convex_affine"]) == c["convex_rd"]
        assert c["convex_not_icnn_not_affine"] <= c["convex_not_icnn"]
    # an affine network is convex and concave: its negation is convex too
    from exactconvex import check
    from exactconvex.network import combine
    from exactconvex.sweep import Cell
    assert any(r.get("affine") for r in rows) and any(r.get("affine") is False for r in rows)
    for r in rows:
        if r["convex"] and r["affine"]:
            net = Cell(2, tuple(r["hidden_widths"]), 1, "torch", 0).network(r["index"])
            assert check(combine([net], [-1])).convex
            break


def test_readme_sections_replaced_in_place(tmp_path):
    pe = _module()
    (tmp_path / "README.md").write_text("# T\n\nprose\n\n<!-- tables:2d -->\nold\n<!-- /tables:2d -->\n\nend\n")
    pe.update_readme(str(tmp_path), "2d", "new table")
    pe.update_readme(str(tmp_path), "2d", "newer table")
    text = (tmp_path / "README.md").read_text()
    assert "old" not in text and "new table" not in text and text.count("newer table") == 1
    assert text.startswith("# T\n\nprose\n") and text.rstrip().endswith("end")


def test_verify_rejects_a_certificate_of_another_network(swept, tmp_path, capsys):
    pe = _module()
    certs = sorted((swept / "2d" / "certificates").glob("*.json"))
    assert certs, "the small grid has convex networks that are not ICNN-structured"
    target = tmp_path / "2d" / "certificates"
    target.mkdir(parents=True)
    shutil.copy(certs[0], target / certs[0].name)
    assert pe.verify_certificates(str(tmp_path)) == 0
    # the same valid certificate under the id of another network of the grid
    ident = certs[0].name[:-len(".json")]
    other = ident[:-6] + f"{(int(ident[-6:]) + 1) % 60:06d}"
    shutil.copy(certs[0], target / f"{other}.json")
    assert pe.verify_certificates(str(tmp_path)) == 1
    assert "same_network=False" in capsys.readouterr().out
    # a valid certificate whose network was edited is refused as well
    os.remove(target / f"{other}.json")
    cert = json.loads(certs[0].read_text())
    cert["network"]["layers"][0]["bias"] = ["12345"] * len(cert["network"]["layers"][0]["weight"])
    (target / certs[0].name).write_text(json.dumps(cert))
    assert pe.verify_certificates(str(tmp_path)) == 1
