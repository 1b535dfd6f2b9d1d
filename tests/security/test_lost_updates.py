"""Two tabs on the same edit form: A opens it, B saves, A saves. A's stale form must not win.

Before (issue 19 item 8), the procedure, system, draft chapter and staff edit screens saved
A's stale values over B's with no warning. Now A's save is refused with the conflict
message and B's saved values shown beside A's input; nothing is overwritten; reloading
(or re-saving the redisplayed form, which carries the saved version) goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from initiatives.models import OnlineProcedure, StandardSystem
from plans.models import Plan, PlanChapter
from tests.factory import make_procedure, make_user
from workgroups.models import StaffProfile

pytestmark = pytest.mark.django_db

CONFLICT = "ほかの職員が先にこの{}を更新したため、保存しませんでした。"


def form_data(response: Any, *names: str) -> dict[str, Any]:
    """The POST a browser sends for the rendered portal form(s) in ``response``: each field's
    shown value, the hidden version included."""
    data: dict[str, Any] = {}
    for name in names or ("form",):
        form = response.context[name]
        for field_name, field in form.fields.items():
            bound = form[field_name]
            value = bound.value()
            if isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = str(value)
    return data


@dataclass
class Tab:
    """One browser tab of one logged-in person."""

    client: Client
    url: str
    forms: tuple[str, ...] = ("form",)

    def open(self) -> dict[str, Any]:
        response = self.client.get(self.url)
        assert response.status_code == 200
        return form_data(response, *self.forms)

    def save(self, data: dict[str, Any]) -> Any:
        return self.client.post(self.url, data)


@pytest.fixture
def second_secretary(personas):
    return make_user(
        "secretariat2",
        role=StaffProfile.Role.SECRETARIAT,
        section="情報推進課",
        display_name="二人目の事務局",
    )


def two_tabs(personas, second, url, forms=("form",)) -> tuple[Tab, Tab]:
    a, b = Client(), Client()
    a.force_login(personas.secretariat)
    b.force_login(second)
    return Tab(a, url, forms), Tab(b, url, forms)


def assert_refused(response, what: str, *, mine: str, theirs: str, by: str) -> None:
    assert response.status_code == 200
    body = response.content.decode()
    assert CONFLICT.format(what) in body
    assert "現在保存されている内容" in body
    assert theirs in body  # B's saved value, shown
    assert mine in body  # A's input, kept in the form
    assert f"最終更新者: {by}" in body


def test_procedure_edit(personas, second_secretary):
    proc = make_procedure(3, "転入届")
    a, b = two_tabs(
        personas, second_secretary, reverse("initiatives:procedure_edit", args=[proc.pk])
    )
    form_a = a.open()
    form_b = b.open()
    form_b.update(name="転入届(B)", note="Bの備考")
    assert b.save(form_b).status_code == 302

    form_a.update(name="転入届(A)", note="Aの備考")
    response = a.save(form_a)

    assert_refused(response, "手続", mine="Aの備考", theirs="Bの備考", by="二人目の事務局")
    proc.refresh_from_db()
    assert (proc.name, proc.note, proc.version) == ("転入届(B)", "Bの備考", 2)
    # the redisplayed form carries B's version: saving it again is a deliberate overwrite
    again = form_data(response)
    assert again["version"] == "2"
    assert a.save(again).status_code == 302
    proc.refresh_from_db()
    assert (proc.name, proc.note, proc.version) == ("転入届(A)", "Aの備考", 3)


def test_system_edit(personas, second_secretary):
    system = StandardSystem.objects.order_by("number").first()
    a, b = two_tabs(
        personas, second_secretary, reverse("initiatives:system_edit", args=[system.pk])
    )
    form_a = a.open()
    form_b = b.open()
    form_b.update(phase="fit_gap", note="Bはフィット&ギャップ中")
    assert b.save(form_b).status_code == 302

    form_a.update(phase="not_started", note="Aは未着手のまま")
    response = a.save(form_a)

    assert_refused(
        response,
        "標準化対象システム",
        mine="Aは未着手のまま",
        theirs="Bはフィット&amp;ギャップ中",
        by="二人目の事務局",
    )
    system.refresh_from_db()
    assert (system.phase, system.note, system.version) == ("fit_gap", "Bはフィット&ギャップ中", 2)


def test_draft_chapter_edit(personas, second_secretary):
    from reporting.services.versions import plan_create_next

    nxt = plan_create_next(
        actor=personas.secretariat,
        source=Plan.objects.get(code="kahoku-dx-r3-r8"),
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme="誰一人取り残さないデジタル化",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    draft = nxt.versions.get()
    a, b = two_tabs(
        personas, second_secretary, reverse("reporting:chapter_edit", args=[draft.pk, 4])
    )
    form_a = a.open()
    form_b = b.open()
    form_b["body"] = "Bが書いた計画期間の本文"
    assert b.save(form_b).status_code == 302

    form_a["body"] = "Aが書いた計画期間の本文"
    response = a.save(form_a)

    assert_refused(
        response,
        "章",
        mine="Aが書いた計画期間の本文",
        theirs="Bが書いた計画期間の本文",
        by="二人目の事務局",
    )
    chapter = PlanChapter.objects.get(version=draft, number=4)
    assert (chapter.body, chapter.revision) == ("Bが書いた計画期間の本文", 2)


def test_a_save_without_a_version_is_refused(personas, client):
    """A form without the hidden field (an old page, a script) cannot overwrite either."""
    proc = make_procedure(3, "転入届")
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("initiatives:procedure_edit", args=[proc.pk]),
        {"name": "版数なし", "status": "not_started"},
    )
    assert CONFLICT.format("手続") in response.content.decode()
    assert OnlineProcedure.objects.get(pk=proc.pk).name == "転入届"


def test_staff_edit(personas, second_secretary):
    person = personas.member
    a, b = two_tabs(
        personas,
        second_secretary,
        reverse("workgroups:staff_edit", args=[person.pk]),
        forms=("form", "roles_form"),
    )
    form_a = a.open()
    form_b = b.open()
    form_b.update(email="b-wrote@city.kahoku.example", role="headquarters")
    assert b.save(form_b).status_code == 302

    form_a.update(email="a-wrote@city.kahoku.example")
    response = a.save(form_a)

    assert_refused(
        response,
        "職員の情報",
        mine="a-wrote@city.kahoku.example",
        theirs="b-wrote@city.kahoku.example",
        by="二人目の事務局",
    )
    assert "本部" in dict(response.context["conflict_fields"])["ポータルでの役割"]
    person.refresh_from_db()
    assert person.email == "b-wrote@city.kahoku.example"
    assert person.profile.role == StaffProfile.Role.HEADQUARTERS


def test_every_write_to_a_person_makes_an_open_staff_form_stale(personas, second_secretary):
    """The roster import, WG roles, activation and the admin all move the staff version on."""
    from workgroups import services

    person = personas.member
    url = reverse("workgroups:staff_edit", args=[person.pk])
    a = Tab(Client(), url, ("form", "roles_form"))
    a.client.force_login(personas.secretariat)
    writes = [
        lambda: services.staff_set_wg_roles(
            actor=second_secretary,
            user=person,
            plan=Plan.objects.get(code="kahoku-dx-r3-r8"),
            roles={personas.other_wg.pk: "member"},
        ),
        lambda: services.staff_set_active(actor=second_secretary, user=person, active=False),
        lambda: services.staff_set_password(
            actor=second_secretary, user=person, password="Another-pass-2026"
        ),
    ]
    for write in writes:
        form_a = a.open()
        write()
        form_a["display_name"] = "古い画面からの保存"
        response = a.save(form_a)
        assert CONFLICT.format("職員の情報") in response.content.decode()
        assert StaffProfile.objects.get(user=person).display_name != "古い画面からの保存"


def test_admin_user_form_and_staff_screen_share_the_staff_version(personas, second_secretary):
    """The admin's user form carries the person's staff version: a stale one is refused, and
    an admin save makes a staff screen opened before it stale."""
    from tests.security import admin_form_data

    person = personas.viewer
    admin_url = reverse("admin:auth_user_change", args=[person.pk])
    a, b = Client(), Client()
    a.force_login(personas.secretariat)
    b.force_login(second_secretary)
    screen = Tab(a, reverse("workgroups:staff_edit", args=[person.pk]), ("form", "roles_form"))
    form_screen = screen.open()
    form_a = admin_form_data(a.get(admin_url))
    form_b = admin_form_data(b.get(admin_url))
    form_b["email"] = "b-admin@city.kahoku.example"
    assert b.post(admin_url, form_b).status_code == 302

    form_a["email"] = "a-admin@city.kahoku.example"
    response = a.post(admin_url, form_a)
    assert response.status_code == 200
    assert CONFLICT.format("職員の情報") in response.content.decode()
    form_screen["email"] = "a-screen@city.kahoku.example"
    response = screen.save(form_screen)
    assert_refused(
        response,
        "職員の情報",
        mine="a-screen@city.kahoku.example",
        theirs="b-admin@city.kahoku.example",
        by="二人目の事務局",
    )
    person.refresh_from_db()
    assert person.email == "b-admin@city.kahoku.example"


def test_publication_settings(personas, second_secretary):
    """The publication screen edits many initiatives at once: a row someone else saved since
    the page was shown is not overwritten, and nothing of the stale save is written."""
    from tests.factory import initiative

    i21, i31 = initiative("2.1"), initiative("3.1")
    url = reverse("reporting:publication")
    a, b = Client(), Client()
    a.force_login(personas.secretariat)
    b.force_login(second_secretary)

    def shown(client: Client) -> dict[str, str]:
        """The rows of the first page as the browser posts them (ticked boxes only)."""
        html = client.get(url).content.decode()
        data = {"plan": i21.policy.plan.code}
        for ini in (i21, i31):
            marker = f'name="row-{ini.pk}" value="'
            data[f"row-{ini.pk}"] = html.split(marker, 1)[1].split('"', 1)[0]
        return data

    form_a, form_b = shown(a), shown(b)
    form_b.update({f"public-{i21.pk}": "on", f"field-{i21.pk}-description": "on"})
    assert b.post(url, form_b).status_code == 302

    form_a.update({f"public-{i31.pk}": "on"})  # A's page still shows 2.1 unpublished
    page = a.post(url, form_a, follow=True).content.decode()

    assert CONFLICT.format("取り組みの公開設定") in page
    assert "現在の設定: 掲載する(公開する項目: 取り組みの内容)" in page
    assert "最終更新者: 二人目の事務局" in page
    i21.refresh_from_db()
    i31.refresh_from_db()
    assert (i21.is_public, i21.public_fields) == (True, ["description"])
    assert i31.is_public is False  # all or nothing
    assert (
        a.post(
            url,
            shown(a)
            | {
                f"public-{i31.pk}": "on",
                f"public-{i21.pk}": "on",
                f"field-{i21.pk}-description": "on",
            },
        ).status_code
        == 302
    )
    i31.refresh_from_db()
    assert i31.is_public is True


def test_an_admin_wg_membership_makes_a_staff_form_stale(personas, second_secretary):
    person = personas.viewer
    a = Tab(Client(), reverse("workgroups:staff_edit", args=[person.pk]), ("form", "roles_form"))
    a.client.force_login(personas.secretariat)
    form_a = a.open()
    admin = Client()
    admin.force_login(second_secretary)
    response = admin.post(
        reverse("admin:workgroups_workinggroupmembership_add"),
        {"working_group": personas.other_wg.pk, "user": person.pk, "role": "leader"},
    )
    assert response.status_code == 302

    form_a["display_name"] = "古い画面からの保存"
    response = a.save(form_a)

    assert_refused(
        response,
        "職員の情報",
        mine="古い画面からの保存",
        theirs=f"{personas.other_wg.name}(WG長)",
        by="二人目の事務局",
    )
    assert person.wg_memberships.get().role == "leader"  # not taken away by the stale form
