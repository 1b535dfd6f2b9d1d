"""The loaded plan text as the plan publishes it (issue 22).

The first loads of fixtures/kahoku_dx_plan.json carried three slips of the source's
conversion: a paragraph of chapter 1 split where the original's page broke
(「…サービスのあり方に」 / 「焦点を当てて…」), the figures as notes 「（図2-1 …：図は原本を参照）」
instead of their caption lines (the document now draws them from the data), and no chapter 6
with its opening note. This fixes only text in exactly that broken form, in the chapters and
in the frozen contents of versions; anything staff rewrote is left as it is.
"""

from django.db import migrations

FIXES = [
    ("サービスのあり方に\n\n焦点を当てて", "サービスのあり方に焦点を当てて"),
    ("（図2-1 DX推進計画の位置付け：図は原本を参照）", "図2-1 DX推進計画の位置付け"),
    ("（図3-1 推進体制と役割：図は原本を参照）", "図3-1 推進体制と役割"),
    ("（図3-2 推進本部及びWGの構成：図は原本を参照）", "図3-2 推進本部及びWGの構成"),
]
CHAPTER_5_OPENING = "かほく市におけるDX化の理念(テーマ)"
CHAPTER_6 = {
    "number": 6,
    "title": "取組内容について",
    "body": (
        "(以下については既に取り組んでいる項目について分類するものであり、"
        "今後新たな取組等を検討し拡充するものです)"
    ),
}


def _fixed(body):
    for broken, right in FIXES:
        body = body.replace(broken, right)
    return body


def _lacks_chapter_6(chapters):
    """(number, title, body) of a version: the seed's chapter 5 and no chapter 6."""
    numbers = {number for number, _, _ in chapters}
    return 6 not in numbers and any(
        number == 5 and title == "基本方針" and body.startswith(CHAPTER_5_OPENING)
        for number, title, body in chapters
    )


def forwards(apps, schema_editor):
    PlanChapter = apps.get_model("plans", "PlanChapter")
    PlanVersion = apps.get_model("plans", "PlanVersion")
    for chapter in PlanChapter.objects.all():
        body = _fixed(chapter.body)
        if body != chapter.body:
            chapter.body = body
            chapter.save(update_fields=["body"])
    for version in PlanVersion.objects.all():
        chapters = [(c.number, c.title, c.body) for c in version.chapters.all()]
        if _lacks_chapter_6(chapters):
            PlanChapter.objects.create(version=version, **CHAPTER_6)
        content = version.content
        if not isinstance(content, dict) or not isinstance(content.get("chapters"), list):
            continue
        changed = False
        for chapter in content["chapters"]:
            body = _fixed(chapter.get("body", ""))
            if body != chapter.get("body", ""):
                chapter["body"] = body
                changed = True
        frozen = [(c.get("number"), c.get("title"), c.get("body", "")) for c in content["chapters"]]
        if _lacks_chapter_6(frozen):
            content["chapters"].append(dict(CHAPTER_6))
            changed = True
        if changed:
            version.content = content
            version.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0004_lifecycle_in_force_precision_revisions"),
        ("reporting", "0002_api_token_from_plain"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
