"""The public page shows the plan itself before anything is published."""

from __future__ import annotations

import pytest
from django.urls import reverse

from initiatives.models import Initiative
from plans.models import BasicPolicy, ScheduleCell
from plans.selectors import current_plan

pytestmark = pytest.mark.django_db


def test_fresh_install_shows_theme_goal_policies_and_table_41(client, plan):
    assert not Initiative.objects.filter(is_public=True).exists()
    page = client.get(reverse("public:index")).content.decode()
    plan = current_plan()
    assert plan.theme and plan.theme in page
    assert plan.goal and plan.goal.splitlines()[0] in page
    policies = BasicPolicy.objects.filter(plan=plan).order_by("number")
    assert policies.count() == 4
    for policy in policies:
        assert policy.title in page
        assert policy.summary and policy.summary.splitlines()[0] in page
    assert 'id="public-schedule"' in page and "表4-1 スケジュール予定" in page
    cell = ScheduleCell.objects.filter(row__item__plan=plan).exclude(text="").first()
    assert cell.text in page
    assert "現在、公開している取り組みはありません。" in page


def test_published_initiatives_follow_the_plan(client, plan):
    ini = Initiative.objects.filter(policy__plan__code=plan.code).order_by("pk").first()
    Initiative.objects.filter(pk=ini.pk).update(is_public=True)
    page = client.get(reverse("public:index")).content.decode()
    assert page.index('id="public-schedule"') < page.index(f'id="initiative-{ini.code}"')
