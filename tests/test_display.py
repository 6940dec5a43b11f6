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
