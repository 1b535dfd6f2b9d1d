"""Staff and roles screens: the secretariat runs people, WG roles and HQ seats without /admin/."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factory import PASSWORD
from workgroups import services
from workgroups.models import HeadquartersMember, Section, StaffProfile, WorkingGroupMembership

User = get_user_model()
pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _form(personas, **overrides):
    data = {
        "display_name": "山田 花子",
        "email": "h.yamada@city.kahoku.example",
        "section": str(Section.objects.get(name="総務課").pk),
        "role": "staff",
        "hq_role": "",
        "hq_title": "",
        f"wg_{personas.wg.pk}": "",
        f"wg_{personas.other_wg.pk}": "",
    }
    data.update(overrides)
    return data


def _edit(client, person, data):
    """POST the edit form as opened now (the version it carries: staff_version_of)."""
    return client.post(
        reverse("workgroups:staff_edit", args=[person.pk]),
        {**data, "version": str(services.staff_version_of(person))},
    )


def test_secretariat_onboards_a_wg_leader_in_one_screen(client, personas):
    _login(client, personas.secretariat)
    data = _form(personas, username="h.yamada", **{f"wg_{personas.other_wg.pk}": "leader"})
    response = client.post(reverse("workgroups:staff_create"), data)
    person = User.objects.get(username="h.yamada")
    assert response.status_code == 302
    assert response["Location"] == reverse("workgroups:staff_password", args=[person.pk])
    assert person.profile.display_name == "山田 花子"
    assert person.profile.section.name == "総務課"
    assert not person.has_usable_password()  # set by link or by the secretariat next
    membership = WorkingGroupMembership.objects.get(user=person)
    assert (membership.working_group, membership.role) == (personas.other_wg, "leader")
    assert membership.history.first().history_user == personas.secretariat
    # the list shows the person with their WG role
    page = client.get(reverse("workgroups:staff_list"), {"q": "山田"}).content.decode()
    assert "山田 花子" in page and f"{personas.other_wg.name}（WG長）" in page


def test_duplicate_username_is_refused_with_a_message(client, personas):
    _login(client, personas.secretariat)
    data = _form(personas, username=personas.member.username)
    response = client.post(reverse("workgroups:staff_create"), data)
    assert response.status_code == 200
    assert f"ユーザー名「{personas.member.username}」はすでに使われています。" in (
        response.content.decode()
    )


def test_edit_moves_roles_and_gives_an_hq_seat(client, personas):
    _login(client, personas.secretariat)
    person = personas.member
    data = _form(
        personas,
        role="headquarters",
        hq_role="member",
        hq_title="総務部長",
        **{f"wg_{personas.wg.pk}": "", f"wg_{personas.other_wg.pk}": "member"},
    )
    response = _edit(client, person, data)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.profile.role == StaffProfile.Role.HEADQUARTERS
    assert list(
        WorkingGroupMembership.objects.filter(user=person).values_list("working_group", "role")
    ) == [(personas.other_wg.pk, "member")]
    seat = HeadquartersMember.objects.get(user=person)
    assert (seat.role, seat.title) == ("member", "総務部長")
    # taking the seat away again
    data.update(hq_role="", hq_title="", role="staff")
    _edit(client, person, data)
    assert not HeadquartersMember.objects.filter(user=person).exists()


def test_hq_seat_needs_a_title(client, personas):
    _login(client, personas.secretariat)
    data = _form(personas, hq_role="member", hq_title="")
    response = _edit(client, personas.viewer, data)
    assert response.status_code == 200
    assert "本部での職名を入力してください" in response.content.decode()
    assert not HeadquartersMember.objects.filter(user=personas.viewer).exists()


def test_making_someone_secretariat_gives_and_takes_the_admin(client, personas):
    _login(client, personas.secretariat)
    person = personas.viewer
    _edit(client, person, _form(personas, role="secretariat"))
    person.refresh_from_db()
    assert person.is_staff and person.groups.filter(name="事務局").exists()
    assert not person.is_superuser
    _edit(client, person, _form(personas, role="staff"))
    person.refresh_from_db()
    assert not person.is_staff and not person.groups.exists()


def test_deactivation_ends_the_sessions_at_once_and_keeps_records(client, personas):
    from django.test import Client

    theirs = Client()
    theirs.force_login(personas.member)
    assert theirs.get(reverse("initiatives:list")).status_code == 200
    _login(client, personas.secretariat)
    response = client.post(
        reverse("workgroups:staff_set_active", args=[personas.member.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    personas.member.refresh_from_db()
    assert not personas.member.is_active
    assert User.objects.filter(pk=personas.member.pk).exists()
    again = theirs.get(reverse("initiatives:list"))
    assert again.status_code == 302 and reverse("login") in again["Location"]
    refused = theirs.post(
        reverse("login"), {"username": personas.member.username, "password": PASSWORD}
    )
    assert refused.status_code == 200  # the login form again, not a redirect into the portal
    assert "_auth_user_id" not in theirs.session
    # and back
    client.post(reverse("workgroups:staff_set_active", args=[personas.member.pk]), {"active": "1"})
    personas.member.refresh_from_db()
    assert personas.member.is_active


def test_the_secretariat_cannot_deactivate_itself(client, personas):
    _login(client, personas.secretariat)
    response = client.post(
        reverse("workgroups:staff_set_active", args=[personas.secretariat.pk]),
        {"active": "0"},
        follow=True,
    )
    assert "自分自身のアカウントを無効にすることはできません。" in response.content.decode()
    personas.secretariat.refresh_from_db()
    assert personas.secretariat.is_active


def test_set_password_directly_and_by_link(client, personas):
    _login(client, personas.secretariat)
    url = reverse("workgroups:staff_password", args=[personas.viewer.pk])
    weak = client.post(url, {"action": "set", "password1": "abc", "password2": "abc"})
    assert weak.status_code == 200 and "field-error" in weak.content.decode()
    ok = client.post(
        url, {"action": "set", "password1": "Kahoku-2026-new!", "password2": "Kahoku-2026-new!"}
    )
    assert ok.status_code == 302
    personas.viewer.refresh_from_db()
    assert personas.viewer.check_password("Kahoku-2026-new!")

    response = client.post(url, {"action": "link"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [personas.viewer.email]
    link = next(line for line in message.body.splitlines() if "/accounts/reset/" in line)
    path = link.split("127.0.0.1:8000", 1)[1]
    anonymous = client.__class__()
    page = anonymous.get(path, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else path
    done = anonymous.post(
        form_url, {"new_password1": "Mine-Own-2026!x", "new_password2": "Mine-Own-2026!x"}
    )
    assert done.status_code == 302
    personas.viewer.refresh_from_db()
    assert personas.viewer.check_password("Mine-Own-2026!x")


def test_superusers_are_not_the_secretariats_to_change(client, personas):
    root = User.objects.create_superuser("root", "root@example.com", "x-Pass-2026-root")
    _login(client, personas.secretariat)
    assert client.get(reverse("workgroups:staff_edit", args=[root.pk])).status_code == 403
    response = client.post(reverse("workgroups:staff_set_active", args=[root.pk]), {"active": "0"})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active


@pytest.mark.parametrize(
    "name,args",
    [
        ("staff_list", []),
        ("staff_create", []),
        ("staff_edit", ["member"]),
        ("staff_password", ["member"]),
    ],
)
def test_only_the_secretariat_reaches_the_staff_screens(client, personas, name, args):
    url = reverse(f"workgroups:{name}", args=[getattr(personas, a).pk for a in args])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    for who in ("hq", "leader", "member", "viewer"):
        _login(client, getattr(personas, who))
        assert client.get(url).status_code == 403, who
    _login(client, personas.secretariat)
    assert client.get(url).status_code == 200


def test_unknown_person_is_404_and_get_on_a_write_is_405(client, personas):
    _login(client, personas.secretariat)
    assert client.get(reverse("workgroups:staff_edit", args=[999999])).status_code == 404
    active_url = reverse("workgroups:staff_set_active", args=[personas.member.pk])
    assert client.get(active_url).status_code == 405


def test_staff_list_queries_do_not_grow_with_people(
    client, personas, django_assert_max_num_queries
):
    from tests.factory import make_user

    _login(client, personas.secretariat)
    client.get(reverse("workgroups:staff_list"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("workgroups:staff_list"))
    for i in range(30):
        make_user(f"extra{i}", section="総務課")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("workgroups:staff_list"))


def test_the_menu_has_staff_and_publication_for_the_secretariat(client, personas):
    _login(client, personas.secretariat)
    page = client.get(reverse("home")).content.decode()
    assert reverse("workgroups:staff_list") in page
    assert reverse("reporting:publication") in page
    _login(client, personas.member)
    page = client.get(reverse("home")).content.decode()
    assert reverse("workgroups:staff_list") not in page
