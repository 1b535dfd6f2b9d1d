"""Revisions after adoption (第1.1版 …), the plan in force on a day, and the decision dates
the plan itself states."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from initiatives.models import Initiative
from plans.models import IssuedPrecision, Plan, PlanStatus, PlanVersion
from plans.selectors import current_plan, open_revision, plan_in_force_on, plan_is_editable
from plans.services import chapter_update
from reporting.selectors.plan_content import version_content
from reporting.services.versions import plan_revision_open, revision_adopt

pytestmark = pytest.mark.django_db


def test_loaded_versions_show_the_plans_own_dates(client, personas, plan):
    v05, v10 = (PlanVersion.objects.get(plan=plan, number=n) for n in ("0.5", "1.0"))
    assert (v10.issued_on, v10.issued_precision, v10.issued_label) == (
        date(2022, 2, 1),
        IssuedPrecision.MONTH,
        "令和4年2月",
    )
    assert (v05.issued_precision, v05.issued_label) == (IssuedPrecision.FY, "令和3年度")
    client.force_login(personas.secretariat)
    page = client.get(reverse("reporting:versions")).content.decode()
    assert "決定（令和4年2月）" in page
    assert f"決定（{v10.frozen_at:%Y-%m-%d}）" not in page and "確定（" not in page


def test_the_dates_migration_fixes_rows_loaded_with_the_day_of_loading(plan):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "plans.migrations.0004_lifecycle_in_force_precision_revisions"
    )
    PlanVersion.objects.filter(plan=plan).update(
        issued_on=date(2026, 12, 7), issued_precision=IssuedPrecision.DAY, issued_fy=2026
    )
    migration.dates_from_the_plan(apps, None)
    v05, v10 = (PlanVersion.objects.get(plan=plan, number=n) for n in ("0.5", "1.0"))
    assert (v10.issued_label, v05.issued_label) == ("令和4年2月", "令和3年度")
    assert (v10.issued_fy, v05.issued_fy, v05.issued_on) == (2022, 2021, None)


def test_revision_opened_compared_and_adopted_leaves_the_adopted_text_frozen(
    client, personas, plan
):
    v10 = PlanVersion.objects.get(plan=plan, number="1.0")
    frozen = version_content(v10)
    assert not plan_is_editable(plan)
    with pytest.raises(ValidationError, match="より大きい番号"):
        plan_revision_open(actor=personas.secretariat, plan=plan, number="1.0")
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("reporting:versions"),
        {"action": "revision_open", "plan": plan.code, "number": "1.1", "summary": "指標の見直し"},
        follow=True,
    )
    assert "改訂第1.1版を作成しました" in response.content.decode()
    revision = open_revision(plan)
    assert (revision.number, revision.revision_of, revision.frozen_at) == ("1.1", v10, None)
    assert plan_is_editable(plan)
    assert revision.chapters.count() == v10.chapters.count()
    # The revision's chapter is edited; the adopted one answers 403 as before.
    url = reverse("reporting:chapter_edit", args=[revision.pk, 4])
    assert client.get(url).status_code == 200
    assert client.get(reverse("reporting:chapter_edit", args=[v10.pk, 4])).status_code == 403
    client.post(url, {"title": "計画期間", "body": "改訂した計画期間の説明。", "version": "1"})
    ini = Initiative.objects.get(policy__plan=plan, policy__number=3, number=1)
    ini.title = "改訂で変えた題名"
    ini.save()
    page = client.get(reverse("reporting:versions")).content.decode()
    compare = f"?a=v{v10.pk}&amp;b=v{revision.pk}"
    assert compare in page and "改訂第1.1版（作成中）" in page
    diff = client.get(
        reverse("reporting:version_compare"), {"a": f"v{v10.pk}", "b": f"v{revision.pk}"}
    ).content.decode()
    assert "改訂で変えた題名" in diff
    assert version_content(PlanVersion.objects.get(pk=v10.pk)) == frozen
    # A second revision cannot be opened while one is.
    with pytest.raises(ValidationError, match="すでに作成中です"):
        plan_revision_open(actor=personas.secretariat, plan=plan, number="1.2")

    response = client.post(
        reverse("reporting:versions"),
        {"action": "revision_adopt", "plan": plan.code, "adopted_on": "2026-12-01"},
        follow=True,
    )
    assert "改訂第1.1版を決定し、内容を確定しました" in response.content.decode()
    revision.refresh_from_db()
    assert revision.frozen_at is not None and revision.issued_label == "令和8年12月1日"
    assert revision.content["chapters"][3]["body"] == "改訂した計画期間の説明。"
    assert version_content(PlanVersion.objects.get(pk=v10.pk)) == frozen
    assert not plan_is_editable(plan) and open_revision(plan) is None
    chapter = revision.chapters.get(number=4)
    with pytest.raises(ValidationError, match="確定した版の本文は変更できません"):
        chapter_update(
            actor=personas.secretariat, chapter=chapter, version=None, title="x", body="y"
        )
    with pytest.raises(ValidationError, match="作成中の改訂はありません"):
        revision_adopt(actor=personas.secretariat, plan=plan, adopted_on=date(2026, 12, 2))


def test_a_draft_revision_date_must_not_be_in_the_future(personas, plan):
    plan_revision_open(actor=personas.secretariat, plan=plan, number="1.1")
    with pytest.raises(ValidationError, match="今日以前"):
        revision_adopt(actor=personas.secretariat, plan=plan, adopted_on=date(2030, 1, 1))
    assert open_revision(plan) is not None


def test_the_plan_in_force_on_a_day(personas, plan):
    """A draft is never in force; an adopted plan is from its in_force_from, without anyone
    pressing a button, and its predecessor has ended from that day."""
    nxt = Plan.objects.create(
        code="next",
        name="次期計画",
        start_fy=2027,
        end_fy=2031,
        predecessor=plan,
        status=PlanStatus.DRAFT,
    )
    assert plan_in_force_on(date(2027, 4, 1)) == plan  # a draft: the last plan carries on
    assert plan_in_force_on(date(2040, 1, 1)) == plan
    nxt.status, nxt.in_force_from = PlanStatus.ADOPTED, date(2027, 5, 1)
    nxt.save()
    assert plan_in_force_on(date(2027, 4, 30)) == plan
    assert plan_in_force_on(date(2027, 5, 1)) == nxt
    with time_machine.travel(date(2027, 4, 30)):
        assert current_plan() == plan
    with time_machine.travel(date(2027, 5, 2)):
        assert current_plan() == nxt and current_plan(2027) == nxt
        assert current_plan(2026) == plan  # an earlier year: its own plan
    assert plan_in_force_on(date(2020, 1, 1)) == nxt  # before every plan: the latest


def test_versions_page_says_which_plan_is_in_force_without_the_button(client, personas, plan):
    nxt = Plan.objects.create(
        code="next",
        name="次期計画",
        start_fy=2027,
        end_fy=2031,
        predecessor=plan,
        status=PlanStatus.ADOPTED,
        adopted_on=date(2026, 12, 1),
        in_force_from=date(2027, 4, 1),
    )

    def states(day):
        with time_machine.travel(day):
            client.force_login(personas.secretariat)
            response = client.get(reverse("reporting:versions"))
        return {p.code: p.state_label for p in response.context["plans"]}

    assert states(date(2027, 3, 31)) == {plan.code: "施行中", nxt.code: "決定"}
    assert states(date(2027, 4, 1)) == {plan.code: "終了", nxt.code: "施行中"}


def test_the_database_backs_the_locks(plan):
    """One successor per plan, one open revision per plan: unique constraints, with the
    model's validation saying so in Japanese."""
    from django.db import IntegrityError, transaction

    Plan.objects.create(
        code="a", name="a", start_fy=2027, end_fy=2031, predecessor=plan, status="draft"
    )
    second = Plan(code="b", name="b", start_fy=2027, end_fy=2031, predecessor=plan)
    with pytest.raises(ValidationError, match="次期計画はすでに作成されています"):
        second.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
    v10 = PlanVersion.objects.get(plan=plan, number="1.0")
    PlanVersion.objects.create(plan=plan, number="1.1", issued_fy=2026, revision_of=v10)
    another = PlanVersion(plan=plan, number="1.2", issued_fy=2026, revision_of=v10)
    with pytest.raises(ValidationError, match="改訂はすでに作成中です"):
        another.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        another.save()
