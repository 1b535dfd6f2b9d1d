"""Passwords: Argon2id with OWASP's parameters, and old PBKDF2 hashes upgraded at login.

The suite uses a cheap hasher (conftest.py); these tests put the production list back.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password

from kahoku_dx import settings as production

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def test_new_passwords_are_argon2id_with_owasp_parameters(real_hashers):
    encoded = make_password("Kahoku-2026-pass")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert identify_hasher(encoded).verify("Kahoku-2026-pass", encoded)
    assert not identify_hasher(encoded).verify("wrong", encoded)


def test_a_pbkdf2_password_still_logs_in_and_is_rehashed_with_argon2id(client, real_hashers):
    pbkdf2 = get_hasher("pbkdf2_sha256")
    user = get_user_model().objects.create(
        username="old-hash", password=pbkdf2.encode("Kahoku-2026-pass", pbkdf2.salt())
    )
    assert user.password.startswith("pbkdf2_sha256$")
    response = client.post(
        "/accounts/login/", {"username": "old-hash", "password": "Kahoku-2026-pass"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_an_argon2_hash_with_other_parameters_is_upgraded_too(client, real_hashers):
    django_default = get_hasher("argon2")  # the subclass: same algorithm name
    assert django_default.memory_cost == 19456
    from argon2 import PasswordHasher

    weaker = "argon2" + PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        "Kahoku-2026-pass"
    )
    user = get_user_model().objects.create(username="weak-argon", password=weaker)
    response = client.post(
        "/accounts/login/", {"username": "weak-argon", "password": "Kahoku-2026-pass"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password
