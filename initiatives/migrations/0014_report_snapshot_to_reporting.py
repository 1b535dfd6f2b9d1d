"""ReportSnapshot moved to reporting (issue 24): gone from this app's state only.

The table (initiatives_reportsnapshot) and its rows stay where they are; reporting 0004 takes
the model over with ``Meta.db_table`` set to the same name. Nothing in the database changes.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0013_report_snapshots_drop_draft_reviews"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ReportSnapshot")],
            database_operations=[],
        ),
    ]
