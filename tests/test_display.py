"""What people read (issue 14, items 2 and 3): readable numbers and short notebook reprs.

* ``readable(q)``: the exact text when short; otherwise a decimal approximation computed from
  the exact value (checked here against ``decimal`` at high precision, and beyond the float
  range), with the size of the exact value; never longer than a few dozen characters.
* ``check`` says how large its witness's violation is (exact in ``--json``, readable in text)
  and, when the region graph was built, how many facets are concave and how many regions
  they border.
* Reprs of verdicts, region graph summaries and condition reports are a few lines whatever
  the size of what they hold; their HTML and LaTeX forms too.
"""

from __future__ import annotations

import decimal
import json
import re
from fractions import Fraction

import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from exactconvex.numbers import approximate, readable, readable_point, to_q

FAST = settings(max_examples=200, deadline=None)


def decimal_digits(x: Fraction, digits: int = 3) -> tuple[int, str]:
    """(exponent, significant digits) of x rounded to ``digits`` significant digits, ties to even,
    by the decimal module at a precision far beyond what the rounding needs."""
    ctx = decimal.Context(prec=5000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    value = ctx.divide(decimal.Decimal(abs(x.numerator)), decimal.Decimal(x.denominator))
    rounded = ctx.create_decimal(value).normalize(decimal.Context(prec=digits, rounding=decimal.ROUND_HALF_EVEN,
                                                                  Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN))
    sign, ds, exp = rounded.as_tuple()
    text = "".join(map(str, ds))
    return exp + len(text) - 1, text.rstrip("0") or "0"


def parse_approximation(text: str) -> tuple[int, str, bool]:
    """(exponent, significant digits, negative) of an ``approximate`` text such as -1.05e-02 or 0.0105."""
    negative = text.startswith("-")
    body = text.lstrip("-")
    mantissa, _, exp = body.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    if exp:
        e = int(exp)
    elif whole != "0":
        e = len(whole) - 1
    else:
        e = -(len(frac) - len(frac.lstrip("0"))) - 1
    return e, digits.rstrip("0") or "0", negative


huge_or_tiny = st.builds(lambda n, k, q: Fraction(n * 10 ** k, q) if k >= 0 else Fraction(n, q * 10 ** -k),
                         st.integers(-10 ** 30, 10 ** 30).filter(bool), st.integers(-700, 700),
                         st.integers(1, 10 ** 40))


@FAST
@given(huge_or_tiny)
def test_approximation_is_the_exact_value_rounded(x):
    # beyond the float range too (|k| up to 700): computed from the exact value, not via float()
    e, digits, negative = parse_approximation(approximate(to_q(x)))
    assert (e, digits) == decimal_digits(x)
    assert negative == (x < 0)


@FAST
@given(st.fractions(max_denominator=10 ** 6).filter(lambda x: abs(x) < 10 ** 12))
def test_approximation_agrees_with_float_formatting_in_range(x):
    # the format is %g's, so that numbers look as people expect (when float's own rounding agrees)
    text = approximate(to_q(x))
    if x == 0:
        assert text == "0"
        return
    e, digits = decimal_digits(x)
    expected = float(f"{'-' if x < 0 else ''}{digits[0]}.{digits[1:] or '0'}e{e}")
    assert float(text) == expected
    assert ("e" in text) == (not -4 <= e < 3)


@FAST
@given(huge_or_tiny)
def test_readable_is_short_and_names_the_exact_size(x):
    q = to_q(x)
    text = readable(q)
    exact = str(q)
    assert len(text) <= 80
    if len(exact) <= 20:
        assert text.startswith(exact)  # short: the exact value itself, perhaps with its approximation
    else:
        assert text.startswith("about " + approximate(q))
        if q.q == 1:
            assert f"a {len(exact.lstrip('-'))}-digit integer" in text
        else:
            p, d = exact.lstrip("-").split("/")
            assert f"a fraction of {len(p)} and {len(d)} digits" in text


def test_readable_examples():
    assert readable(fmpq(3, 4)) == "3/4"
    assert readable(fmpq(-22, 7)) == "-22/7"
    assert readable(7) == "7"
    assert readable(fmpq(-43, 4096)) == "-43/4096 (about -0.0105)"
    assert readable(10 ** 19) == "10000000000000000000"
    # the smallest bend: 59 and 63 digits
    bend = fmpq(280567698092312733278073036355327344821712953759985549921267,
                1316403645856964833723975346045880403986188692506863890678887219)
    assert readable(bend) == "about 0.000213 (exact: a fraction of 59 and 63 digits)"
    # beyond the float range (float() would overflow or give 0)
    assert readable(fmpq(10) ** 400 * 3) == "about 3e+400 (exact: a 401-digit integer)"
    assert readable(fmpq(-1, 7) / fmpq(10) ** 500) == "about -1.43e-501 (exact: a fraction of 1 and 501 digits)"
    # 10^5000 has more digits than Python's int -> str conversion allows by default
    assert readable(fmpq(10) ** 5000) == "about 1e+5000 (exact: a 5001-digit integer)"
    assert readable_point([fmpq(1, 2), fmpq(10) ** 30]) == "(1/2, about 1e+30 (exact: a 31-digit integer))"
    assert approximate(fmpq(9995, 1000)) == "10"  # rounding carries into a new digit
    assert approximate(fmpq(-1, 10 ** 4)) == "-0.0001" and approximate(fmpq(1, 10 ** 5)) == "1e-05"


# ----- check: the size of the violation, the concave facets -------------------------------------------

from exactconvex import Network, check  # noqa: E402
from exactconvex.cli.main import main  # noqa: E402
from exactconvex.decide.display import concave_facets, violation  # noqa: E402
from exactconvex.graph import explore, regions, summary  # noqa: E402
from exactconvex.network import save_json  # noqa: E402
from exactconvex.sweep.generate import icnn_structured, network_rng, torch_network  # noqa: E402
from strategies import networks  # noqa: E402

SPEC_EXAMPLE = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / "networks" / "spec_example.json"


@settings(max_examples=30, deadline=None)
@given(networks(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), skips=True, outputs=(1, 2)))
def test_violation_and_concave_facets_are_what_they_say(net):
    v = check(net, method="regions")
    A = explore(net)
    c = concave_facets(net, A)
    # the concave facets are the facets with a negative bend, per output and together
    for k in range(net.num_outputs):
        G = regions(net, k)
        bad = [(a, b) for a, b, bend in G.edges(data="bend") if bend < 0]
        assert c.per_output[k] == (len(bad), len({n for e in bad for n in e}))
        assert summary(G).concave_facets == len(bad) and summary(G).convex == v.outputs[k].convex
    assert c.facets == v.facets and c.total_regions == v.regions
    assert (c.count == 0) == v.convex
    assert v.concave == c
    if not v.convex:
        w = v.witness
        lam = w["lambda"]
        mid = [lam * a + (1 - lam) * b for a, b in zip(w["x"], w["y"])]
        k = w["output"]
        expected = net.evaluate(mid)[k] - lam * net.evaluate(w["x"])[k] - (1 - lam) * net.evaluate(w["y"])[k]
        assert v.violation == expected == violation(net, w) > 0
        assert all((o.violation is None) == o.convex for o in v.outputs)


def test_check_says_how_large_the_violation_is(capsys):
    code = main(["check", str(SPEC_EXAMPLE), "--method", "regions", "--json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    w = report["witness"]
    net = exactconvex_load(SPEC_EXAMPLE)
    exact = violation(net, {"output": w["output"], "x": [to_q(v) for v in w["x"]], "y": [to_q(v) for v in w["y"]],
                            "lambda": to_q(w["lambda"])})
    assert report["violation"] == str(exact) and to_q(report["violation"]) > 0
    assert report["outputs"][0]["violation"] == report["violation"]
    cf = report["concave_facets"]
    assert cf["facets"] == report["facets"] and cf["total_regions"] == report["regions"]
    assert 0 < cf["count"] <= cf["facets"] and cf["share"] == round(cf["count"] / cf["facets"], 4)
    assert 0 < cf["regions"] <= cf["total_regions"]
    assert report["outputs"][0]["concave_facets"] == {"count": cf["count"], "regions": cf["regions"]}
    code = main(["check", str(SPEC_EXAMPLE), "--method", "regions", "--quiet"])
    text = capsys.readouterr().out
    assert code == 1
    assert f"= {readable(exact)} > 0" in text
    assert f"{cf['count']} of {cf['facets']} facets are concave" in text
    assert f"border {cf['regions']} of the {cf['total_regions']} regions" in text
    # no region graph (a faster rule decided): no concave count in JSON (null) nor in text
    main(["check", str(SPEC_EXAMPLE), "--json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    if report["regions"] is None:
        assert report["concave_facets"] is None and "violation" in report


def exactconvex_load(path):
    from exactconvex.network import load

    return load(path)


def test_text_outputs_show_readable_numbers(tmp_path, capsys):
    # a bend of 60-digit fractions: regions shows an approximation, --json the exact value
    third = fmpq(1, 3) ** 40
    net = Network.from_lists(1, [{"weight": [[1], [1]], "bias": [0, -1]}, {"weight": [[third, -2 * third]]}])
    path = tmp_path / "n.json"
    save_json(net, path)
    main(["regions", str(path), "--quiet"])
    text = capsys.readouterr().out
    assert "about -" in text and "(exact: a fraction of 1 and 20 digits)" in text
    main(["regions", str(path), "--json", "--quiet"])
    assert to_q(json.loads(capsys.readouterr().out)["min_bend"]) == -2 * third  # the kink at x = 1
    assert max(map(len, text.splitlines())) < 200


# ----- short reprs ------------------------------------------------------------------------------------

def big_icnn() -> Network:
    return icnn_structured(torch_network(network_rng(0, 2, [12, 12, 12], 1, 0), 2, [12, 12, 12]))


def test_reprs_are_short_whatever_the_certificate():
    v = check(big_icnn(), method="regions", certificate=True)
    size = len(json.dumps(v.certificate))
    assert size > 50_000  # a large certificate ...
    for text in (repr(v), v._repr_html_(), v._repr_latex_()):  # ... and a few lines about it
        assert len(text) < 1200 and text.count("\n") <= 8, text
    assert "convex on all of R^2" in repr(v) and f"{v.regions} regions" in repr(v)
    assert f"claim convex, {v.regions} regions (use .certificate)" in repr(v)
    bad = check(Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}]), method="regions",
                certificate=True)
    text = repr(bad)
    assert "NOT convex" in text and "witness:" in text and "exceeds the chord by 1/2" in text
    assert "concave facets: 2 of 4 facets are concave" in text and "claim not_convex" in text
    assert r"\mathbb{R}^2" in bad._repr_latex_() and "= 1/2 > 0" in bad._repr_latex_()
    assert "NOT convex" in bad._repr_html_() and "<b" in bad._repr_html_()


def test_region_graph_summary_and_condition_report_reprs_are_short():
    from exactconvex.pathlifting import conditions

    net = torch_network(network_rng(0, 2, [10, 10, 10], 1, 1), 2, [10, 10, 10])
    G = regions(net)
    s = summary(G)
    assert (s.regions, s.facets) == (G.number_of_nodes(), G.number_of_edges())
    for text in (repr(s), s._repr_html_(), s._repr_latex_()):
        assert len(text) < 600 and text.count("\n") <= 3, text
    assert json.loads(json.dumps(s.to_json()))["concave_facets"] == s.concave_facets
    report = conditions(net, graph=G)
    assert len(report) > 100
    assert repr(report).count("\n") <= 3 and len(repr(report)) < 1000
    html, latex = report._repr_html_(), report._repr_latex_()
    assert html.count("<tr>") <= 21 and len(html) < 20_000
    assert latex.startswith("$$\\begin{array}") and latex.count("\\geq 0") <= 20 and latex.count("\\\\\n") <= 42
    assert "more" in html and "more conditions" in latex


def test_a_convex_verdicts_concave_facets_are_counted_without_bends_and_agree_with_them():
    # convex verdicts skip the bends (none can be negative): the counts must be what computing
    # every bend gives
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, -1, 2]},
                                 {"weight": [[1, 2, "1/3"], [0, 1, 1]]}])
    v = check(net, method="regions")
    assert v.convex and v.concave == concave_facets(net, explore(net))
    assert v.concave.facets == v.facets > 0 and v.concave.per_output == ((0, 0), (0, 0))
