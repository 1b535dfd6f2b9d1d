"""The plan's print view as Chromium prints it: A4 portrait, table 4-1 on its own A4
landscape page with readable columns, the three figures drawn."""

from __future__ import annotations

import re
import subprocess

from django.urls import reverse

from plans.models import PlanVersion
from tests.e2e.helpers import e2e_login

A4 = (595.0, 842.0)


def _pages(pdf) -> tuple[list[tuple[float, float]], list[str]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    sizes = [
        (float(w), float(h))
        for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    ]
    texts = [
        subprocess.run(
            ["pdftotext", "-raw", "-f", str(n), "-l", str(n), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, len(sizes) + 1)
    ]
    return sizes, ["".join(t.split()) for t in texts]


def test_print_view_puts_table_4_1_on_a_landscape_page(page, live_server, personas, tmp_path):
    e2e_login(page, live_server, personas.hq)
    version = PlanVersion.objects.get(number="1.0")
    response = page.goto(live_server.url + reverse("reporting:version_print", args=[version.pk]))
    assert response is not None and response.ok
    assert page.locator("figure.plan-figure svg").count() == 3
    pdf = tmp_path / "plan.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    sizes, texts = _pages(pdf)
    landscape = [n for n, (w, h) in enumerate(sizes, start=1) if w > h]
    assert len(landscape) == 1, sizes
    (number,) = landscape
    w, h = sizes[number - 1]
    assert abs(w - A4[1]) < 1.5 and abs(h - A4[0]) < 1.5
    assert all(abs(w - A4[0]) < 1.5 and abs(h - A4[1]) < 1.5 for w, h in sizes if w < h)
    table_page = texts[number - 1]
    # the whole table on that one page, its long cells whole
    for text in (
        "表4-1スケジュール予定",
        "R8(2026)",
        "かほく市総合計画",
        "情報系及び基幹系資産管理システム更改機器賃貸借",
        "年度末迄に27申請のオンライン化完了",
    ):
        assert text in table_page, text
    others = [t for n, t in enumerate(texts, start=1) if n != number]
    assert not any("次期基幹系情報(住民記録系)更改機器賃貸借" in t for t in others)
    # 項目 is readable in print: at least 40 mm wide, not a column of three characters
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1032, "height": 720})
    width_px = page.evaluate(
        "() => document.querySelector('table.plan-schedule th[scope=rowgroup]')"
        ".getBoundingClientRect().width"
    )
    assert width_px * 25.4 / 96 >= 40
    whole = "".join(texts)
    for caption in (
        "図2-1DX推進計画の位置付け",
        "図3-1推進体制と役割",
        "図3-2推進本部及びWGの構成",
    ):
        assert caption in whole
    assert "石川県デジタル化推進計画" in whole and "生活の安全・安心WG" in whole
