"""An initiative's code as people type it: 「2.1」 is 基本方針2の取り組み1.

The one parser of the code, asked by the Excel import (reporting.exchange), the admin import
(initiatives.resources), the API (``/api/v1/initiatives/<code>/``) and anything else that
reads a code. Framework-free, like portal_lib.era.

Accepted: "2.1", full-width "２．１", "2-1" (any dash or ー), 「2.1」 in brackets or quotes,
and spaces anywhere around the parts ("2 . 1", "　２．１　").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["format_initiative_code", "normalise_initiative_code", "parse_initiative_code"]

# After NFKC: "．" is ".", "－" is "-"; the others are the dashes and the long vowel mark
# Japanese keyboards give.
_SEPARATORS = ".\\-ー‐‑‒–—―−・"
_CODE = re.compile(rf"(\d{{1,4}})\s*[{_SEPARATORS}]\s*(\d{{1,4}})", re.ASCII)
_BRACKETS = "「」『』\"'“”‘’()[]"


def parse_initiative_code(value: Any) -> tuple[int, int] | None:
    """(policy number, initiative number), or None when ``value`` is not a code."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = text.strip(_BRACKETS).strip()
    match = _CODE.fullmatch(text)
    if match is None:
        return None
    return int(match[1]), int(match[2])


def format_initiative_code(policy: int, number: int) -> str:
    return f"{policy}.{number}"


def normalise_initiative_code(value: Any) -> str | None:
    """The code in its one written form ("2.1"), or None when ``value`` is not a code."""
    parsed = parse_initiative_code(value)
    return None if parsed is None else format_initiative_code(*parsed)
