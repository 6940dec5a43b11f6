"""Exact numbers: parsing, printing, and the rejection of anything inexact or non-finite."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from exactconvex.numbers import NumberError, decimal_to_q, q_from_float, q_json, q_str, q_strs, to_fraction, to_q
from strategies import rationals, scaled


def F(x) -> Fraction:
    return to_fraction(to_q(x))


@pytest.mark.parametrize("value, expected", [
    (3, Fraction(3)),
    (-7, Fraction(-7)),
    ("12", Fraction(12)),
    ("-3/4", Fraction(-3, 4)),
    ("6/8", Fraction(3, 4)),
    ("0.125", Fraction(1, 8)),
    ("0.1", Fraction(1, 10)),
    ("1e-9", Fraction(1, 10**9)),
    ("-2.5e-3", Fraction(-1, 400)),
    ("2.5E+2", Fraction(250)),
    ("5.0", Fraction(5)),
    ("0.5", Fraction(1, 2)),
    ("-0", Fraction(0)),
    ("007", Fraction(7)),
    ("-7/2", Fraction(-7, 2)),
    ("0/5", Fraction(0)),
    ("3/006", Fraction(1, 2)),
    ("1e+3", Fraction(1000)),
    ("1E-0", Fraction(1)),
    ("1e40", Fraction(10**40)),
    ("1e-40", Fraction(1, 10**40)),
    (str(10**40), Fraction(10**40)),
    (10**40, Fraction(10**40)),
    (Fraction(-5, 3), Fraction(-5, 3)),
    (fmpq(2, 7), Fraction(2, 7)),
])
def test_exact_values(value, expected):
    assert F(value) == expected


def test_python_float_is_its_exact_binary_value():
    assert F(0.1) == Fraction(3602879701896397, 36028797018963968)
    assert F(0.1) == Fraction(0.1)
    assert F(0.1) != Fraction(1, 10)
    assert F(-2.5) == Fraction(-5, 2)
    assert F(1e300) == Fraction(1e300)
    assert F(5e-324) == Fraction(1, 2**1074)  # smallest subnormal, exactly


def test_numpy_scalars_are_exact():
    assert F(np.float32(0.1)) == Fraction(float(np.float32(0.1))) == Fraction(13421773, 134217728)
    assert F(np.float64(0.1)) == Fraction(0.1)
    assert F(np.float16(0.1)) == Fraction(float(np.float16(0.1)))
    assert F(np.int64(-3)) == -3
    assert F(np.uint8(200)) == 200
    assert F(np.str_("1/3")) == Fraction(1, 3)


@pytest.mark.parametrize("bad", [
    True, False, None, math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf"),
    "abc", "1/0", "", " ", ".", "e5", "1e", "1/2/3", "0x10", "nan", "NaN", "inf", "Infinity", "1/", "/2",
    "1.5/2", "3/00", "-0/0", "12/-0", [1], {"a": 1}, 1j, object(), "\u0663", "1\u0663", "\uff11/2", "+-1", "1 2", "1/2.0",
    # the format says "nothing is guessed": the leniencies, and their relatives
    "1/-2", " 1 / 7 ", "1 /7", "1/ 7", "+3", "3\n", "\n3", " 3", "3 ", "\t3", "+1/2", "-1/-2", "1/+2",
    ".5", "5.", "-.5", "+.5", "1.e3", "1e+", "e", "1e5.0", "--1", "-", "1_000", "1,5", "0x1", "0b1", "1/2/",
    "\u0660", "\u0661/2", "1/\u0662", "1.\u0665", "1e\u0663", "\uff13", "\u00b2",
    b"3", bytearray(b"3"),
])
def test_rejected(bad):
    with pytest.raises(NumberError):
        to_q(bad)


def test_number_error_is_a_value_error_and_says_why():
    with pytest.raises(ValueError, match="zero"):
        to_q("1/0")
    with pytest.raises(NumberError, match="abc"):
        to_q("abc")


def test_absurd_exponent_refused_rather_than_built():
    with pytest.raises(NumberError, match="exponent"):
        decimal_to_q("1e1000000000")
    assert decimal_to_q("1e100000") == fmpq(10) ** 100000


def test_literals_longer_than_pythons_int_digit_limit():
    # Python refuses int() of more than 4300 digits by default; exact numbers have no such limit
    big = "7" + "0" * 5000
    assert F(big) == Fraction(7 * 10**5000)
    assert F("-" + big + "/3") == Fraction(-7 * 10**5000, 3)
    assert F("3/" + big) == Fraction(3, 7 * 10**5000)
    assert F(big + ".25") == Fraction(7 * 10**5000) + Fraction(1, 4)
    assert F("-" + big + "e-5000") == -7
    assert F("0." + "0" * 4999 + "1") == Fraction(1, 10**5000)
    q = to_q(big)
    assert to_q(q_str(q)) == q and to_q(q_json(q)) == q


def test_q_from_float_rejects_non_finite():
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(NumberError):
            q_from_float(bad)
    assert q_from_float(0.5) == fmpq(1, 2)


def test_printing():
    assert q_str(fmpq(-3, 4)) == "-3/4"
    assert q_str(fmpq(5)) == "5"
    assert q_json(fmpq(5)) == 5 and isinstance(q_json(fmpq(5)), int)
    assert q_json(fmpq(-3, 4)) == "-3/4"
    assert q_json(fmpq(10**40)) == str(10**40)  # beyond 2^53: a string, so no JSON reader rounds it
    assert q_json(fmpq(2**53 - 1)) == 2**53 - 1


@settings(max_examples=scaled(200))
@given(rationals(extreme=True))
def test_text_round_trip(x):
    q = to_q(x)
    assert to_fraction(q) == x
    assert to_q(q_str(q)) == q
    assert to_q(q_json(q)) == q


@settings(max_examples=scaled(200))
@given(st.lists(rationals(extreme=True), max_size=6))
def test_q_strs_is_q_str_of_each(xs):
    qs = [to_q(x) for x in xs]
    assert q_strs(qs) == [q_str(q) for q in qs]


def test_q_strs_beyond_the_digit_limit():
    # one value past Python's int -> text limit sends the whole list the slow way, with the same text
    qs = [fmpq(-3, 4), to_q("7" + "0" * 5000), fmpq(5)]
    assert q_strs(qs) == [q_str(q) for q in qs] and q_strs(qs)[1] == "7" + "0" * 5000


@settings(max_examples=scaled(200))
@given(st.integers(-(10**30), 10**30), st.integers(-60, 60), st.sampled_from(["e", "E"]))
def test_decimal_literals_mean_what_they_spell(m, e, letter):
    expected = Fraction(m) * Fraction(10) ** e
    assert F(f"{m}{letter}{e}") == expected
    # the same value written with a decimal point
    digits = str(abs(m))
    sign = "-" if m < 0 else ""
    if e < 0:
        digits = digits.rjust(-e + 1, "0")
        text = f"{sign}{digits[:e]}.{digits[e:]}"
    else:
        text = f"{sign}{digits}{'0' * e}.0"
    assert F(text) == expected


@settings(max_examples=scaled(200))
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_is_exact(x):
    assert F(x) == Fraction(x)


@settings(max_examples=scaled(100))
@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_every_finite_float32_is_exact(x):
    assert F(np.float32(x)) == Fraction(float(np.float32(x)))


@given(st.integers(-10**80, 10**80), st.integers(1, 10**80))
def test_canonical_text_reads_back_exactly(p, q):
    # q_str's own form is read by a fast path; it must agree with the general rules
    x = fmpq(p, q)
    assert to_q(q_str(x)) == x
    assert to_q(f"{p}/{q}") == x and to_q(f"{p}/{q:0>90}") == x
    assert to_q(str(p)) == p
    for lenient in (f" {p} / {q} ", f"{p}/{q}\n", f"{p}/-{q}", f"+{q}"):  # never guessed
        with pytest.raises(NumberError):
            to_q(lenient)


@settings(max_examples=scaled(300))
@given(st.text(alphabet="0123456789-+./eE \n\u0660\u0663", max_size=12))
def test_strings_follow_the_grammar_exactly(text):
    """A string is accepted iff it matches one of the three forms of the module docstring,
    and then means what the independent reading with Fraction says."""
    import re

    integer = re.fullmatch(r"-?[0-9]+", text, re.ASCII)
    fraction = re.fullmatch(r"(-?[0-9]+)/([0-9]+)", text, re.ASCII)
    decimal = re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", text, re.ASCII)
    if integer:
        assert F(text) == Fraction(int(text))
    elif fraction and int(fraction.group(2)) != 0:
        assert F(text) == Fraction(int(fraction.group(1)), int(fraction.group(2)))
    elif decimal and decimal.group(2) and abs(int(decimal.group(2)[1:])) > 100_000:
        with pytest.raises(NumberError, match="exponent"):  # refused rather than built
            to_q(text)
    elif decimal:
        from decimal import Decimal

        assert F(text) == Fraction(Decimal(text))
    else:
        with pytest.raises(NumberError):
            to_q(text)


@pytest.mark.parametrize("text", [
    "7" * 5000 + "x", "1/" + "0" * 5000, "1e" + "9" * 5000, "+" + "9" * 5000, " " + "9" * 1_000_000,
    "9" * 4400 + "/-3",
])
def test_messages_about_huge_literals_stay_short(text):
    with pytest.raises(NumberError) as err:
        to_q(text)
    message = str(err.value)
    assert len(message) < 300, message[:500]
    assert "\n" not in message


def test_integers_beyond_pythons_digit_limit_in_every_form():
    big = "1" + "0" * 4400  # int() refuses more than 4300 digits
    assert F(big) == 10**4400
    assert F("-" + big) == -(10**4400)
    assert F(big + "/" + big + "1") == Fraction(10**4400, 10**4401 + 1)
    assert F(big + ".5") == Fraction(2 * 10**4400 + 1, 2)
    assert F(big + "e-4400") == 1


def test_shorten():
    from exactconvex.numbers import shorten

    assert shorten("123") == "123"
    s = shorten("-" + "9" * 10_000)
    assert s.startswith("-999") and "10000 digits" in s and len(s) < 60
    s = shorten("ab" * 1000)
    assert "2000 characters" in s and len(s) < 60
