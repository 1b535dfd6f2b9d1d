"""The pieces every document the portal writes with python-docx shares (one home).

The published plan, the close-out report, the 新旧対照表 and the meeting report all start from
``new_document`` (A4, Japanese fonts), number their pages with ``page_number_footer``, turn
to a landscape section with ``landscape_section`` and end with ``docx_bytes``.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from portal_lib.sheet_writing import clean_text

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "游明朝"
HEADING_FONT = "游ゴシック"
A4_SHORT, A4_LONG = Mm(210), Mm(297)


def text(value: Any) -> str:
    """Text XML can hold (python-docx refuses control characters)."""
    return clean_text(str(value if value is not None else ""))


def set_east_asian_font(style: Any, name: str) -> None:
    style.font.name = name
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


MARGIN = Mm(20)


def _page(section: Any, *, landscape: bool, margin: Any = MARGIN) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = A4_LONG, A4_SHORT
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = A4_SHORT, A4_LONG
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, margin)


def new_document(*, landscape: bool = False, font_size: float = 10.5) -> Any:
    """An empty A4 document (portrait or landscape) with the house fonts."""
    document = Document()
    _page(document.sections[0], landscape=landscape)
    set_east_asian_font(document.styles["Normal"], FONT)
    document.styles["Normal"].font.size = Pt(font_size)
    for name in ("Heading 1", "Heading 2", "Heading 3", "Title"):
        set_east_asian_font(document.styles[name], HEADING_FONT)
    return document


def landscape_section(document: Any, *, landscape: bool = True) -> Any:
    """Start a new section on a new page, A4 landscape (or back to portrait)."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _page(section, landscape=landscape)
    return section


def add_field(paragraph: Any, instruction: str, placeholder: str = "1") -> Any:
    """A Word field (PAGE, NUMPAGES, TOC …) with a cached result shown before any update."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = placeholder
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, instr, separate, shown, end):
        run._r.append(element)
    return run


def page_number_footer(section: Any, label: str = "") -> None:
    """The footer 「label　- 3 -」: the label (if any) and the page number as a PAGE field."""
    section.footer.is_linked_to_previous = False
    paragraph = section.footer.paragraphs[0]
    paragraph.text = ""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if label:
        paragraph.add_run(f"{text(label)}　")
    paragraph.add_run("- ")
    add_field(paragraph, "PAGE")
    paragraph.add_run(" -")


def shade(cell: Any, fill: str = "DDEBF7") -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tc_pr.append(shading)


def repeat_header(row: Any) -> None:
    """Repeat this table row at the top of every page the table runs onto."""
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def cant_split(row: Any) -> None:
    """Keep this table row on one page."""
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:cantSplit")
    element.set(qn("w:val"), "true")
    tr_pr.append(element)


def table_font_size(table: Any, size: float) -> None:
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)


def docx_bytes(document: Any) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


SVG_BLIP_EXT = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"
_SVG_NS = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
_IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"


def add_svg_picture(
    run: Any, *, svg: bytes, png: bytes, width: Any, name: str, svg_main: bool = False
) -> Any:
    """A vector picture in ``run`` (an inline shape of type picture, as python-docx reads it).

    As Word 2016+ writes one: the PNG as the picture with the SVG in the blip's svgBlip
    extension (readers without SVG show the PNG). ``svg_main`` makes the SVG the picture
    itself, for LibreOffice before 7.6, which ignores svgBlip but reads an SVG blip: the
    server's PDF (portal_lib.office) then keeps the figure as vectors and text.
    """
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    shape = run.add_picture(io.BytesIO(png), width=width)
    part = run.part
    existing = {p.partname for p in part.package.iter_parts()}
    index = 1
    while PackURI(f"/word/media/{name}{index}.svg") in existing:
        index += 1
    svg_part = Part(PackURI(f"/word/media/{name}{index}.svg"), "image/svg+xml", svg, part.package)
    rid = part.relate_to(svg_part, _IMAGE_REL)
    blip = shape._inline.graphic.graphicData.pic.blipFill.blip
    if svg_main:
        blip.set(qn("r:embed"), rid)
    else:
        blip.append(
            parse_xml(
                f'<a:extLst {nsdecls("a", "r")}><a:ext uri="{SVG_BLIP_EXT}">'
                f'<asvg:svgBlip xmlns:asvg="{_SVG_NS}" r:embed="{rid}"/></a:ext></a:extLst>'
            )
        )
    return shape


def add_bookmark(paragraph: Any, name: str, bookmark_id: int) -> None:
    """A bookmark around the paragraph's text (the target of a PAGEREF field)."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(bookmark_id))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(bookmark_id))
    p_pr = paragraph._p.pPr
    if p_pr is not None:
        p_pr.addnext(start)
    else:
        paragraph._p.insert(0, start)
    paragraph._p.append(end)


def title_page(section: Any) -> None:
    """The section's first page (a cover) has its own, empty header and footer."""
    section.different_first_page_header_footer = True
