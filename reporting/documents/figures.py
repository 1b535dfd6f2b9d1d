"""The plan's three figures, drawn from its data as vector diagrams (one home).

図2-1 the plan among its upper and related plans (``content["related_plans"]``), 図3-1 the
structure and roles (headquarters, WGs, secretariat, external advisors) and 図3-2 the
composition of the headquarters and the WGs with their sections, both from
``content["organisation"]`` (the bodies as they were at the version's date).

Each figure is laid out once as a few primitives (boxes with lines of text, arrows, labels)
and written two ways from that one layout: SVG (the picture Word 2016+ and the print view
show, and the one LibreOffice turns into the PDF) and PNG (the fallback a reader without
SVG shows, drawn with Pillow). The words on the figures are the plan's own (chapter 2: 勘案,
整合; chapter 3: 助言, 進捗管理, 協議検討); names and numbers come from the data.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

# One unit is 0.25 mm: a figure is 680 units wide, the text width of an A4 page (170 mm).
WIDTH = 680
UNIT_MM = 0.25
FONT_FAMILY = "IPAGothic, 'IPAゴシック', 'Yu Gothic', 'Meiryo', 'Hiragino Sans', sans-serif"
FONT_FILES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/ipafont/ipag.ttf",
)
INK = "#1F2937"
LINE = "#1F4E79"
HQ_FILL = "#DDEBF7"
WG_FILL = "#E2F0D9"
SEC_FILL = "#FFF2CC"
OUT_FILL = "#F2F2F2"
WHITE = "#FFFFFF"
NO_LINE_START = "、。,.)）」』】］ー・:："
MAX_LINES = 4  # a field's text wraps to at most this many lines, then 「…」

# The figures' numbers and captions as the plan writes them (the caption line in a chapter's
# text places the figure: "図2-1 DX推進計画の位置付け").
FIGURES = {
    "2-1": "DX推進計画の位置付け",
    "3-1": "推進体制と役割",
    "3-2": "推進本部及びWGの構成",
}


def char_width(ch: str, size: float) -> float:
    return size if unicodedata.east_asian_width(ch) in ("W", "F", "A") else size * 0.55


def text_width(text: str, size: float) -> float:
    return sum(char_width(ch, size) for ch in text)


def wrap(text: str, width: float, size: float, max_lines: int = MAX_LINES) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (at most ``max_lines``, the last
    ending in 「…」 when text was left over)."""
    lines: list[str] = []
    for part in str(text).splitlines() or [""]:
        line, used = "", 0.0
        for ch in part:
            w = char_width(ch, size)
            # 禁則: a closing mark never starts a line; it hangs at the end of the last one.
            if line and used + w > width and ch not in NO_LINE_START:
                lines.append(line)
                line, used = "", 0.0
            line += ch
            used += w
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


@dataclass
class Text:
    text: str
    size: float = 13
    bold: bool = False


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    lines: list[Text] = field(default_factory=list)
    fill: str = WHITE
    stroke: str = LINE
    width: float = 1.5
    dashed: bool = False
    align: str = "middle"  # or "start": lines from the left edge
    top: bool = False  # lines from the top rather than centred

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Arrow:
    points: list[tuple[float, float]]
    start_head: bool = False
    end_head: bool = True
    dashed: bool = False
    label: str = ""
    label_at: tuple[float, float] | None = None
    label_anchor: str = "start"


@dataclass
class Label:
    x: float
    y: float
    text: str
    size: float = 12
    anchor: str = "middle"
    bold: bool = False


@dataclass
class Figure:
    number: str
    caption: str
    height: float
    items: list[Any] = field(default_factory=list)

    @property
    def width_mm(self) -> float:
        return WIDTH * UNIT_MM

    @property
    def height_mm(self) -> float:
        return self.height * UNIT_MM


LINE_GAP = 1.35


def lines_height(lines: list[Text]) -> float:
    return sum(t.size * LINE_GAP for t in lines)


def text_lines(text: str, width: float, size: float = 13, bold: bool = False) -> list[Text]:
    return [Text(line, size, bold) for line in wrap(text, width, size)]


def _fit(box: Box, pad: float = 10) -> Box:
    box.h = max(box.h, lines_height(box.lines) + 2 * pad)
    return box


# --- the three figures -------------------------------------------------------------------


def _join(titles: list[str], limit: int = 12) -> str:
    shown = titles[:limit]
    rest = len(titles) - len(shown)
    return "、".join(shown) + (f" ほか{rest}" if rest > 0 else "")


def figure_2_1(content: dict[str, Any]) -> Figure:
    """The plan among its upper and related plans, grouped by who issued them; an arrow from
    each group to the plan: 「整合」 when the group holds an upper plan, else 「勘案」."""
    fig = Figure("2-1", FIGURES["2-1"], 0)
    groups: dict[str, list[dict[str, Any]]] = {}
    for rp in content.get("related_plans", []):
        groups.setdefault(rp.get("issuer") or "その他", []).append(rp)
    names = list(groups)[:8]
    per_row = min(max(len(names), 1), 4)
    gap = 16
    col_w = (WIDTH - gap * (per_row + 1)) / per_row
    y = 8.0
    bottoms: list[tuple[Box, str]] = []
    for start in range(0, len(names), per_row):
        row = names[start : start + per_row]
        boxes: list[Box] = []
        for i, issuer in enumerate(row):
            x = gap + i * (col_w + gap)
            inner: list[Box] = []
            iy = y + 34
            for rp in groups[issuer]:
                lines = text_lines(rp["name"], col_w - 36, 13, bold=True)
                lines.append(Text(f"［{rp.get('kind_label', '')}］", 11))
                b = _fit(Box(x + 10, iy, col_w - 20, 0, lines, fill=WHITE), pad=7)
                inner.append(b)
                iy = b.bottom + 8
            group = Box(x, y, col_w, iy - y + 2, [Text(issuer, 14, True)], fill=OUT_FILL)
            group.top = True
            boxes.append(group)
            fig.items.append(group)
            fig.items.extend(inner)
            upper = any(rp.get("kind") == "upper" for rp in groups[issuer])
            bottoms.append((group, "整合" if upper else "勘案"))
        height = max(b.h for b in boxes)
        for b in boxes:
            b.h = height
        y += height + 16
    if not names:
        fig.items.append(Label(WIDTH / 2, y + 14, "（上位計画・関連計画は登録されていません）"))
        y += 30
    plan = content["plan"]
    version = content.get("version") or {}
    y += 40
    title = [Text(plan["name"], 17, True)]
    if version.get("label"):
        title.append(Text(f"【{version['label']}】", 13))
    title.append(Text(f"計画期間 {plan.get('period', '')}", 11))
    target = _fit(Box(WIDTH / 2 - 170, y, 340, 0, title, fill=HQ_FILL, width=2.5))
    fig.items.append(target)
    for group, word in bottoms:
        sx = group.cx
        tx = min(max(sx, target.x + 30), target.x + target.w - 30)
        mid = (group.bottom + target.y) / 2
        if group.bottom >= target.y - 30:  # a group in the last row beside the target
            continue
        fig.items.append(
            Arrow(
                [(sx, group.bottom), (sx, mid), (tx, mid), (tx, target.y)],
                label=word,
                label_at=(tx + 6, (mid + target.y) / 2 + 4),
            )
        )
    fig.height = target.bottom + 10
    return fig


HQ_ROLE = "DX推進WGの進捗を管理し、毎年PDCAサイクルによる見直しを行う"
WG_ROLE = "主管課の課長がWG長、課員がWGメンバー。本部のもとで各種取組の進捗管理を実施し、取組の加速・推進に対応"
SECRETARIAT_ROLE = "WGの形成(複数の課にまたがるWG等)の協議検討、進捗管理"
ADVISOR_ROLE = "専門的知見からの助言"


def _seats(members: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role label, titles) per role, in the order the seats are listed."""
    out: dict[str, list[str]] = {}
    for m in members:
        out.setdefault(m.get("role_label") or "本部員", []).append(m["title"])
    return [(role, _join(titles)) for role, titles in out.items()]


def figure_3_1(content: dict[str, Any]) -> Figure:
    """Structure and roles: 本部 → DX推進WG → 事務局, external advisors beside."""
    org = content.get("organisation") or {}
    hq = org.get("headquarters") or {}
    fig = Figure("3-1", FIGURES["3-1"], 0)
    main_x, main_w = 236, 424
    inner = main_w - 30
    hq_lines = [Text(hq.get("name") or "DX推進本部", 15, True)]
    for role, titles in _seats(hq.get("members", [])):
        hq_lines += text_lines(f"{role}:{titles}", inner, 12)
    hq_lines += text_lines(f"役割:{hq.get('description') or HQ_ROLE}", inner, 11)
    hq_box = _fit(Box(main_x, 8, main_w, 0, hq_lines, fill=HQ_FILL, width=2))
    wgs = org.get("working_groups", [])
    wg_lines = [Text(f"DX推進WG({len(wgs)}グループ)", 15, True)]
    wg_lines += text_lines(WG_ROLE, inner, 11)
    wg_y = hq_box.bottom + 56
    # Stacked sheets behind the WG box: one body, several groups.
    wg_box = _fit(Box(main_x, wg_y, main_w, 0, wg_lines, fill=WG_FILL, width=2))
    for k in (2, 1):
        fig.items.append(Box(main_x + 6 * k, wg_y - 6 * k, main_w, wg_box.h, fill=WG_FILL, width=1))
    sec_lines = [Text(f"事務局({org.get('secretariat') or '—'})", 15, True)]
    sec_lines += text_lines(f"役割:{SECRETARIAT_ROLE}", inner, 11)
    sec_box = _fit(Box(main_x, wg_box.bottom + 56, main_w, 0, sec_lines, fill=SEC_FILL, width=2))
    advisors = org.get("advisors", [])
    adv_lines = [Text("外部リソース", 14, True)]
    if advisors:
        adv_lines += text_lines(_join([a["name"] for a in advisors], 6), 150, 11)
    else:
        adv_lines += text_lines("必要に応じて活用", 150, 11)
    adv_lines += text_lines(ADVISOR_ROLE, 150, 11)
    adv_box = _fit(Box(8, hq_box.y, 170, 0, adv_lines, fill=OUT_FILL, dashed=True))
    fig.items += [hq_box, wg_box, sec_box, adv_box]
    x = hq_box.cx
    fig.items.append(
        Arrow(
            [(x, hq_box.bottom), (x, wg_y - 12)],
            start_head=True,
            label="進捗管理",
            label_at=(x + 10, (hq_box.bottom + wg_y - 12) / 2 + 5),
        )
    )
    fig.items.append(
        Arrow(
            [(x, wg_box.bottom), (x, sec_box.y)],
            start_head=True,
            label="協議検討",
            label_at=(x + 10, (wg_box.bottom + sec_box.y) / 2 + 5),
        )
    )
    ay = adv_box.y + adv_box.h / 2
    fig.items.append(
        Arrow(
            [(adv_box.x + adv_box.w, ay), (main_x, ay)],
            dashed=True,
            label="助言",
            label_at=((adv_box.x + adv_box.w + main_x) / 2, ay - 8),
            label_anchor="middle",
        )
    )
    fig.items.append(
        Arrow(
            [
                (adv_box.cx, adv_box.bottom),
                (adv_box.cx, wg_box.y + wg_box.h / 2),
                (main_x, wg_box.y + wg_box.h / 2),
            ],
            dashed=True,
            label="助言",
            label_at=(adv_box.cx + 8, wg_box.y + wg_box.h / 2 - 6),
        )
    )
    fig.height = sec_box.bottom + 10
    return fig


def figure_3_2(content: dict[str, Any], as_of_label: str = "") -> Figure:
    """The headquarters' seats and every WG with its lead section and sections, as of the
    version's date; the secretariat and the advisors beside the headquarters."""
    org = content.get("organisation") or {}
    hq = org.get("headquarters") or {}
    fig = Figure("3-2", FIGURES["3-2"], 0)
    hq_lines = [Text(hq.get("name") or "DX推進本部", 15, True)]
    for role, titles in _seats(hq.get("members", [])):
        hq_lines += text_lines(f"{role}:{titles}", 330, 12)
    hq_box = _fit(Box(WIDTH / 2 - 180, 8, 360, 0, hq_lines, fill=HQ_FILL, width=2))
    sec_box = _fit(
        Box(
            hq_box.x + hq_box.w + 18,
            8,
            WIDTH - (hq_box.x + hq_box.w + 18) - 8,
            0,
            [Text("事務局", 13, True)] + text_lines(org.get("secretariat") or "—", 110, 12),
            fill=SEC_FILL,
        )
    )
    advisors = org.get("advisors", [])
    adv_text = _join([a["name"] for a in advisors], 6) if advisors else "必要に応じて活用"
    adv_box = _fit(
        Box(
            8,
            8,
            hq_box.x - 26,
            0,
            [Text("外部リソース", 13, True)] + text_lines(adv_text, hq_box.x - 46, 11),
            fill=OUT_FILL,
            dashed=True,
        )
    )
    fig.items += [hq_box, sec_box, adv_box]
    fig.items.append(Arrow([(sec_box.x, 30), (hq_box.x + hq_box.w, 30)], end_head=False))
    fig.items.append(
        Arrow([(adv_box.x + adv_box.w, 30), (hq_box.x, 30)], end_head=False, dashed=True)
    )
    wgs = org.get("working_groups", [])
    per_row = 3
    gap = 16
    col_w = (WIDTH - gap * (per_row + 1)) / per_row
    spine = gap / 2
    first_bus = max(hq_box.bottom, sec_box.bottom, adv_box.bottom) + 26
    y = first_bus + 14
    buses: list[float] = []
    for start in range(0, len(wgs), per_row):
        row = wgs[start : start + per_row]
        boxes = []
        for i, wg in enumerate(row):
            x = gap + i * (col_w + gap)
            lines = text_lines(wg["name"], col_w - 20, 13, bold=True)
            lines += text_lines(f"主管課:{wg['lead_section'] or '—'}", col_w - 20, 11)
            lines += text_lines(f"構成課:{'、'.join(wg['sections']) or '—'}", col_w - 20, 11)
            b = Box(x, y, col_w, 0, lines, fill=WG_FILL, align="start", top=True)
            boxes.append(_fit(b, pad=8))
        height = max(b.h for b in boxes)
        bus = y - 14
        buses.append(bus)
        # each row hangs from its own line, joined to the others by a line down the margin
        fig.items.append(Arrow([(spine, bus), (boxes[-1].cx, bus)], end_head=False))
        for b in boxes:
            b.h = height
            fig.items.append(b)
            fig.items.append(Arrow([(b.cx, bus), (b.cx, y)], end_head=False))
        y += height + 28
    if wgs:
        fig.items.append(
            Arrow([(hq_box.cx, hq_box.bottom), (hq_box.cx, first_bus)], end_head=False)
        )
        fig.items.append(Arrow([(spine, first_bus), (spine, buses[-1])], end_head=False))
        fig.items.append(Label(gap, first_bus - 5, "DX推進WG", 12, "start", True))
        y -= 10
    else:
        fig.items.append(Label(WIDTH / 2, y, "（DX推進WGは登録されていません）"))
        y += 24
    if as_of_label:
        fig.items.append(Label(WIDTH - 8, y + 2, f"{as_of_label}現在", 11, "end"))
        y += 14
    fig.height = y
    return fig


def figures_for(content: dict[str, Any], as_of_label: str = "") -> dict[str, Figure]:
    return {
        "2-1": figure_2_1(content),
        "3-1": figure_3_1(content),
        "3-2": figure_3_2(content, as_of_label),
    }


# --- writing a figure -------------------------------------------------------------------


def _baselines(box: Box) -> list[tuple[Text, float]]:
    total = lines_height(box.lines)
    y = box.y + 10 if box.top else box.y + (box.h - total) / 2
    out = []
    for t in box.lines:
        out.append((t, y + t.size * 1.0))
        y += t.size * LINE_GAP
    return out


def _head(
    p: tuple[float, float], q: tuple[float, float], size: float = 9
) -> list[tuple[float, float]]:
    """The arrowhead at q of the segment p→q (segments are horizontal or vertical)."""
    (px, py), (qx, qy) = p, q
    dx = (qx > px) - (qx < px)
    dy = (qy > py) - (qy < py)
    bx, by = qx - dx * size * 1.4, qy - dy * size * 1.4
    return [
        (qx, qy),
        (bx - dy * size * 0.6, by + dx * size * 0.6),
        (bx + dy * size * 0.6, by - dx * size * 0.6),
    ]


def svg(fig: Figure) -> str:
    """The figure as an SVG document (text as text, in a Japanese Gothic font)."""
    w, h = WIDTH, round(fig.height, 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{fig.width_mm:.1f}mm" '
        f'height="{fig.height_mm:.1f}mm" viewBox="0 0 {w} {h}" role="img" '
        f'font-family="{escape(FONT_FAMILY)}">',
        f"<title>図{fig.number} {escape(fig.caption)}</title>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#FFFFFF"/>',
    ]
    for item in fig.items:
        if isinstance(item, Box):
            dash = ' stroke-dasharray="6 4"' if item.dashed else ""
            out.append(
                f'<rect x="{item.x:.1f}" y="{item.y:.1f}" width="{item.w:.1f}" height="{item.h:.1f}" '
                f'rx="4" fill="{item.fill}" stroke="{item.stroke}" stroke-width="{item.width}"{dash}/>'
            )
            for t, base in _baselines(item):
                x, anchor = (item.x + 10, "start") if item.align == "start" else (item.cx, "middle")
                weight = ' font-weight="bold"' if t.bold else ""
                out.append(
                    f'<text x="{x:.1f}" y="{base:.1f}" font-size="{t.size}" text-anchor="{anchor}" '
                    f'fill="{INK}"{weight}>{escape(t.text)}</text>'
                )
        elif isinstance(item, Arrow):
            dash = ' stroke-dasharray="6 4"' if item.dashed else ""
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in item.points)
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{LINE}" stroke-width="1.8"{dash}/>'
            )
            heads = []
            if item.end_head:
                heads.append(_head(item.points[-2], item.points[-1]))
            if item.start_head:
                heads.append(_head(item.points[1], item.points[0]))
            for head in heads:
                hp = " ".join(f"{x:.1f},{y:.1f}" for x, y in head)
                out.append(f'<polygon points="{hp}" fill="{LINE}"/>')
            if item.label and item.label_at:
                lx, ly = item.label_at
                out.append(
                    f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" text-anchor="{item.label_anchor}" '
                    f'fill="{INK}">{escape(item.label)}</text>'
                )
        elif isinstance(item, Label):
            weight = ' font-weight="bold"' if item.bold else ""
            out.append(
                f'<text x="{item.x:.1f}" y="{item.y:.1f}" font-size="{item.size}" '
                f'text-anchor="{item.anchor}" fill="{INK}"{weight}>{escape(item.text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


@lru_cache(maxsize=1)
def _font_file() -> str | None:
    for path in FONT_FILES:
        if Path(path).exists():
            return path
    return None


@lru_cache(maxsize=32)
def _font(size: int) -> Any:
    from PIL import ImageFont

    path = _font_file()
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


def png(fig: Figure, scale: float = 2.5) -> bytes:
    """The same figure as a PNG (scale 2.5: about 250 dpi at its printed size)."""
    from PIL import Image, ImageDraw

    s = scale
    image = Image.new("RGB", (round(WIDTH * s), round(fig.height * s)), WHITE)
    draw = ImageDraw.Draw(image)

    def line(points: list[tuple[float, float]], dashed: bool, width: float) -> None:
        pts = [(x * s, y * s) for x, y in points]
        if not dashed:
            draw.line(pts, fill=LINE, width=max(1, round(width * s)))
            return
        for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False):
            length = max(abs(x2 - x1), abs(y2 - y1))
            step = 10 * s
            t = 0.0
            while t < length:
                a, b = t / length, min(t + 6 * s, length) / length
                draw.line(
                    [
                        (x1 + (x2 - x1) * a, y1 + (y2 - y1) * a),
                        (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b),
                    ],
                    fill=LINE,
                    width=max(1, round(width * s)),
                )
                t += step

    def text(x: float, y: float, value: str, size: float, anchor: str, bold: bool) -> None:
        pil_anchor = {"start": "ls", "middle": "ms", "end": "rs"}[anchor]
        font = _font(round(size * s))
        draw.text(
            (x * s, y * s),
            value,
            font=font,
            fill=INK,
            anchor=pil_anchor,
            stroke_width=1 if bold else 0,
            stroke_fill=INK,
        )

    for item in fig.items:
        if isinstance(item, Box):
            box = [item.x * s, item.y * s, (item.x + item.w) * s, (item.y + item.h) * s]
            draw.rounded_rectangle(box, radius=4 * s, fill=item.fill)
            if item.dashed:
                x1, y1, x2, y2 = item.x, item.y, item.x + item.w, item.y + item.h
                line([(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)], True, item.width)
            else:
                draw.rounded_rectangle(
                    box, radius=4 * s, outline=item.stroke, width=max(1, round(item.width * s))
                )
            for t, base in _baselines(item):
                x, anchor = (item.x + 10, "start") if item.align == "start" else (item.cx, "middle")
                text(x, base, t.text, t.size, anchor, t.bold)
        elif isinstance(item, Arrow):
            line(item.points, item.dashed, 1.8)
            heads = []
            if item.end_head:
                heads.append(_head(item.points[-2], item.points[-1]))
            if item.start_head:
                heads.append(_head(item.points[1], item.points[0]))
            for head in heads:
                draw.polygon([(x * s, y * s) for x, y in head], fill=LINE)
            if item.label and item.label_at:
                text(item.label_at[0], item.label_at[1], item.label, 12, item.label_anchor, False)
        elif isinstance(item, Label):
            text(item.x, item.y, item.text, item.size, item.anchor, item.bold)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
