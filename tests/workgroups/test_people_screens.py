"""People screens complete: lockouts shown and lifted, a new password lifts them, deactivation
releases WG roles and HQ seats like a roster's, and a person's history of changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factory import PASSWORD, make_membership, make_user
from workgroups import services
from workgroups.models import HeadquartersMember, WorkingGroup, WorkingGroupMembership

pytestmark = pytest.mark.django_db
OFFICE = "10.1.2.3"


@pytest.fixture(autouse=True)
def _december():
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=True):
        yield


def _lock_out(client, username):
    for _ in range(5):
        response = client.post(
            reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=OFFICE
        )
    assert response.status_code == 429
    return response


def test_staff_list_shows_a_lockout_and_lifts_it(client, personas):
    _lock_out(client, "member")
    client.force_login(personas.secretariat)
    page = client.get(reverse("workgroups:staff_list")).content.decode()
    assert "ログイン制限中" in page and "ロック解除" in page
    edit = client.get(reverse("workgroups:staff_edit", args=[personas.member.pk])).content
    assert "ログインが制限されています（失敗 5回）" in edit.decode()
    response = client.post(
        reverse("workgroups:staff_unlock", args=[personas.member.pk]), {"next": "list"}
    )
    assert response.status_code == 302 and response.url == reverse("workgroups:staff_list")
    assert not AccessAttempt.objects.filter(username="member").exists()
    record = personas.member.profile.history.first()
    assert record.history_user == personas.secretariat
    assert record.history_change_reason == services.MSG_UNLOCKED
    client.logout()
    ok = client.post(
        reverse("login"), {"username": "member", "password": PASSWORD}, REMOTE_ADDR=OFFICE
    )
    assert ok.status_code == 302


def test_unlock_is_the_secretariats_and_post_only(client, personas):
    url = reverse("workgroups:staff_unlock", args=[personas.member.pk])
    client.force_login(personas.leader)
    assert client.post(url).status_code == 403
    client.force_login(personas.secretariat)
    assert client.get(url).status_code == 405


def test_a_new_password_lifts_the_lockout(client, personas):
    _lock_out(client, "member")
    services.staff_set_password(
        actor=personas.secretariat, user=personas.member, password="Another-pass-2026"
    )
    assert not AccessAttempt.objects.filter(username="member").exists()
    ok = client.post(
        reverse("login"),
        {"username": "member", "password": "Another-pass-2026"},
        REMOTE_ADDR=OFFICE,
    )
    assert ok.status_code == 302


def test_deactivating_on_the_staff_screen_releases_wg_roles_and_hq_seat(client, plan, personas):
    from reporting.services.versions import plan_create_next

    nxt = plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code="r9",
        name="第2期計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    hq = personas.hq
    assert HeadquartersMember.objects.filter(user=hq, headquarters__plan=nxt).exists()
    assert WorkingGroupMembership.objects.filter(
        user=personas.leader, working_group__plan=nxt
    ).exists()
    client.force_login(personas.secretariat)
    for person in (personas.leader, hq):
        response = client.post(
            reverse("workgroups:staff_set_active", args=[person.pk]), {"active": "0"}
        )
        assert response.status_code == 302
        person.refresh_from_db()
        assert not person.is_active
    assert not WorkingGroupMembership.objects.filter(user=personas.leader).exists()
    assert not HeadquartersMember.objects.filter(user=hq).exists()
    page = client.get(reverse("workgroups:staff_list"), {"q": "leader"}).content.decode()
    assert "WG長" not in page.split("<tbody>")[1]


def test_roster_and_staff_screen_share_one_release(personas, monkeypatch):
    calls = []
    real = services.staff_roles_release

    def spy(**kwargs):
        calls.append(kwargs["user"])
        return real(**kwargs)

    monkeypatch.setattr(services, "staff_roles_release", spy)
    services.staff_set_active(actor=personas.secretariat, user=personas.member, active=False)
    assert calls == [personas.member]


def test_a_persons_history_shows_who_changed_what_newest_first(client, plan, personas):
    person = make_user("tanaka", section="総務課", display_name="田中")
    make_membership(person, personas.other_wg)
    client.force_login(personas.secretariat)
    services.staff_set_wg_roles(
        actor=personas.secretariat,
        user=person,
        plan=plan,
        roles={personas.other_wg.pk: WorkingGroupMembership.Role.LEADER},
    )
    services.staff_update(
        actor=personas.secretariat,
        user=person,
        display_name="田中 一郎",
        email="t@city.kahoku.example",
        section=person.profile.section,
        role="staff",
    )
    lines = client.get(reverse("workgroups:staff_history", args=[person.pk])).context["lines"]
    assert len(lines) <= 100
    assert lines == sorted(lines, key=lambda line: line.when, reverse=True)
    role = next(line for line in lines if line.what == "DX推進WG" and line.field == "役割")
    assert (role.old, role.new, role.who) == ("WGメンバー", "WG長", "secretariat")
    name = next(line for line in lines if line.field == "表示名")
    assert (name.old, name.new) == ("田中", "田中 一郎")
    page = client.get(reverse("workgroups:staff_history", args=[person.pk])).content.decode()
    assert "田中 一郎" in page and "WG長" in page
    client.force_login(personas.member)
    assert client.get(reverse("workgroups:staff_history", args=[person.pk])).status_code == 403


def test_history_is_bounded(client, personas):
    for i in range(60):
        services.staff_update(
            actor=personas.secretariat,
            user=personas.viewer,
            display_name=f"閲覧者{i}",
            email=f"v{i}@city.kahoku.example",
            section=None,
            role="staff",
        )
    client.force_login(personas.secretariat)
    lines = client.get(reverse("workgroups:staff_history", args=[personas.viewer.pk])).context[
        "lines"
    ]
    assert len(lines) == 100
    assert lines[0].new == "閲覧者59" or lines[0].new.startswith("v59")
    assert timezone.now() >= lines[0].when


def test_a_role_given_on_the_staff_screen_also_holds_in_the_drafted_next_plan(
    client, plan, personas
):
    from reporting.services.versions import plan_create_next

    nxt = plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code="r9",
        name="第2期計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    person = personas.viewer
    services.staff_save(
        actor=personas.secretariat,
        user=person,
        plan=plan,
        display_name="閲覧者",
        email="viewer@city.kahoku.example",
        section=None,
        role="staff",
        wg_roles={personas.other_wg.pk: "leader", personas.wg.pk: None},
        hq_role=None,
        version=services.staff_version_of(person),
    )
    r9_wg = WorkingGroup.objects.get(plan=nxt, key=personas.other_wg.key)
    assert WorkingGroupMembership.objects.get(user=person, working_group=r9_wg).role == "leader"
    # taking it away holds in both plans too
    services.staff_save(
        actor=personas.secretariat,
        user=person,
        plan=plan,
        display_name="閲覧者",
        email="viewer@city.kahoku.example",
        section=None,
        role="staff",
        wg_roles={personas.other_wg.pk: None, personas.wg.pk: None},
        hq_role=None,
        version=services.staff_version_of(person),
    )
    assert not WorkingGroupMembership.objects.filter(user=person).exists()
