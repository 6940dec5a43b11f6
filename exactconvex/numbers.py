r"""Exact rational numbers: the one place where numbers are parsed and printed.

Every number in exactconvex is a python-flint ``fmpq``.  The semantics, stated once:

* an ``int`` or an integer string is that integer;
* a string ``"p/q"`` is the fraction p/q (q > 0);
* a decimal string or a JSON decimal (``"0.1"``, ``-2.5e-3``, ``"1e-9"``) is exactly the
  decimal it spells: ``"0.1"`` is 1/10, not the nearest binary float;
* a Python ``float`` (or a NumPy float16/32/64 scalar) is its exact binary value:
  the double 0.1 is 3602879701896397/36028797018963968.  This is how weights of trained
  models are read, so that the file means exactly what the float network computes;
* ``fractions.Fraction`` and ``fmpq`` are taken as they are.

Strings are read strictly, character by character ("nothing is guessed"), in ASCII only:

* integers ``-?[0-9]+``;
* fractions ``-?[0-9]+/[0-9]+`` with a positive denominator (``"1/-2"`` is refused);
* decimals ``-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?``: JSON's number grammar, so a point
  needs digits on both sides (``"1."`` and ``".5"`` are refused), except that leading
  zeros are allowed, as in the integer form.

No sign ``+``, no spaces or newlines anywhere, no other digits than 0-9.  Anything else
(bool, None, NaN, infinities, ``"abc"``, ``"1/0"``, ``" 1 / 7 "``, ``"+3"``, ``"3\n"``) is
rejected with ``NumberError``, whose message shows long literals shortened (``shorten``).
No other module parses numbers.

>>> to_q("-3/4"), to_q("2.5e-1"), to_q(7)
(-3/4, 1/4, 7)
>>> to_q("+3")
Traceback (most recent call last):
    ...
exactconvex.numbers.NumberError: '+3' is not a number: write an integer, a fraction p/q or a decimal such as -2.5e-3 (ASCII digits, no '+', no spaces)
"""

from __future__ import annotations

import re
from fractions import Fraction
from numbers import Integral
from typing import Any

from flint import fmpq, fmpz

__all__ = ["Q", "NumberError", "to_q", "q_str", "q_strs", "q_json", "decimal_to_q", "q_from_float",
           "to_fraction", "shorten", "readable", "readable_point", "approximate", "exponent10", "ZERO", "ONE"]

Q = fmpq
ZERO = fmpq(0)
ONE = fmpq(1)


class NumberError(ValueError):
    """A value is not a finite exact number."""


# ASCII digits only: Python's \d and int() also accept other scripts' digits ("\u0663")
_INT = re.compile(r"-?[0-9]+", re.ASCII)
_FRACTION = re.compile(r"(-?[0-9]+)/([0-9]+)", re.ASCII)
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?", re.ASCII)
_CANONICAL = re.compile(r"(-?[0-9]{1,4000})(?:/([0-9]{1,4000}))?", re.ASCII)  # within int()'s digit limit
_MAX_EXPONENT = 100_000  # 10**100000 is already absurd for a weight; refuse to build worse
_GRAMMAR = "write an integer, a fraction p/q or a decimal such as -2.5e-3 (ASCII digits, no '+', no spaces)"
SHORT = 60  # messages show at most about this many characters of one literal


def shorten(text: str, limit: int = SHORT) -> str:
    """``text`` itself when short, else its start and how long it is, for one-line messages.

    A message must never carry a megabyte-long literal; a long run of digits is shown by its
    first digits and its digit count.

    >>> shorten("12345")
    '12345'
    >>> shorten("7" * 5000)
    '777777777777777777777777777777... (5000 digits)'
    >>> shorten("x" * 100, limit=10)
    'xxxxxxxxxx... (100 characters)'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    digits = len(text) - text.startswith("-")
    unit = "digits" if _INT.fullmatch(text) else "characters"
    return f"{text[:min(limit, 30)]}... ({digits if unit == 'digits' else len(text)} {unit})"


def _quoted(value: Any) -> str:
    """``repr`` of a value for a message, shortened when long."""
    text = repr(value) if not isinstance(value, str) or len(value) <= SHORT else repr(value[:SHORT * 4])
    if len(text) <= SHORT + 2:
        return text
    return shorten(value if isinstance(value, str) else text)


def _int(digits: str) -> fmpz:
    """An ASCII integer literal ``-?[0-9]+`` of any length (Python's int() refuses more than 4300 digits)."""
    return fmpz(digits)


def decimal_to_q(text: str) -> fmpq:
    """The exact value of a decimal literal such as ``"-2.5e-3"`` (the grammar in the module docstring).

    >>> decimal_to_q("-2.5e-3")
    -1/400
    """
    m = _DECIMAL.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise NumberError(f"{_quoted(text)} is not a number: {_GRAMMAR}")
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    if exp is not None and len(exp.lstrip("+-").lstrip("0")) > 7:
        raise NumberError(f"{_quoted(text)} has an exponent too large to represent exactly")
    e = int(exp) if exp else 0
    if abs(e) > _MAX_EXPONENT:
        raise NumberError(f"{_quoted(text)} has an exponent too large to represent exactly")
    digits = _int(whole + frac)
    e -= len(frac)
    value = fmpq(digits * 10**e) if e >= 0 else fmpq(digits, 10**-e)
    return -value if sign == "-" else value


def q_from_float(x: float) -> fmpq:
    """The exact dyadic value of a binary float (finite only)."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise NumberError(f"{x!r} is not a finite number")
    p, q = x.as_integer_ratio()
    return fmpq(p, q)


def to_q(value: Any) -> fmpq:
    """Convert a value to an exact rational, following the rules in the module docstring.

    >>> to_q("1/3") + to_q(0.5)
    5/6
    """
    if type(value) is str:  # the form q_str writes (most numbers read back) needs no other rule
        m = _CANONICAL.fullmatch(value)
        if m:
            q = int(m.group(2) or 1)
            if q:
                return fmpq(int(m.group(1)), q)
    if isinstance(value, fmpq):
        return value
    if isinstance(value, bool) or value is None:
        raise NumberError(f"{value!r} is not a number")
    if isinstance(value, (int, fmpz)):
        return fmpq(int(value)) if isinstance(value, int) else fmpq(value)
    if isinstance(value, Integral):  # numpy integers
        return fmpq(int(value))
    if isinstance(value, Fraction):
        return fmpq(value.numerator, value.denominator)
    if isinstance(value, float):
        return q_from_float(value)
    if isinstance(value, str):
        if _INT.fullmatch(value):
            return fmpq(_int(value))
        m = _FRACTION.fullmatch(value)
        if m:
            q = _int(m.group(2))
            if q == 0:
                raise NumberError(f"{_quoted(value)} divides by zero")
            return fmpq(_int(m.group(1)), q)
        return decimal_to_q(value)
    # numpy floating scalars (float16/32/64) and anything exposing an exact ratio
    as_ratio = getattr(value, "as_integer_ratio", None)
    if as_ratio is not None:
        try:
            p, q = as_ratio()
        except (OverflowError, ValueError) as exc:
            raise NumberError(f"{_quoted(value)} is not a finite number") from exc
        return fmpq(int(p), int(q))
    raise NumberError(f"{_quoted(value)} (of type {type(value).__name__}) is not a number")


def q_str(x: fmpq) -> str:
    """Exact text: ``"3"`` or ``"-3/4"``."""
    p, q = int(x.p), int(x.q)
    try:  # formatting Python ints is about twice as fast as formatting the fmpq
        return str(p) if q == 1 else f"{p}/{q}"
    except ValueError:  # beyond Python's digit limit for int -> text
        return str(x)


def q_strs(values) -> list[str]:
    """``q_str`` of each value, in one pass: the certificate's points and multipliers (about 0.5 us
    a value less than calling ``q_str`` for each, a fifth of writing a d10 region graph)."""
    try:
        return [str(int(x.p)) if (q := int(x.q)) == 1 else f"{int(x.p)}/{q}" for x in values]
    except ValueError:  # beyond Python's digit limit for int -> text: one by one
        return [q_str(x) for x in values]


def q_json(x: fmpq) -> int | str:
    """JSON value of an exact rational: a JSON integer when it fits the usual range, else a string."""
    if x.q == 1 and abs(int(x.p)) < 2**53:
        return int(x.p)
    return str(x)


def to_fraction(x: fmpq) -> Fraction:
    return Fraction(int(x.p), int(x.q))


# ----- numbers for people ---------------------------------------------------------------------------
# Human-readable output shows exact numbers exactly when they are short, and otherwise a decimal
# approximation computed from the exact value (never through float(), which overflows beyond about
# 1e308 and underflows below 1e-308).  --json and certificates keep the exact text (``q_str``).

READABLE = 20  # an exact text up to this many characters may be shown as it is
_PLAIN = 7  # fractions up to this many characters ("3/4", "-22/7", "355/113") need no approximation


def exponent10(p: int, q: int) -> int:
    """floor(log10(p / q)) for integers p, q > 0, exactly (a bit-length estimate, then corrected)."""
    e = int((p.bit_length() - q.bit_length()) * 0.30102999566398120)
    while True:  # each correction step moves e by one; the estimate is off by at most a few
        if e >= 0:
            low, high = q * 10**e <= p, p < q * 10**(e + 1)
        else:
            low, high = q <= p * 10**-e, p * 10**(-e - 1) < q
        if not low:
            e -= 1
        elif not high:
            e += 1
        else:
            return e


def approximate(x, digits: int = 3) -> str:
    """A decimal approximation of an exact number with ``digits`` significant digits, rounded to
    nearest (ties to even) from the exact value, formatted like ``%g``: fixed notation for
    exponents -4..digits-1, otherwise scientific.  Correct far beyond the float range.

    >>> approximate(fmpq(-43, 4096)), approximate(fmpq(1, 3)), approximate(fmpq(12345)), approximate(0)
    ('-0.0105', '0.333', '1.23e+04', '0')
    >>> approximate(fmpq(10**400 + 1, 3)), approximate(fmpq(-7, 10**500))
    ('3.33e+399', '-7e-500')
    """
    x = to_q(x)
    p, q = int(x.p), int(x.q)
    if p == 0:
        return "0"
    sign, p = ("-", -p) if p < 0 else ("", p)
    e = exponent10(p, q)
    shift = digits - 1 - e  # mantissa m = p / q * 10^shift, an integer of `digits` digits after rounding
    num, den = (p * 10**shift, q) if shift >= 0 else (p, q * 10**-shift)
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m % 2):
        m += 1
    if m == 10**digits:  # rounding carried into a new digit: 9.995 -> 10.0
        m //= 10
        e += 1
    text = str(m)
    if -4 <= e < digits:
        if e >= 0:
            whole, frac = text[:e + 1], text[e + 1:]
            whole = whole + "0" * (e + 1 - len(whole))
        else:
            whole, frac = "0", "0" * (-e - 1) + text
        frac = frac.rstrip("0")
        return sign + whole + ("." + frac if frac else "")
    frac = text[1:].rstrip("0")
    return f"{sign}{text[0]}{'.' + frac if frac else ''}e{'-' if e < 0 else '+'}{abs(e):02d}"


def readable(x, limit: int = READABLE) -> str:
    """An exact number for people: exact when short, with or instead of a decimal approximation.

    * an integer of at most ``limit`` characters, or a fraction of at most 7 ("3/4", "-22/7"): as it is;
    * a fraction of at most ``limit`` characters: exact, then its approximation in parentheses;
    * longer: the approximation, and the size of the exact value (``--json`` and certificates carry it).

    The approximation is computed from the exact value (``approximate``), so it is right beyond
    the float range too.

    >>> readable(fmpq(3, 4)), readable(fmpq(-43, 4096)), readable(10**19)
    ('3/4', '-43/4096 (about -0.0105)', '10000000000000000000')
    >>> readable(fmpq(213, 10**9) + fmpq(1, 10**60))
    'about 2.13e-07 (exact: a fraction of 54 and 61 digits)'
    >>> readable(-10**400)
    'about -1e+400 (exact: a 401-digit integer)'
    """
    x = to_q(x)
    p, q = abs(int(x.p)), int(x.q)
    if q == 1:
        if p.bit_length() <= 4 * limit:  # at most about 1.2 limit digits: write it to know
            text = q_str(x)
            if len(text) <= limit:
                return text
        return f"about {approximate(x)} (exact: a {_digits(p)}-digit integer)"
    if p.bit_length() + q.bit_length() <= 4 * limit:  # the text may be short: write it to know
        text = q_str(x)
        if len(text) <= _PLAIN:
            return text
        if len(text) <= limit:
            return f"{text} (about {approximate(x)})"
    return f"about {approximate(x)} (exact: a fraction of {_digits(p)} and {_digits(q)} digits)"


def _digits(n: int) -> int:
    """The number of decimal digits of an integer n >= 1, without writing it out."""
    return len(str(n)) if n.bit_length() < 4_000 else exponent10(n, 1) + 1  # str() stops at 4300 digits


def readable_point(p) -> str:
    """An exact point for people: ``(1/2, about 3.14 (exact: ...))``.

    >>> readable_point([fmpq(1, 2), 3])
    '(1/2, 3)'
    """
    return "(" + ", ".join(readable(v) for v in p) + ")"
