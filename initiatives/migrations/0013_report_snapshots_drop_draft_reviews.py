"""Meeting reports frozen before issue 22 held the text of reviews that were still drafts
(下書き, or 差戻し and being rewritten): a WG leader's unsubmitted notes, printed as if they
had been reported. From now on such a review is frozen as its state only
(reporting.selectors.meeting_reports); this removes what the older reports hold of it: its Plan/Do/Check/Act
texts, self grade and carry-over decision. The state, the figures and everything else stay.

A review frozen as the version headquarters approved (``approved_version``) was not a draft
when it was read, and is kept. Irreversible by design: the texts are not kept anywhere else,
and they were never meant to be in the report.
"""

from django.db import migrations

# The states in which a review's text may still be written (initiatives.workflow
# EDITABLE_STATES when this migration was written; a migration keeps its own copy).
DRAFT_STATES = ("draft", "returned")
ROW_KEYS = ("check_text", "self_grade", "carry_over")


def drop_draft_reviews(apps, schema_editor):
    ReportSnapshot = apps.get_model("initiatives", "ReportSnapshot")
    cleaned = 0
    for snapshot in ReportSnapshot.objects.only("pk", "data").iterator(chunk_size=50):
        data = snapshot.data or {}
        changed = False
        for row in data.get("initiatives", []):
            review = row.get("review")
            if review is not None and review.get("approved_version"):
                continue
            state = (review or {}).get("state") or row.get("review_state") or ""
            if state not in DRAFT_STATES:
                continue
            if review is not None:
                row["review"] = None
                changed = True
            for key in ROW_KEYS:
                if row.get(key):
                    row[key] = ""
                    changed = True
        if changed:
            ReportSnapshot.objects.filter(pk=snapshot.pk).update(data=data)
            cleaned += 1
    if cleaned:
        print(
            f"\n  下書きの振り返りを含んでいた本部会議資料 {cleaned} 件から、その本文を除きました。"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0012_report_snapshot_document_number"),
    ]

    operations = [
        migrations.RunPython(drop_draft_reviews, migrations.RunPython.noop, elidable=False),
    ]
