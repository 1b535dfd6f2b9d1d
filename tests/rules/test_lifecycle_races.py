"""Plan lifecycle races: ten secretariat posts of one step at once write once; the others
are told why in Japanese, and none answers 500 (an IntegrityError is never shown).

On PostgreSQL ten threads, each with its own django.test.Client and connection, wait at a
barrier and post together (the row lock on the plan, the lifecycle advisory lock and the
unique constraints decide). SQLite has one writer at a time: there the same ten posts run
one after another, which still proves the re-check after the lock (every later post finds
the step done and says so)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative
from plans.models import BasicPolicy, Plan, PlanStatus, PlanVersion
from reporting.services.versions import plan_adopt, plan_create_next
from tests.factory import initiative, make_review

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10
TOKYO = ZoneInfo("Asia/Tokyo")


def _post_all(user, posts: list[tuple[str, dict]]) -> list[tuple[int, str]]:
    """Each post from its own client: together on PostgreSQL, in turn on SQLite."""
    clients = []
    for _ in posts:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    results: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def post(client: Client, url: str, data: dict, barrier: threading.Barrier | None) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=30)
            response = client.post(url, data, follow=True)
            results.append((response.status_code, response.content.decode()))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            if barrier is not None:
                connection.close()

    if connection.vendor == "postgresql":
        barrier = threading.Barrier(len(posts))
        threads = [
            threading.Thread(target=post, args=(c, url, data, barrier))
            for c, (url, data) in zip(clients, posts, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    else:
        for c, (url, data) in zip(clients, posts, strict=True):
            post(c, url, data, None)
    assert not failures, failures
    assert len(results) == len(posts)
    assert all(status == 200 for status, _ in results), [s for s, _ in results]
    return results


def _count(results, text: str) -> int:
    return sum(text in page for _, page in results)


def _draft(personas) -> Plan:
    nxt = plan_create_next(
        actor=personas.secretariat,
        source=personas.wg.plan,
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    BasicPolicy.objects.create(plan=nxt, number=1, title="市民サービスのデジタル化")
    return nxt


def test_ten_create_next_posts_make_one_successor(personas):
    url = reverse("reporting:versions")
    posts = [
        (
            url,
            {
                "action": "next",
                "plan": personas.wg.plan.code,
                "code": f"kahoku-dx-next-{i}",
                "name": f"第2期かほく市DX推進計画({i})",
                "theme": "",
                "start_fy": "R9",
                "end_fy": "R13",
                "version_number": "2.0",
            },
        )
        for i in range(THREADS)
    ]
    results = _post_all(personas.secretariat, posts)
    assert Plan.objects.filter(predecessor=personas.wg.plan).count() == 1
    assert _count(results, "を作成しました") == 1
    assert _count(results, "はすでに作成されています") == THREADS - 1


def test_ten_adoptions_decide_once_and_keep_that_date(personas):
    nxt = _draft(personas)
    url = reverse("reporting:versions")
    posts = [
        (
            url,
            {
                "action": "adopt",
                "plan": nxt.code,
                "adopted_on": f"2026-11-{i + 1:02d}",
                "in_force_from": "2027-04-01",
                "summary": "",
            },
        )
        for i in range(THREADS)
    ]
    results = _post_all(personas.secretariat, posts)
    nxt.refresh_from_db()
    version = nxt.versions.get()
    assert nxt.status == PlanStatus.ADOPTED and version.frozen_at is not None
    assert version.issued_on == nxt.adopted_on  # the winner's date, never overwritten
    assert _count(results, "を決定し、内容を確定しました") == 1
    assert _count(results, "は策定中ではありません") == THREADS - 1
    assert version.history.filter(frozen_at__isnull=False).count() == 1


def test_ten_put_in_force_posts_leave_one_plan_in_force(personas):
    """Half the posts put the successor in force, half a second plan of the same period
    (entered another way): one plan in force for R9–R13, whichever came first."""
    nxt = _draft(personas)
    plan_adopt(
        actor=personas.secretariat,
        plan=nxt,
        adopted_on=date(2026, 12, 1),
        in_force_from=date(2027, 4, 1),
    )
    rival = Plan.objects.create(
        code="rival", name="別の計画", start_fy=2027, end_fy=2031, status=PlanStatus.ADOPTED
    )
    url = reverse("reporting:versions")
    posts = [
        (url, {"action": "in_force", "plan": (nxt if i % 2 else rival).code})
        for i in range(THREADS)
    ]
    with time_machine.travel(datetime(2027, 4, 2, 9, tzinfo=TOKYO)):
        results = _post_all(personas.secretariat, posts)
    in_force = Plan.objects.filter(status=PlanStatus.IN_FORCE, start_fy=2027)
    assert in_force.count() == 1
    assert _count(results, "を施行中にしました") == 1
    assert (
        _count(results, "同時に施行することはできません") + _count(results, "はすでに施行中です")
        == THREADS - 1
    )


def test_ten_revision_posts_open_one_revision(personas):
    plan = personas.wg.plan
    url = reverse("reporting:versions")
    posts = [
        (url, {"action": "revision_open", "plan": plan.code, "number": f"1.{i + 1}"})
        for i in range(THREADS)
    ]
    results = _post_all(personas.secretariat, posts)
    assert PlanVersion.objects.filter(plan=plan, revision_of__isnull=False).count() == 1
    assert _count(results, "を作成しました。内容と本文を編集") == 1
    assert _count(results, "はすでに作成中です") == THREADS - 1


def test_ten_carry_over_posts_carry_each_initiative_once(personas):
    nxt = _draft(personas)
    for code in ("2.1", "2.2", "3.1"):
        make_review(initiative(code), fiscal_year=2026, carry_over="continue", state="approved")
    url = reverse("reporting:carry_over")
    data = {"source": personas.wg.plan.code, "target": nxt.code}
    results = _post_all(personas.secretariat, [(url, data)] * THREADS)
    carried = Initiative.objects.filter(policy__plan=nxt, carried_from__isnull=False)
    assert sorted(i.carried_from.code for i in carried) == ["2.1", "2.2", "3.1"]
    assert _count(results, "3件の取り組みを") == 1
    assert _count(results, "0件の取り組みを") == THREADS - 1
