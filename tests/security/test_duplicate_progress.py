"""One progress entry per initiative per date (issue 15).

Two saves of the same date used to give two entries; now the second is told, in
Japanese and on the form, that the date is taken, with a link to the entry to edit.
"""

from datetime import date, timedelta
from importlib import import_module
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from initiatives import services
from initiatives.models import ProgressEntry
from tests.factory import initiative, make_progress

TAKEN = "この日付の進捗記録はすでにあります。既存の記録を編集してください。"


def _post(client, ini, **data):
    return client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {"entry_date": "2026-10-01", "status": "on_track", "done_text": "報告", **data},
    )


@pytest.mark.django_db
def test_second_post_of_the_same_date_is_refused_with_a_link_to_the_first(client, personas):
    ini = initiative("2.1")
    client.force_login(personas.member)
    assert _post(client, ini, done_text="一回目").status_code == 302
    first = ProgressEntry.objects.get()

    response = _post(client, ini, done_text="二回目の報告")
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["form"].errors["entry_date"] == [TAKEN]
    edit_url = reverse("initiatives:progress_edit", args=[ini.pk, first.pk])
    assert f'href="{edit_url}"' in body
    assert "令和8年10月1日(木) の進捗記録を開いて編集する" in body
    assert "二回目の報告" in body  # the typed text is kept for copying
    assert list(ProgressEntry.objects.values_list("done_text", flat=True)) == ["一回目"]

    # Another date, or the same date on another initiative, is fine.
    assert _post(client, ini, entry_date="2026-10-02").status_code == 302
    assert _post(client, initiative("2.2")).status_code == 302
    assert ProgressEntry.objects.filter(initiative=ini).count() == 2


@pytest.mark.django_db
def test_moving_an_entry_onto_a_taken_date_is_refused(client, personas):
    ini = initiative("2.1")
    kept = make_progress(ini, entry_date=date(2026, 10, 1), done_text="1日の記録")
    moved = make_progress(ini, entry_date=date(2026, 10, 2), done_text="2日の記録")
    client.force_login(personas.member)
    response = client.post(
        reverse("initiatives:progress_edit", args=[ini.pk, moved.pk]),
        {"entry_date": "2026-10-01", "status": "on_track", "version": moved.version},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["entry_date"] == [TAKEN]
    assert response.context["taken"] == kept
    moved.refresh_from_db()
    assert moved.entry_date == date(2026, 10, 2) and moved.done_text == "2日の記録"


@pytest.mark.django_db
def test_a_race_past_the_check_gets_the_same_message_not_a_500(client, personas):
    """Two requests both pass the check; the other one commits first, so this INSERT
    hits the database's unique constraint. The IntegrityError becomes the form error.

    The other request's entry is in the database already; the check and full_clean()
    are made blind to it, as they were when they ran before it was committed.
    """
    ini = initiative("2.1")
    other = make_progress(ini, entry_date=date(2026, 10, 1), done_text="先に届いた報告")
    real_lookup = services._progress_entry_on
    calls = []

    def not_committed_yet_at_the_first_look(initiative, entry_date, *, exclude_pk):
        calls.append(entry_date)
        if len(calls) == 1:
            return None
        return real_lookup(initiative, entry_date, exclude_pk=exclude_pk)

    client.force_login(personas.member)
    with (
        mock.patch.object(services, "_progress_entry_on", not_committed_yet_at_the_first_look),
        mock.patch.object(ProgressEntry, "validate_constraints"),
    ):
        response = _post(client, ini, done_text="遅れて届いた報告")
    assert len(calls) == 2  # the check, then the look-up after the database refused
    assert response.status_code == 200
    assert response.context["form"].errors["entry_date"] == [TAKEN]
    assert response.context["taken"] == other
    assert "遅れて届いた報告" in response.content.decode()
    assert list(ProgressEntry.objects.values_list("done_text", flat=True)) == ["先に届いた報告"]


@pytest.mark.django_db
def test_the_database_refuses_a_duplicate_that_skips_every_check(plan):
    from django.db import IntegrityError, transaction

    ini = initiative("2.1")
    make_progress(ini, entry_date=date(2026, 10, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressEntry.objects.bulk_create(
            [ProgressEntry(initiative=ini, entry_date=date(2026, 10, 1), fiscal_year=2026)]
        )
    # The model's own validation (the admin, the Excel import) says the same thing.
    with pytest.raises(ValidationError) as excinfo:
        make_progress(ini, entry_date=date(2026, 10, 1))
    assert excinfo.value.messages == [TAKEN]


# --- the migration that merges the duplicates made before the constraint ------------------

MERGE = import_module("initiatives.migrations.0003_merge_duplicate_progress_entries")
BEFORE = [("initiatives", "0002_initial")]
AFTER = [("initiatives", "0004_progressentry_uniq_progress_date")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_latest_updated_entry_and_records_the_deleted_ones(plan):
    ini = initiative("2.1")
    other = initiative("2.2")
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("initiatives")
    try:
        old_apps = _migrate(BEFORE)
        Entry = old_apps.get_model("initiatives", "ProgressEntry")
        now = timezone.now()

        def entry(ini_pk, day, text, updated_minutes_ago):
            e = Entry.objects.create(
                initiative_id=ini_pk, entry_date=day, fiscal_year=2026, done_text=text
            )
            # auto_now sets updated_at on save; set the past directly.
            Entry.objects.filter(pk=e.pk).update(
                updated_at=now - timedelta(minutes=updated_minutes_ago)
            )
            return e.pk

        day = date(2026, 10, 1)
        oldest = entry(ini.pk, day, "最初の報告", 30)
        newest = entry(ini.pk, day, "最後に直した報告", 1)
        middle = entry(ini.pk, day, "二番目の報告", 10)
        alone = entry(ini.pk, date(2026, 10, 2), "別の日", 60)
        other_ini = entry(other.pk, day, "別の取り組み", 60)

        MERGE.merge_duplicate_progress_entries(old_apps, None)

        assert set(Entry.objects.values_list("pk", flat=True)) == {newest, alone, other_ini}
        assert Entry.objects.get(pk=newest).done_text == "最後に直した報告"
        History = old_apps.get_model("initiatives", "HistoricalProgressEntry")
        deleted = History.objects.filter(history_type="-").order_by("id")
        assert [(h.id, h.done_text) for h in deleted] == [
            (oldest, "最初の報告"),
            (middle, "二番目の報告"),
        ]
        assert {h.history_change_reason for h in deleted} == {MERGE.CHANGE_REASON}
        assert {h.initiative_id for h in deleted} == {ini.pk}

        # Running it again changes nothing; the constraint now goes on cleanly.
        MERGE.merge_duplicate_progress_entries(old_apps, None)
        assert Entry.objects.count() == 3
        _migrate(AFTER)
    finally:
        _migrate(leaf)
