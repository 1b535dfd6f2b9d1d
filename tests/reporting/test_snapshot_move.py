"""ReportSnapshot moved from initiatives to reporting (issue 24) without moving a row.

The migrations change the apps' state only (initiatives 0014 deletes it, reporting 0004
creates it with the same table); a meeting report taken before the move reads back after it
exactly as it was, and the permissions granted on the model follow it.
"""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reporting.models import ReportSnapshot

BEFORE = [
    ("initiatives", "0013_report_snapshots_drop_draft_reviews"),
    ("reporting", "0003_plan_text_as_published"),
]
AFTER = [
    ("initiatives", "0014_report_snapshot_to_reporting"),
    ("reporting", "0004_report_snapshot_from_initiatives"),
]
DATA = {"schema": 3, "overall": {"percent": "53.3", "counted": 8, "total": 15}, "note": "本部会議"}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_model_is_reportings_and_keeps_its_table():
    assert ReportSnapshot._meta.app_label == "reporting"
    assert ReportSnapshot._meta.db_table == "initiatives_reportsnapshot"


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_taken_before_the_move_reads_back_after_it(plan):
    user = get_user_model().objects.create_user("secretariat", password="x")
    executor = MigrationExecutor(connection)
    leaves = [
        *executor.loader.graph.leaf_nodes("initiatives"),
        *executor.loader.graph.leaf_nodes("reporting"),
    ]
    try:
        old_apps = _migrate(BEFORE)
        with pytest.raises(LookupError):
            old_apps.get_model("reporting", "ReportSnapshot")
        Old = old_apps.get_model("initiatives", "ReportSnapshot")
        pk = Old.objects.create(
            plan_id=plan.pk,
            fiscal_year=2026,
            title="第3回推進本部会議",
            taken_on=date(2026, 11, 20),
            taken_by_id=user.pk,
            data=DATA,
            document_number="資料2",
        ).pk
        # Before the move the content type is initiatives'; a group is granted a permission.
        old_type = ContentType.objects.get(app_label="initiatives", model="reportsnapshot")
        group = Group.objects.create(name="会議資料の閲覧")
        group.permissions.add(
            Permission.objects.get(content_type=old_type, codename="view_reportsnapshot")
        )

        new_apps = _migrate(AFTER)
        with pytest.raises(LookupError):
            new_apps.get_model("initiatives", "ReportSnapshot")
        New = new_apps.get_model("reporting", "ReportSnapshot")
        moved = New.objects.get(pk=pk)
        assert (moved.plan_id, moved.fiscal_year, moved.title) == (
            plan.pk,
            2026,
            "第3回推進本部会議",
        )
        assert (moved.taken_on, moved.taken_by_id) == (date(2026, 11, 20), user.pk)
        assert (moved.data, moved.document_number) == (DATA, "資料2")
        assert New.objects.count() == 1

        # The content type (and so the permission granted on it) is reporting's now.
        group_permission = group.permissions.get()
        assert group_permission.codename == "view_reportsnapshot"
        assert ContentType.objects.get_for_id(group_permission.content_type_id).app_label == (
            "reporting"
        )
        assert not ContentType.objects.filter(
            app_label="initiatives", model="reportsnapshot"
        ).exists()
    finally:
        _migrate(leaves)
        ContentType.objects.clear_cache()

    # The project's model (fully migrated) reads the same row, through the plan too.
    snapshot = ReportSnapshot.objects.get(pk=pk)
    assert snapshot.title == "第3回推進本部会議" and snapshot.data == DATA
    assert list(plan.snapshots.values_list("pk", flat=True)) == [pk]
