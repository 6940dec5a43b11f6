"""What a check returns: ``CheckResult`` for callers, ``Summary`` from a claim, ``Invalid`` inside."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckResult", "Summary", "Invalid", "require"]


@dataclass(frozen=True)
class CheckResult:
    """The checker's answer about a readable certificate.

    ``valid``: the claim is proven; ``reason``: the first reason found when invalid, a one-line
    summary when valid; ``claim``: the certificate's claim; ``regions`` and ``facets``: the size
    of its region graph when it has one (facets counted once per pair of regions sharing one,
    as ``check`` and ``regions`` count them).
    """

    valid: bool
    reason: str
    claim: str | None = None
    regions: int | None = None
    facets: int | None = None


@dataclass(frozen=True)
class Summary:
    """What a claim's check says when it passes."""

    text: str
    regions: int | None = None
    facets: int | None = None


class Invalid(Exception):
    """The certificate is well formed but wrong; the message is the reason."""


def require(condition: object, reason: str) -> None:
    """Raise ``Invalid(reason)`` unless ``condition`` holds."""
    if not condition:
        raise Invalid(reason)
