"""Report (never delete) progress entries saved before their dates had bounds: dated
outside their plan's period or after the day this migration runs (9999-12-31, 0002-08-11 …).

They stay as they are; the admin lists them under the filter 「期間外の日付」 for someone
who knows what was meant to correct them.
"""

from django.db import migrations
from django.utils import timezone

from initiatives.models import progress_dates_out_of_bounds


def report(apps, schema_editor):
    Plan = apps.get_model("plans", "Plan")
    ProgressEntry = apps.get_model("initiatives", "ProgressEntry")
    condition = progress_dates_out_of_bounds(Plan.objects.all(), timezone.localdate())
    rows = (
        ProgressEntry.objects.filter(condition)
        .order_by("initiative__policy__plan__code", "entry_date", "pk")
        .values_list(
            "pk",
            "initiative__policy__plan__code",
            "initiative__policy__number",
            "initiative__number",
            "entry_date",
        )
    )
    found = list(rows)
    if not found:
        return
    print(
        f"\n  期間外の日付の進捗記録が{len(found)}件あります(削除はしません。"
        "管理画面の「期間外の日付」で一覧できます):"
    )
    for pk, plan, policy, number, day in found:
        print(f"    id={pk} 計画 {plan} 取り組み {policy}.{number} 日付 {day.isoformat()}")


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0010_countable_confirmed_explicitly"),
        ("plans", "0004_lifecycle_in_force_precision_revisions"),
    ]

    operations = [migrations.RunPython(report, migrations.RunPython.noop)]
