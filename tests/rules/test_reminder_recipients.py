"""Which reminders go (initiatives.services.reminder_todos): only about initiatives still
running in the plan in force (selectors.running_initiatives), only to people who can log in
(workgroups.access.can_log_in). Through send_reminders (the cron) and the plan switch check
(reporting.services.switch_check, its screen and plan_switch_check)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import translation

from initiatives.models import CarryOverDecision, Review
from reporting.api.accounts import service_account_create
from reporting.services.switch_check import switch_check
from tests.factory import initiative, make_membership, make_progress, make_review, make_user
from workgroups.access import can_log_in
from workgroups.services import staff_create

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.PORTAL_BASE_URL = "https://dx.city.kahoku.example/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with translation.override("ja"):
        yield


@pytest.fixture
def ended(personas):
    """3.1 completed in R7, 3.3 abolished by an approved review; both in the leader's WG."""
    done, abolished = initiative("3.1"), initiative("3.3")
    assert done.working_group == abolished.working_group == personas.wg
    make_progress(done, entry_date=date(2026, 2, 20), status="done", percent=100)
    make_review(done, due_date=date(2026, 11, 25))  # the R8 round was opened for it too
    make_review(
        abolished,
        fiscal_year=2025,
        state=Review.State.APPROVED,
        carry_over=CarryOverDecision.ABOLISH,
    )
    make_review(abolished, due_date=date(2026, 11, 25))
    return done, abolished


def _send() -> dict[str, str]:
    call_command("send_reminders", "--days", "7", "--today", f"{TODAY}", stdout=StringIO())
    return {m.to[0].split("@")[0]: m.body for m in mail.outbox}


def _switch_rows() -> list[str]:
    plan = initiative("2.1").policy.plan
    check = next(c for c in switch_check(plan, TODAY) if c.key == "reminders")
    return [r.name for r in check.rows]


def test_ended_initiatives_are_never_reminded(personas, ended):
    running = initiative("3.2")
    make_review(initiative("2.1"), due_date=date(2026, 11, 25))
    bodies = _send()
    leader = bodies["leader"]
    for ini in ended:
        assert f"・{ini.code} " not in leader  # neither its review nor its progress
    assert "・2.1 " in leader  # a running initiative's review due in 5 days
    assert f"・{running.code} " in bodies["other"]  # and the other WG's unlogged one
    # The switch check lists the same reminders: the leader's one review, not the ended two.
    rows = _switch_rows()
    assert any(r.startswith("leader(") and "振り返り1件" in r for r in rows)


def test_taken_up_again_or_ended_this_year_still_reminded(personas, ended):
    done, _abolished = ended
    # 3.1 is taken up again in R8: it runs again and is reminded of.
    make_progress(done, entry_date=date(2026, 5, 1), status="on_track")
    # 2.2 ended in R8: its R8 review (the year it ended) is still to be written.
    make_progress(initiative("2.2"), entry_date=date(2026, 6, 1), status="done", percent=100)
    make_review(initiative("2.2"), due_date=date(2026, 11, 24))
    leader = _send()["leader"]
    assert "・3.1 " in leader and "・2.2 " in leader
    assert "最終記録日: 令和8年5月1日(金)" in leader  # 3.1 not logged since May


def test_only_people_who_can_log_in_are_reminded(personas, ended):
    never = staff_create(username="never", display_name="未設定", email="never@city.kahoku.example")
    make_membership(never, personas.wg, leader=True)
    gone = make_user("gone", section="情報推進課")
    make_membership(gone, personas.wg)
    gone.is_active = False
    gone.save()
    api, _token = service_account_create(
        actor=personas.secretariat, username="bi-tool", display_name="BI", working_group=None
    )
    api.email = "bi-tool@city.kahoku.example"
    api.save()
    make_membership(api, personas.wg)
    assert not any(can_log_in(u) for u in (never, gone, api))
    assert can_log_in(personas.member)

    bodies = _send()
    assert {"leader", "member"} <= set(bodies)
    assert not {"never", "gone", "bi-tool"} & set(bodies)
    rows = " ".join(_switch_rows())
    assert "leader(" in rows and "never(" not in rows and "bi-tool" not in rows

    # Given a password, the same person is reminded.
    never.set_password("a-long-enough-passphrase-1")
    never.save()
    mail.outbox.clear()
    assert "never" in _send()
