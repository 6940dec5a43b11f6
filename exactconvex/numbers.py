"""Exact rational numbers: the one place where numbers are parsed and printed.

Every number in exactconvex is a python-flint ``fmpq``.  The semantics, stated once:

* an ``int`` or an integer string is that integer;
* a string ``"p/q"`` is the fraction p/q (q != 0);
* a decimal string or a JSON decimal (``"0.1"``, ``-2.5e-3``, ``"1e-9"``) is exactly the
  decimal it spells: ``"0.1"`` is 1/10, not the nearest binary float;
* a Python ``float`` (or a NumPy float16/32/64 scalar) is its exact binary value:
  the double 0.1 is 3602879701896397/36028797018963968.  This is how weights of trained
  models are read, so that the file means exactly what the float network computes;
* ``fractions.Fraction`` and ``fmpq`` are taken as they are.

Anything else (bool, None, NaN, infinities, ``"abc"``, ``"1/0"``) is rejected with
``NumberError``.  No other module parses numbers.
"""

from __future__ import annotations

import re
from fractions import Fraction
from numbers import Integral
from typing import Any

from flint import fmpq, fmpz

__all__ = ["Q", "NumberError", "to_q", "q_str", "q_json", "decimal_to_q", "q_from_float",
           "to_fraction", "ZERO", "ONE"]

Q = fmpq
ZERO = fmpq(0)
ONE = fmpq(1)


class NumberError(ValueError):
    """A value is not a finite exact number."""


_INT = re.compile(r"[+-]?\d+\Z", re.ASCII)
_FRACTION = re.compile(r"([+-]?\d+)\s*/\s*([+-]?\d+)\Z", re.ASCII)
_DECIMAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\Z", re.ASCII)
_CANONICAL = re.compile(r"(-?\d{1,4000})(?:/(\d{1,4000}))?\Z", re.ASCII)  # within int()'s digit limit
_MAX_EXPONENT = 100_000  # 10**100000 is already absurd for a weight; refuse to build worse


def _int(digits: str) -> fmpz:
    """An ASCII integer literal, of any length (Python's int() refuses more than 4300 digits)."""
    return fmpz(digits[1:] if digits.startswith("+") else digits)


def decimal_to_q(text: str) -> fmpq:
    """The exact value of a decimal literal such as ``"-2.5e-3"``."""
    m = _DECIMAL.match(text.strip())
    if not m or not (m.group(2) or m.group(3)):
        raise NumberError(f"{text!r} is not a number")
    sign, whole, frac, exp = m.group(1), m.group(2) or "", m.group(3) or "", m.group(4)
    e = int(exp) if exp else 0
    if abs(e) > _MAX_EXPONENT:
        raise NumberError(f"{text!r} has an exponent too large to represent exactly")
    digits = _int((whole + frac) or "0")
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
    """Convert a value to an exact rational, following the rules in the module docstring."""
    if type(value) is str:  # the form q_str writes (most numbers read back) needs no other rule
        m = _CANONICAL.match(value)
        if m:
            q = int(m.group(2) or 1)
            if q:
                return fmpq(int(m.group(1)), q)
    if isinstance(value, fmpq):
        return value
    if isinstance(value, bool) or value is None:
        raise NumberError(f"{value!r} is not a number")
    if isinstance(value, (int, fmpz)):
        return fmpq(int(value))
    if isinstance(value, Integral):  # numpy integers
        return fmpq(int(value))
    if isinstance(value, Fraction):
        return fmpq(value.numerator, value.denominator)
    if isinstance(value, float):
        return q_from_float(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT.match(text):
            return fmpq(_int(text))
        m = _FRACTION.match(text)
        if m:
            p, q = _int(m.group(1)), _int(m.group(2))
            if q == 0:
                raise NumberError(f"{value!r} divides by zero")
            return fmpq(p, q)
        return decimal_to_q(text)
    # numpy floating scalars (float16/32/64) and anything exposing an exact ratio
    as_ratio = getattr(value, "as_integer_ratio", None)
    if as_ratio is not None:
        try:
            p, q = as_ratio()
        except (OverflowError, ValueError) as exc:
            raise NumberError(f"{value!r} is not a finite number") from exc
        return fmpq(int(p), int(q))
    raise NumberError(f"{value!r} (of type {type(value).__name__}) is not a number")


def q_str(x: fmpq) -> str:
    """Exact text: ``"3"`` or ``"-3/4"``."""
    p, q = int(x.p), int(x.q)
    try:  # formatting Python ints is about twice as fast as formatting the fmpq
        return str(p) if q == 1 else f"{p}/{q}"
    except ValueError:  # beyond Python's digit limit for int -> text
        return str(x)


def q_json(x: fmpq) -> int | str:
    """JSON value of an exact rational: a JSON integer when it fits the usual range, else a string."""
    if x.q == 1 and abs(int(x.p)) < 2**53:
        return int(x.p)
    return str(x)


def to_fraction(x: fmpq) -> Fraction:
    return Fraction(int(x.p), int(x.q))
