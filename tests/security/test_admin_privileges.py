"""Role changes are the portal's: in the admin only a superuser grants privileges (issue 15).

The secretariat group has auth.change_user. Before, its user admin showed スーパーユーザー権限,
so a secretariat user could tick it on their own account and become superuser.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from tests.factory import PASSWORD, login_verified
from tests.project.test_admin import populated  # noqa: F401  (fixture: a row in every admin model)
from tests.security import admin_form_data, editable_fields
from workgroups.services import SECRETARIAT_GROUP

pytestmark = pytest.mark.django_db
User = get_user_model()

PRIVILEGE_FIELDS = {"is_superuser", "is_staff", "groups", "user_permissions", "permissions"}
PRIVILEGE_INPUT = re.compile(
    r'name="(?:[\w-]+-)?(is_superuser|is_staff|groups|user_permissions|permissions)"'
)


def _grant_group_admin(user):
    """Let the secretariat into the Group admin too, so that its form is really walked."""
    perms = Permission.objects.filter(content_type__app_label="auth", content_type__model="group")
    user.user_permissions.add(*perms)
    return User.objects.get(pk=user.pk)  # drop the permission cache


def _object_for(model, secretariat):
    if model is User:
        return secretariat  # the self-promotion case: their own account
    if model is Group:
        return Group.objects.get(name=SECRETARIAT_GROUP)
    return model._default_manager.first()


def _walk(client, user):
    """(url, editable field names, html) of every add and change form this user can open."""
    seen = []
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        model_admin = admin.site._registry[model]
        urls = [(reverse(f"{base}_add"), None)]
        obj = _object_for(model, user)
        if obj is not None:
            urls.append((reverse(f"{base}_change", args=[obj.pk]), obj))
        for url, shown in urls:
            response = client.get(url)
            request = response.wsgi_request
            allowed = (
                model_admin.has_add_permission(request)
                if shown is None
                else model_admin.has_view_or_change_permission(request, shown)
            )
            # 200 exactly where the ModelAdmin lets this user in (the axes, OTP and API token
            # admins refuse the secretariat), 403 elsewhere
            assert response.status_code == (200 if allowed else 403), (url, response.status_code)
            if response.status_code == 200 and "adminform" in response.context:
                seen.append((url, editable_fields(response), response.content.decode()))
    return seen


def test_no_admin_form_lets_the_secretariat_edit_a_privilege(client, populated):  # noqa: F811
    secretariat = _grant_group_admin(populated.secretariat)
    client.force_login(secretariat)

    seen = _walk(client, secretariat)

    for url, fields, html in seen:
        assert not fields & PRIVILEGE_FIELDS, (url, fields & PRIVILEGE_FIELDS)
        assert not PRIVILEGE_INPUT.search(html), (url, PRIVILEGE_INPUT.search(html).group(0))
    urls = {url for url, _, _ in seen}
    assert reverse("admin:auth_user_change", args=[secretariat.pk]) in urls
    assert (
        reverse("admin:auth_group_change", args=[Group.objects.get(name=SECRETARIAT_GROUP).pk])
        in urls
    )
    assert reverse("admin:auth_user_add") in urls
    assert len(seen) >= 2 * 25  # an add and a change form of every portal model


def test_a_superuser_still_manages_privileges_in_the_admin(client, populated):  # noqa: F811
    root = User.objects.create_superuser("root", "root@city.kahoku.example", PASSWORD)
    login_verified(client, root)
    response = client.get(reverse("admin:auth_user_change", args=[populated.member.pk]))
    assert {"is_superuser", "is_staff", "groups", "user_permissions"} <= editable_fields(response)
    data = admin_form_data(response)
    data["is_staff"] = "on"

    assert client.post(response.wsgi_request.path, data).status_code == 302

    populated.member.refresh_from_db()
    assert populated.member.is_staff


def test_forged_privileges_in_a_post_are_ignored(client, populated):  # noqa: F811
    secretariat = populated.secretariat
    client.force_login(secretariat)
    url = reverse("admin:auth_user_change", args=[secretariat.pk])
    data = admin_form_data(client.get(url))
    powerful = Group.objects.create(name="特権")
    powerful.permissions.set(Permission.objects.all())
    data["last_name"] = "事務局太郎"
    data["is_superuser"] = "on"
    data["groups"] = [str(g.pk) for g in Group.objects.all()]
    data["user_permissions"] = [str(p.pk) for p in Permission.objects.all()]

    response = client.post(url, data)

    assert response.status_code == 302  # the rest of the form was saved ...
    secretariat.refresh_from_db()
    assert secretariat.last_name == "事務局太郎"
    assert not secretariat.is_superuser  # ... the privileges were not
    assert set(secretariat.groups.values_list("name", flat=True)) == {SECRETARIAT_GROUP}
    assert not secretariat.user_permissions.exists()

    member = populated.member
    url = reverse("admin:auth_user_change", args=[member.pk])
    data = admin_form_data(client.get(url))
    data["is_staff"] = "on"
    data["is_superuser"] = "on"
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert not member.is_staff and not member.is_superuser


def test_forged_privileges_on_the_add_form_are_ignored(client, populated):  # noqa: F811
    client.force_login(populated.secretariat)
    url = reverse("admin:auth_user_add")
    data = admin_form_data(client.get(url))
    data.update(
        username="newcomer",
        usable_password="true",
        password1=PASSWORD,
        password2=PASSWORD,
        is_superuser="on",
        is_staff="on",
        groups=[str(Group.objects.get(name=SECRETARIAT_GROUP).pk)],
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[-2000:]
    newcomer = User.objects.get(username="newcomer")
    assert not newcomer.is_superuser and not newcomer.is_staff
    assert not newcomer.groups.exists()


def test_forged_group_permissions_are_ignored(client, populated):  # noqa: F811
    secretariat = _grant_group_admin(populated.secretariat)
    client.force_login(secretariat)
    group = Group.objects.get(name=SECRETARIAT_GROUP)
    before = set(group.permissions.values_list("pk", flat=True))
    url = reverse("admin:auth_group_change", args=[group.pk])

    response = client.post(
        url, {"name": group.name, "permissions": [p.pk for p in Permission.objects.all()]}
    )

    assert response.status_code == 302
    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_the_secretariat_cannot_take_over_a_superuser_account(client, populated):  # noqa: F811
    root = User.objects.create_superuser("root", "root@city.kahoku.example", PASSWORD)
    client.force_login(populated.secretariat)
    change = reverse("admin:auth_user_change", args=[root.pk])

    response = client.get(change)
    assert response.status_code == 200  # visible, read-only: no save button
    assert 'name="_save"' not in response.content.decode()
    assert not editable_fields(response) & PRIVILEGE_FIELDS
    assert client.post(change, {"username": "root", "email": "me@evil.example"}).status_code == 403
    assert (
        client.post(
            reverse("admin:auth_user_password_change", args=[root.pk]),
            {"password1": "Hijacked-pass-2026", "password2": "Hijacked-pass-2026"},
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("admin:auth_user_delete", args=[root.pk]), {"post": "yes"}).status_code
        == 403
    )
    root.refresh_from_db()
    assert root.email == "root@city.kahoku.example"
    assert root.check_password(PASSWORD)
