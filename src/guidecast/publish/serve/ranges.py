"""Byte ranges as podcast apps and browsers send them: one span, or the whole file.

Starlette's FileResponse answers a single `bytes=a-b` range (and If-Range) well, but it
answers a malformed range or an unknown unit with 400 and several ranges with a multipart
body; RFC 9110 says to ignore what a server does not understand, and players seek with one
range at a time. So the request's Range is read here first and handed on as one plain span,
or dropped.
"""

from __future__ import annotations

import re

__all__ = ["RangeNotSatisfiable", "parse_byte_range"]

_DIGITS = re.compile(r"[0-9]+")
_BIG = 1 << 62
"""Byte positions beyond any file: longer numbers are read as this (int() of 5,000 digits fails)."""


class RangeNotSatisfiable(Exception):
    """Signal that a Range header asks only for bytes past the end of the file."""


def _position(text: str) -> int | None:
    """Read an ASCII decimal byte position ('²' and other Unicode digits are not one)."""
    if not _DIGITS.fullmatch(text):
        return None
    return int(text) if len(text) <= 18 else _BIG


def parse_byte_range(header: str, size: int) -> tuple[int, int] | None:
    """Return the inclusive byte span a single-range header asks for, None to send it all."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # unknown units and multiple ranges get the whole file
    first_text, dash, last_text = spec.strip().partition("-")
    first, last = _position(first_text), _position(last_text)
    malformed = (first_text and first is None) or (last_text and last is None)
    if not dash or malformed or (first is None and last is None):
        return None  # a malformed range is ignored (RFC 9110): the whole file
    if first is None:
        assert last is not None
        if last == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - last), size - 1
    if last is not None and last < first:
        return None
    end = last if last is not None else size - 1
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(end, size - 1)
