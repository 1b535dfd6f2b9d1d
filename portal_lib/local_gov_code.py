"""全国地方公共団体コード: the six-digit code of a prefecture or municipality (JIS X 0401/0402
and the 総務省 list): two digits of the prefecture, three of the municipality, one check digit.

The check digit: the first five digits weighted 6, 5, 4, 3, 2 and summed; 11 minus the sum's
remainder by 11, its last digit (remainder 0 gives 1, remainder 1 gives 0). かほく市 (石川県
17, 209) is 172090; 千代田区 131016; 札幌市 011002.
"""

from __future__ import annotations

WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> str:
    total = sum(int(d) * w for d, w in zip(first_five, WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def parse_local_gov_code(value: str) -> str:
    """The code as six ASCII digits with a correct check digit, else ValueError (Japanese)."""
    code = value.strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise ValueError(f"全国地方公共団体コード {value!r} は半角数字6桁で指定してください。")
    if check_digit(code[:5]) != code[5]:
        raise ValueError(
            f"全国地方公共団体コード {value!r} の検査数字が合いません"
            f" ({code[:5]} なら {code[:5]}{check_digit(code[:5])})。"
        )
    return code
