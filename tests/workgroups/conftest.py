import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Personas log in with real passwords; a cheap hasher keeps the permission table fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
