"""``conditions`` at the speed of the region graph (issue 14, item 5), tested by what it does, not
by the clock (no timed tests; the timings are in the closing note of the issue):

* the exact values come from one backward pass of matrix products per (layer, downstream states),
  shared by every neuron of the layer, and each distinct (neuron, pattern) is computed once,
  however many facets share it;
* nothing symbolic happens while the conditions are found: sympy is not even imported by the
  command (text or JSON), and a sum of path products is walked only when it is written;
* the text for people walks a few terms of each sum it shows, so its cost and size do not grow
  with the number of paths or of facets.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exactconvex import Network
from exactconvex.network import save_json
from exactconvex.pathlifting import conditions, path_sum
from exactconvex.pathlifting.pathsums import PathSum
from exactconvex.pathlifting.printers import MAX_TERMS, PER_GROUP
from exactconvex.sweep.generate import icnn_structured, network_rng, torch_network

REPO = Path(__file__).resolve().parent.parent


def wide_icnn(width: int = 8) -> Network:
    """The issue's kind of network, smaller: d = 2, three hidden layers, PyTorch's initialisation,
    ICNN structure (absolute values of the weights out of hidden layers)."""
    return icnn_structured(torch_network(network_rng(0, 2, [width] * 3, 1, 0), 2, [width] * 3))


def plain(width: int = 8) -> Network:
    return torch_network(network_rng(0, 2, [width] * 3, 1, 1), 2, [width] * 3)


@pytest.mark.parametrize("make", [wide_icnn, plain])
def test_each_distinct_condition_is_computed_once(make, monkeypatch):
    net = make()
    made = []
    real_init = PathSum.__init__

    def counting_init(self, *args, **kwargs):
        made.append(args[1:3])
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(PathSum, "__init__", counting_init)

    def no_walk(self):  # finding the conditions writes nothing symbolic
        raise AssertionError("a path sum was walked while the conditions were found")

    monkeypatch.setattr(PathSum, "monomials", no_walk)
    report = conditions(net)
    distinct = {(t.neuron, t.pattern) for c in report for t in c.terms}
    assert len(made) == len(distinct) < report.facets  # once per (neuron, pattern), not per facet
    for c in report:  # the shared backward pass gives path_sum's numbers
        for t in c.terms:
            assert t.path_sum == path_sum(net, t.neuron, t.pattern)


def test_text_walks_a_few_terms_of_each_sum(monkeypatch):
    report = conditions(wide_icnn())
    assert max(len(t.paths) for c in report for t in c.terms) > 4 * MAX_TERMS  # long sums
    walked = []
    real = PathSum.monomials

    def counting(self):
        for item in real(self):
            walked.append(item)
            yield item

    monkeypatch.setattr(PathSum, "monomials", counting)
    text = report.to_text()
    shown_terms = sum(len(c.terms) for c in report)  # at most every term is shown once
    assert len(walked) <= (MAX_TERMS + 1) * shown_terms
    assert len(walked) < sum(len(t.paths) for c in report for t in c.terms) / 2
    assert "path products)" in text


def test_command_finds_and_writes_conditions_without_sympy(tmp_path):
    path = tmp_path / "net.json"
    save_json(wide_icnn(), path)
    code = ("import sys\n"
            "sys.argv = ['exactconvex', 'conditions', sys.argv[1]] + sys.argv[2:]\n"
            "from exactconvex.cli.main import main\n"
            "code = main()\n"
            "sys.stderr.write('SYMPY=%s' % ('sympy' in sys.modules))\n"
            "sys.exit(code)\n")
    for extra in ([], ["--json"], ["--latex"]):
        proc = subprocess.run([sys.executable, "-c", code, str(path), *extra], capture_output=True, text=True,
                              timeout=300, cwd=REPO)
        assert proc.returncode in (0, 1), proc.stderr
        assert proc.stderr.endswith("SYMPY=False"), (extra, proc.stderr)


def test_text_size_does_not_grow_with_the_number_of_conditions():
    small, large = conditions(plain(6)), conditions(plain(10))
    assert len(large) > 1.5 * len(small)
    for report in (small, large):
        neurons = len({c.neurons for c in report})
        lines = report.to_text().splitlines()
        # per neuron: a heading, PER_GROUP conditions (a combined one takes two lines), "... and K more"
        assert len(lines) <= neurons * (2 * PER_GROUP + 2) + len(report.no_condition) + 5
