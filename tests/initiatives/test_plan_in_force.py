"""On and after 1 April 2027 everything works on the plan in force with its people (issue 20):
a WG leader's home, the staff form's WGs, the set-up checklist, send_reminders, import_sheet
and import_staff --plan, with the R9 plan in force and its own WG rows."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from initiatives.models import Initiative
from initiatives.selectors import setup_checklist
from plans.models import Plan, PlanStatus
from reporting.exchange import sheets
from tests.factory import initiative, xlsx_bytes
from tests.reporting.test_switch_check import R9_CODE, NextPlan, at, make_next_plan
from workgroups.models import WorkingGroupMembership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _japanese():
    """The checks' texts are read in Japanese, whatever an earlier test left active."""
    with translation.override("ja"):
        yield


DAY = "2027-04-05"


@pytest.fixture
def r9(plan, personas) -> NextPlan:
    """The R9 plan in force from 2027-04-01, the R8 plan ended."""
    nxt = make_next_plan(plan, personas, status=PlanStatus.IN_FORCE)
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.ENDED)
    return nxt


def test_a_wg_leaders_home_lists_the_new_plans_initiatives(client, r9, personas):
    old = [i for i in Initiative.objects.filter(working_group=personas.wg)]
    assert old  # the R8 plan's 情報推進課WG has initiatives the leader led until 3/31
    with at(DAY):
        client.force_login(personas.leader)
        response = client.get(reverse("home"))
    page = response.content.decode()
    # the leader's WG (the link to all its initiatives) is the R9 plan's, though the leader
    # keeps the R8 plan's membership row
    assert response.context["my_wg"] == r9.wg.pk
    assert "電子申請の拡充" in page
    assert "担当しているWGの取り組みはありません" not in page
    assert all(ini.title not in page for ini in old)


def test_the_staff_form_offers_the_new_plans_wgs(client, r9, personas):
    with at(DAY):
        client.force_login(personas.secretariat)
        page = client.get(reverse("workgroups:staff_create")).content.decode()
    assert f'name="wg_{r9.wg.pk}"' in page and f'name="wg_{r9.other_wg.pk}"' in page
    assert f'name="wg_{personas.wg.pk}"' not in page
    assert "この計画にはWGがありません" not in page


def test_the_checklist_counts_the_wgs_and_initiatives_of_the_plan_in_force(r9):
    with at(DAY):
        items = {i.key: i.count for i in setup_checklist(2027)}
        # the R8 plan's five WGs without a leader are no longer counted
        assert "wg_leaders" not in items and "initiative_wg" not in items
        assert items["reviews"] == 2  # the R9 plan's two initiatives
        WorkingGroupMembership.objects.filter(working_group=r9.other_wg).update(role="member")
        Initiative.objects.filter(pk=r9.ini.pk).update(working_group=None)
        items = {i.key: i.count for i in setup_checklist(2027)}
    assert items["wg_leaders"] == 1 and items["initiative_wg"] == 1


def test_send_reminders_targets_the_new_plans_people(r9, personas, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with at(DAY):
        out = StringIO()
        call_command("send_reminders", stdout=out)
    assert out.getvalue().splitlines()[-1] == "リマインダー 3 通を送信しました。"
    by_user = {m.to[0]: m for m in mail.outbox}
    assert set(by_user) == {
        "leader@city.kahoku.example",
        "member@city.kahoku.example",
        "other@city.kahoku.example",
    }
    assert "1.1 電子申請の拡充" in by_user["leader@city.kahoku.example"].body
    assert "1.2 文書管理の電子化" in by_user["other@city.kahoku.example"].body
    assert initiative("2.1").title not in by_user["leader@city.kahoku.example"].body


def test_import_sheet_plan_finds_the_new_plans_wg(r9, tmp_path, personas):
    header = sheets.INITIATIVES.header()
    row = dict.fromkeys(header, "")
    row.update({"番号": "1.3", "取り組み": "窓口のキャッシュレス化", "担当WG": "情報推進課WG"})
    path = tmp_path / "取り組み.xlsx"
    path.write_bytes(xlsx_bytes([header, [row[h] for h in header]], title="取り組み"))
    with at(DAY):
        call_command("import_sheet", "initiatives", str(path), "--plan", R9_CODE, stdout=StringIO())
    added = Initiative.objects.get(policy__plan=r9.plan, number=3)
    assert added.working_group == r9.wg


def test_import_staff_refuses_an_unknown_plan(tmp_path):
    path = tmp_path / "名簿.xlsx"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="計画がありません: no-such-plan"):
        call_command("import_staff", str(path), "--plan", "no-such-plan")
