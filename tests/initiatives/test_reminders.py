from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from initiatives import services
from initiatives.models import Review
from tests.factory import initiative, make_membership, make_progress, make_review, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def situation(personas, settings):
    settings.PORTAL_BASE_URL = "https://dx.city.kahoku.example/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    soumu_leader = make_user("soumu_leader", section="総務課", display_name="総務課長")
    make_membership(soumu_leader, personas.other_wg, leader=True)
    due = make_review(initiative("2.1"), due_date=date(2026, 11, 25))  # in 5 days
    make_review(initiative("2.2"), due_date=date(2026, 12, 31))  # not yet
    make_review(initiative("3.1"), due_date=date(2026, 11, 22), state=Review.State.SUBMITTED)
    returned = make_review(initiative("3.2"), state=Review.State.SUBMITTED)
    services.review_return(actor=personas.secretariat, review=returned, comment="数値を追記")
    make_progress(initiative("2.1"), entry_date=date(2026, 11, 18))  # fresh
    make_progress(initiative("2.2"), entry_date=date(2026, 5, 1), status="done")  # finished
    make_progress(initiative("3.1"), entry_date=date(2026, 10, 1))  # 50 days ago
    return {"due": due, "returned": returned, "soumu_leader": soumu_leader}


def _run(*args):
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_who_gets_which_mail(personas, situation):
    output = _run("--days", "7", "--today", "2026-11-20")
    assert "リマインダー 4 通を送信しました。" in output
    by_to = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_to) == [
        "leader@city.kahoku.example",
        "member@city.kahoku.example",
        "other@city.kahoku.example",
        "soumu_leader@city.kahoku.example",
    ]
    base = "https://dx.city.kahoku.example/initiatives"

    leader = by_to["leader@city.kahoku.example"]
    assert leader.subject == "【かほく市DX推進ポータル】対応のお願い(振り返り1件・進捗未更新3件)"
    assert "提出期限: 令和8年11月25日(水)(あと5日)" in leader.body
    assert f"{base}/reviews/{situation['due'].pk}/" in leader.body
    assert "2.2 " not in leader.body  # due in December; and marked 完了
    assert "3.1 自治体の情報システムの標準化・共通化(最終記録日: 令和8年10月1日(木))" in leader.body
    assert "3.3 ペーパーレスへの取組の促進(最終記録日: 記録なし)" in leader.body
    assert "2.1 行政サービスのオンライン化(最終記録日" not in leader.body

    member = by_to["member@city.kahoku.example"]
    assert member.subject == "【かほく市DX推進ポータル】対応のお願い(進捗未更新3件)"
    assert "振り返り" not in member.body.split("■")[1]  # members get no review reminders
    assert "7日以上進捗が記録されていない取り組み" in member.body

    soumu = by_to["soumu_leader@city.kahoku.example"]
    assert "総務課長 様" in soumu.body
    assert "■ 差し戻されたPDCA振り返り" in soumu.body and "差戻しコメント: 数値を追記" in soumu.body
    assert f"{base}/reviews/{situation['returned'].pk}/" in soumu.body

    other = by_to["other@city.kahoku.example"]
    assert "差し戻された" not in other.body
    assert "3.2 " in other.body and "3.4 " in other.body


def test_longer_window_catches_later_due_dates_and_fewer_stale(personas, situation):
    _run("--days", "60", "--today", "2026-11-20")
    leader = next(m for m in mail.outbox if m.to == ["leader@city.kahoku.example"])
    assert "提出期限: 令和8年12月31日(木)(あと41日)" in leader.body
    assert "3.1 " not in leader.body  # 50 days without progress < 60


def test_dry_run_sends_nothing_and_bad_arguments(personas, situation):
    output = _run("--days", "7", "--today", "2026-11-20", "--dry-run")
    assert mail.outbox == []
    assert "leader@city.kahoku.example\t【かほく市DX推進ポータル】" in output
    with pytest.raises(CommandError, match="--days には0以上の日数を指定してください。"):
        _run("--days", "-1")
    with pytest.raises(CommandError, match="日付として読めません"):
        _run("--today", "R8/11/20")
