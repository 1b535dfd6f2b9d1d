"""DRF's plain tokens (authtoken_token) become digests, and that table goes.

Every token issued before keeps working with the same secret; it now expires
API_TOKEN_LIFETIME_DAYS after this migration. rest_framework.authtoken is no longer
installed, so this migration depends on nothing of it: it reads the table if it is there.
There is no way back: the secrets are gone, which is the point.
"""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    from reporting.api.tokens import convert_plain_tokens

    convert_plain_tokens(
        schema_editor.connection,
        apps.get_model("reporting", "ApiToken"),
        lifetime_days=settings.API_TOKEN_LIFETIME_DAYS,
    )


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_api_token")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
