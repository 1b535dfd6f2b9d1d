import pytest

from tests.factory import Personas, load_plan, login_verified, make_personas


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real plan once into the test database; every test starts from it.

    Live-server (transactional) tests flush the database; `load_plan()` below loads it
    again for any test that runs after them.
    """
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Personas log in with real passwords; a cheap hasher keeps the permission tables fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plan(db):
    """The real Kahoku plan from fixtures/, loaded through the same loader staff use."""
    return load_plan()


@pytest.fixture
def personas(plan) -> Personas:
    return make_personas()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with no API calls counted: the API's rate limits count in the cache
    (reporting/api/throttling.py), which would otherwise carry counts from test to test.
    Only the process-local cache is cleared, never a shared Redis."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's superuser client, signed in as a real superuser is: with the second
    factor given (superusers reach nothing but enrolment without it)."""
    login_verified(client, admin_user)
    return client


@pytest.fixture(autouse=True)
def _language_reset():
    """Every test starts in Japanese: a request in English (LocaleMiddleware activates the
    visitor's language on the test's own thread and leaves it so) must not carry into the
    next test's messages."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items):
    """Every browser test (tests/e2e/) starts Chromium and a live server: all are `slow`."""
    for item in items:
        if item.nodeid.startswith("tests/e2e/"):
            item.add_marker(pytest.mark.slow)
