"""Merge progress entries that share an initiative and a date, before 0004 forbids them.

Until now two saves of the same date both succeeded. For each (initiative, date) with
more than one entry, the entry updated last is kept as it is (its values win: it is what
the staff member saw and saved most recently) and the older duplicates are deleted. Each
deletion is written to the entry history (history_type "-"), so the older text stays
readable in the admin's history of that entry. Nothing is merged field by field: mixing
the text of two reports would make a record nobody wrote.

Reversing is a no-op: the deleted rows live on only in the history.
"""

from django.db import migrations
from django.db.models import Count
from django.utils import timezone

CHANGE_REASON = "同じ日付の進捗記録を統合(最新の記録を残して削除)"
COPIED_FIELDS = (
    "id",
    "initiative_id",
    "entry_date",
    "fiscal_year",
    "status",
    "percent",
    "done_text",
    "next_steps",
    "issues_text",
    "author_id",
    "created_at",
    "updated_at",
    "version",
)


def merge_duplicate_progress_entries(apps, schema_editor):
    ProgressEntry = apps.get_model("initiatives", "ProgressEntry")
    HistoricalProgressEntry = apps.get_model("initiatives", "HistoricalProgressEntry")
    duplicated = (
        ProgressEntry.objects.values("initiative_id", "entry_date")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by()
    )
    now = timezone.now()
    for key in duplicated:
        entries = list(
            ProgressEntry.objects.filter(
                initiative_id=key["initiative_id"], entry_date=key["entry_date"]
            ).order_by("-updated_at", "-id")
        )
        older = entries[1:]
        HistoricalProgressEntry.objects.bulk_create(
            HistoricalProgressEntry(
                **{name: getattr(entry, name) for name in COPIED_FIELDS},
                history_date=now,
                history_type="-",
                history_change_reason=CHANGE_REASON,
            )
            for entry in older
        )
        ProgressEntry.objects.filter(pk__in=[entry.pk for entry in older]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(merge_duplicate_progress_entries, migrations.RunPython.noop),
    ]
