"""Numbers typed into a URL: one parser for every numeric query parameter.

``str.isdigit()`` is true for "²" and "①", which ``int()`` refuses (a 500 where the
check passed), and ``int()`` itself takes "٣", " 3", "+3" and "1_000". A parameter is a
number here only when it is 1 to MAX_DIGITS ASCII digits, within the caller's bounds;
anything else raises ``ValueError`` for the caller to answer 400 with its own message.
Framework-free: the API, the screens and the commands can all use it.
"""

from __future__ import annotations

import re

MAX_DIGITS = 18  # well inside a 64-bit integer; more digits are never a real page or id
_ASCII_DIGITS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")


def parse_ascii_int(
    value: str | None,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """``value`` as an int; ``default`` when it is missing or empty.

    Raises ``ValueError`` unless ``value`` is ASCII digits only (no sign, space or
    underscore) and within ``minimum``..``maximum`` (each inclusive, when given).
    """
    if value is None or value == "":
        return default
    if not _ASCII_DIGITS.fullmatch(value):
        raise ValueError(f"not a number of ASCII digits: {value!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"{number} is below {minimum}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{number} is above {maximum}")
    return number


def ascii_int_or_default(
    value: object,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """The screens' form of the same rule: a bad or out-of-range value is ignored like a
    missing one (``default``), so a hand-typed ``?group=²`` shows the unfiltered page."""
    if not isinstance(value, str):
        return default
    try:
        return parse_ascii_int(value, default=default, minimum=minimum, maximum=maximum)
    except ValueError:
        return default
