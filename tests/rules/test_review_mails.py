"""Mail on each move of a PDCA review goes to those who must act next (initiatives.notifications):
submit → secretariat, return → the WG leader (with the reason), check → headquarters,
approve → the WG's leader and members; one digest per leader when a round is opened in bulk.
Only after the transaction commits, never to the mover, to anyone who opted out
(StaffProfile.review_mail) or who cannot log in. Exercised through the review page's POSTs,
the list page's 「一括作成」 POST and the services the admin and commands call."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse

from initiatives import notifications, services, workflow
from initiatives.models import Initiative, Review
from tests.factory import REVIEW_COMPLETE, initiative, make_membership, make_review, make_user
from workgroups.models import Headquarters, HeadquartersMember, StaffProfile
from workgroups.services import staff_create, staff_review_mail_set

pytestmark = pytest.mark.django_db

BASE = "https://dx.city.kahoku.example"


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.PORTAL_BASE_URL = BASE + "/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def review(personas):
    ini = initiative("2.1")
    assert ini.working_group == personas.wg
    return make_review(ini, **REVIEW_COMPLETE)


def _to(outbox=None):
    return sorted(m.to[0].split("@")[0] for m in (mail.outbox if outbox is None else outbox))


def _move(client, user, review, move, comment=""):
    client.force_login(user)
    url = reverse(f"initiatives:review_{move}", args=[review.pk])
    response = client.post(url, {"comment": comment})
    assert response.status_code == 302
    review.refresh_from_db()


def test_every_move_names_who_acts_next():
    assert set(notifications.RECIPIENTS) == {m.name for m in workflow.MOVES}


def test_each_move_on_the_review_page_mails_who_acts_next(
    client, personas, review, django_capture_on_commit_callbacks
):
    link = f"{BASE}/initiatives/reviews/{review.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        _move(client, personas.leader, review, "submit")
    assert review.state == Review.State.SUBMITTED
    assert _to() == ["secretariat"]
    sent = mail.outbox[0]
    assert (
        sent.subject
        == "【かほく市DX推進ポータル】振り返りが提出されました: 2.1(令和8年度 (2026年度))"
    )
    assert sent.body.startswith("secretariat 様\n")
    assert "提出した人: leader" in sent.body and link in sent.body
    assert f"{BASE}/accounts/mail/" in sent.body  # where to turn them off

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _move(client, personas.secretariat, review, "return", "KPIの実績を追記してください")
    assert _to() == ["leader"]  # the leader rewrites; members are not asked
    assert "差戻しの理由: KPIの実績を追記してください" in mail.outbox[0].body
    assert "差し戻されました" in mail.outbox[0].subject and link in mail.outbox[0].body

    _move(client, personas.leader, review, "submit")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _move(client, personas.secretariat, review, "check")
    assert _to() == ["honbucho"]
    assert "承認をお願いします" in mail.outbox[0].subject and link in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _move(client, personas.hq, review, "approve")
    assert review.state == Review.State.APPROVED
    assert _to() == ["leader", "member"]  # the WG, not the other WG nor the secretariat
    assert all("承認されました" in m.subject for m in mail.outbox)


def test_the_service_mails_the_same_and_hq_seats_of_the_plan_count(
    personas, review, django_capture_on_commit_callbacks
):
    bucho = make_user("bucho", section="総務課")
    HeadquartersMember.objects.create(
        headquarters=Headquarters.objects.get(plan=review.initiative.policy.plan),
        title="総務部長",
        user=bucho,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit(actor=personas.leader, review=review)
        services.review_check(actor=personas.secretariat, review=review, comment="確認しました")
    assert _to() == ["bucho", "honbucho", "secretariat"]
    assert all("コメント: 確認しました" in m.body for m in mail.outbox if "承認を" in m.subject)


def test_the_mover_gets_no_mail_but_the_other_secretariat_does(
    personas, review, django_capture_on_commit_callbacks
):
    make_user("jimu2", role=StaffProfile.Role.SECRETARIAT, section="情報推進課")
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit(actor=personas.secretariat, review=review)
    assert _to() == ["jimu2"]


def test_opted_out_and_unable_to_log_in_get_none(
    client, personas, review, django_capture_on_commit_callbacks
):
    # The member turns the mails off on their own settings page …
    client.force_login(personas.member)
    page = client.get(reverse("account_mail"))
    assert page.status_code == 200 and 'name="review_mail"' in page.content.decode()
    assert client.post(reverse("account_mail"), {}).status_code == 302
    assert not StaffProfile.objects.get(user=personas.member).review_mail
    # … the secretariat turns them off for one person, the staff screen's service …
    extra = make_user("extra", section="情報推進課")
    make_membership(extra, personas.wg)
    assert staff_review_mail_set(actor=personas.secretariat, user=extra, on=False)
    # … and two people of the WG can not log in: never given a password, or deactivated.
    never = staff_create(username="never", display_name="未設定", email="never@city.kahoku.example")
    make_membership(never, personas.wg)
    gone = make_user("gone", section="情報推進課")
    make_membership(gone, personas.wg)
    gone.is_active = False
    gone.save()

    review.state = Review.State.CHECKED
    review.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_approve(actor=personas.hq, review=review)
    assert _to() == ["leader"]

    # Turned on again, the member is mailed again.
    client.post(reverse("account_mail"), {"review_mail": "on"})
    other = make_review(initiative("2.2"), state=Review.State.CHECKED)
    assert other.initiative.working_group == personas.wg
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_approve(actor=personas.hq, review=other)
    assert _to() == ["leader", "member"]


def test_staff_screen_turns_a_persons_mail_off(client, personas):
    client.force_login(personas.secretariat)
    url = reverse("workgroups:staff_edit", args=[personas.member.pk])
    page = client.get(url).content.decode()
    assert 'name="review_mail"' in page and "checked" in page.split('name="review_mail"')[1][:80]
    data = {  # the form as shown, with the box unticked
        "display_name": "member",
        "email": personas.member.email,
        "section": personas.member.profile.section_id,
        "role": "staff",
        "version": str(personas.member.profile.version),
        f"wg_{personas.wg.pk}": "member",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not StaffProfile.objects.get(user=personas.member).review_mail


def test_nothing_is_sent_when_the_transaction_rolls_back(
    personas, review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.review_submit(actor=personas.leader, review=review)
            raise RuntimeError("something later in the same request failed")
    assert callbacks == [] and mail.outbox == []
    review.refresh_from_db()
    assert review.state == Review.State.DRAFT


def test_a_refused_move_sends_nothing(client, personas, review, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationError):
            services.review_return(actor=personas.secretariat, review=review, comment="理由")
        _move(client, personas.secretariat, review, "check")  # a draft cannot be checked
    assert review.state == Review.State.DRAFT and mail.outbox == []


def test_a_failing_mail_server_does_not_undo_the_move(
    client, personas, review, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    with caplog.at_level(logging.ERROR, logger="initiatives.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            _move(client, personas.leader, review, "submit")
    assert review.state == Review.State.SUBMITTED
    assert "review mail to ['secretariat@city.kahoku.example'] failed" in caplog.text


def _wg_codes(wg) -> set[str]:
    return {i.code for i in Initiative.objects.filter(working_group=wg).select_related("policy")}


def test_bulk_open_sends_each_leader_one_digest(
    client, personas, django_capture_on_commit_callbacks
):
    soumu_leader = make_user("soumu_leader", section="総務課")
    make_membership(soumu_leader, personas.other_wg, leader=True)
    client.force_login(personas.secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("initiatives:reviews_open"), {"fiscal_year": "R8", "due_date": "2027-01-31"}
        )
    assert response.status_code == 302
    assert _to() == ["leader", "soumu_leader"]  # one each, members and HQ none
    by_to = {m.to[0].split("@")[0]: m for m in mail.outbox}
    for user, wg in (("leader", personas.wg), ("soumu_leader", personas.other_wg)):
        body = by_to[user].body
        codes = _wg_codes(wg)
        assert len(codes) >= 2
        listed = {line[1:].split(" ")[0] for line in body.splitlines() if line.startswith("・")}
        assert listed == codes
        assert f"({len(codes)}件・提出期限 令和9年1月31日(日))" in by_to[user].subject
        assert body.count(f"{BASE}/initiatives/reviews/") == len(codes)

    # The same round again with the same due date changes nothing and mails nobody; a new
    # due date through the service reaches the leaders again, once each.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("initiatives:reviews_open"), {"fiscal_year": "R8", "due_date": "2027-01-31"}
        )
    assert mail.outbox == []
    personas.other_member.profile.review_mail = False
    personas.other_member.profile.save()
    soumu_leader.profile.review_mail = False
    soumu_leader.profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.reviews_open(
            actor=personas.secretariat, fiscal_year=2026, due_date=date(2027, 2, 15)
        )
    assert _to() == ["leader"]
    assert "提出期限: 令和9年2月15日(月)" in mail.outbox[0].body
