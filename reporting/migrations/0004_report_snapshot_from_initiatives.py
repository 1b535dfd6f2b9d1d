"""ReportSnapshot moved here from initiatives (issue 24), state only.

The model keeps its table (``db_table = "initiatives_reportsnapshot"``): on an existing
database nothing is created, copied or dropped; on a fresh one initiatives 0001/0002 created
the table before this runs. The content type is renamed to this app, so the permissions
granted on it and the admin's log entries follow the model.
"""

import datetime

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, old_label, new_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=new_label, model="reportsnapshot").exists():
        return  # already created (e.g. by a post_migrate run in between): keep it
    ContentType.objects.filter(app_label=old_label, model="reportsnapshot").update(
        app_label=new_label
    )


def forwards(apps, schema_editor):
    _move_content_type(apps, "initiatives", "reporting")


def backwards(apps, schema_editor):
    _move_content_type(apps, "reporting", "initiatives")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("initiatives", "0014_report_snapshot_to_reporting"),
        ("plans", "0004_lifecycle_in_force_precision_revisions"),
        ("reporting", "0003_plan_text_as_published"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReportSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "fiscal_year",
                            models.PositiveIntegerField(
                                validators=[
                                    django.core.validators.MinValueValidator(1989),
                                    django.core.validators.MaxValueValidator(2200),
                                ],
                                verbose_name="年度",
                            ),
                        ),
                        ("title", models.CharField(max_length=200, verbose_name="表題")),
                        (
                            "taken_on",
                            models.DateField(default=datetime.date.today, verbose_name="基準日"),
                        ),
                        (
                            "taken_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="作成日時"),
                        ),
                        ("data", models.JSONField(default=dict, verbose_name="内容")),
                        (
                            "document_number",
                            models.CharField(
                                blank=True, default="", max_length=20, verbose_name="資料番号"
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="snapshots",
                                to="plans.plan",
                                verbose_name="計画",
                            ),
                        ),
                        (
                            "taken_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="作成者",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "本部会議資料(スナップショット)",
                        "verbose_name_plural": "本部会議資料(スナップショット)",
                        "db_table": "initiatives_reportsnapshot",
                        "ordering": ["-taken_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
