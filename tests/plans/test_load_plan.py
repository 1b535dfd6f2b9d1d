"""Loading the plan twice changes nothing, history included; --reset restores the text."""

import pytest
from django.apps import apps
from django.core.management import call_command

from initiatives.models import Initiative
from plans.models import ScheduleCell

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"plans", "workgroups", "initiatives"}
    }


def test_loading_twice_changes_nothing(capsys):
    call_command("load_plan")
    first = _row_counts()
    assert first["initiatives.Initiative"] == 13
    assert first["initiatives.HistoricalInitiative"] == 13  # one "created" record each
    capsys.readouterr()
    call_command("load_plan")
    assert "変更はありません" in capsys.readouterr().out
    assert _row_counts() == first


def test_default_load_keeps_staff_edits_and_reset_restores_the_document(plan):
    ini = Initiative.objects.get(policy__number=2, number=1)
    ini.title = "オンライン化(職員が編集)"
    ini.save()
    cell = ScheduleCell.objects.get(row__item__title="オンライン申請")
    cell.delete()

    call_command("load_plan")
    ini.refresh_from_db()
    assert ini.title == "オンライン化(職員が編集)"
    # A missing object is created again: the document's data is always there.
    assert ScheduleCell.objects.filter(row__item__title="オンライン申請").count() == 1

    call_command("load_plan", "--reset")
    ini.refresh_from_db()
    assert ini.title == "行政サービスのオンライン化"
    assert ini.history.count() == 3
    assert ini.history.first().history_type == "~"
