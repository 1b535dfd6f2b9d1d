"""Numbers typed into addresses and forms by hand (query strings, hidden fields).

One parser for all of them, framework-free. ``str.isdigit()`` is true for "²" and "①", which
``int()`` then refuses (a 500), and ``int()`` itself takes full-width "１２" and
"1_000"; a number in an address is ASCII digits only, and short enough that the database
can hold it.
"""

from __future__ import annotations

import re

# 18 digits stay below PostgreSQL's bigint (9.2e18); an id or a page number never needs more.
MAX_DIGITS = 18
_ASCII_INT = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")


def parse_ascii_int(
    value: object,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """``value`` as a non-negative int when it is 1–18 ASCII digits within
    [``minimum``, ``maximum``]; ``default`` for anything else (missing, signs, spaces,
    superscripts, circled or full-width digits, too long, out of range)."""
    if not isinstance(value, str) or not _ASCII_INT.fullmatch(value):
        return default
    number = int(value)
    if minimum is not None and number < minimum:
        return default
    if maximum is not None and number > maximum:
        return default
    return number
