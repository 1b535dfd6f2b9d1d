"""Writes to the organisation: staff accounts and their roles."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from workgroups.models import Section, StaffProfile

User = get_user_model()

SECRETARIAT_GROUP = "事務局"
# The secretariat manages the plan, the schedule and the organisation in the admin.
SECRETARIAT_APPS = ("plans", "workgroups", "initiatives")


def secretariat_group_ensure() -> Group:
    """The admin permission group of the secretariat: every permission on the portal's data."""
    group, _ = Group.objects.get_or_create(name=SECRETARIAT_GROUP)
    perms = Permission.objects.filter(content_type__app_label__in=SECRETARIAT_APPS) | (
        Permission.objects.filter(content_type__app_label="auth", content_type__model="user")
    )
    missing = perms.exclude(pk__in=group.permissions.values("pk"))
    if missing.exists():
        group.permissions.add(*missing)
    return group


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str | None = None,
    role: str = StaffProfile.Role.STAFF,
    section: Section | None = None,
    display_name: str = "",
    email: str = "",
) -> User:
    """Create a staff account with its profile. The secretariat also gets the admin."""
    user = User(username=username, email=email, last_name=display_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.is_staff = role == StaffProfile.Role.SECRETARIAT
    user.full_clean(exclude=["password"])
    user.save()
    profile = StaffProfile(user=user, role=role, section=section, display_name=display_name)
    profile.full_clean()
    profile.save()
    if role == StaffProfile.Role.SECRETARIAT:
        user.groups.add(secretariat_group_ensure())
    return user


@transaction.atomic
def dev_login_ensure(*, username: str = "jimukyoku") -> tuple[User, str]:
    """A secretariat login for local use, with a fresh random password each call.

    Refused in production: there is no default or demo account there.
    """
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("本番環境では開発用ログインを作成できません。")
    password = secrets.token_urlsafe(12)
    section = Section.objects.filter(name="情報推進課").first()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = staff_create(
            username=username,
            password=password,
            role=StaffProfile.Role.SECRETARIAT,
            section=section,
            display_name="事務局(開発用)",
        )
    else:
        user.set_password(password)
        user.is_active = True
        user.is_staff = True
        user.save()
        user.groups.add(secretariat_group_ensure())
    return user, password
