"""Issue 19 item 9 (screens): no 500 from what a person (or a script) types.

- Numbers in addresses: `/initiatives/systems/?group=²` answered 500 (``"²".isdigit()`` is
  true, ``int("²")`` fails). Every number typed into an address goes through
  portal_lib.params.ascii_int_or_default (ASCII digits only); a bad one is ignored like a missing
  one (the page shows everything, as without the filter).
- Control characters: `?plan=%00` on /plan/summary/ and /plan/compare/ and POST /plan/versions/
  with plan=NUL answered 500 on PostgreSQL (it refuses NUL in text). The edge
  (kahoku_dx.middleware.ControlCharacterMiddleware) now answers a Japanese 400 on both
  databases; TAB, CR and LF still reach a textarea, and uploaded files are not looked into.
- Two separate previews of one sheet confirmed at once: one wrote, the other hit
  uniq_progress_date and answered 500. Now the other is told 「すでに登録」.
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from initiatives.models import ProgressEntry
from portal_lib import upload_stash
from portal_lib.params import ascii_int_or_default
from reporting.exchange import engine, writer
from tests.factory import initiative, make_review, upload
from tests.pages import test_permissions_walk as walk
from tests.security.test_double_confirm import progress_file

# The every-URL walk's fixtures (its sample objects, every URL of the URLconf built).
samples = walk.samples
built = walk.built

REFUSED = "アドレスまたは入力に使えない文字(制御文字)が含まれています。"
ALREADY = "取り込もうとした行の一部は、同時に行われた別の取り込みによってすでに登録されています。"


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [None, "", "²", "①", "١٢", "１２", "1_000", " 1", "1 ", "+1", "-1", "1.0", "0x1", "1\n"]
    + ["9" * 19],
)
def test_only_ascii_digits_are_a_number(value):
    assert ascii_int_or_default(value) is None
    assert ascii_int_or_default(value, default=7) == 7


def test_ascii_digits_within_the_bounds_are_a_number():
    assert ascii_int_or_default("0") == 0
    assert ascii_int_or_default("0042") == 42
    assert ascii_int_or_default("9" * 18) == 999_999_999_999_999_999
    assert ascii_int_or_default("3", minimum=1, maximum=3) == 3
    assert ascii_int_or_default("0", minimum=1, default=1) == 1
    assert ascii_int_or_default("4", maximum=3) is None


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["²", "①", "１", "9" * 40, "-1"])
def test_a_bad_group_filter_on_the_system_list_is_ignored(client, personas, group):
    client.force_login(personas.secretariat)
    url = reverse("initiatives:systems")
    response = client.get(url, {"group": group})
    assert response.status_code == 200
    shown = client.get(url).context["systems"]
    assert list(response.context["systems"]) == list(shown)


@pytest.mark.django_db
@pytest.mark.parametrize("fy", ["²", "２０２６", "9" * 40])
def test_a_bad_fiscal_year_on_an_initiative_shows_the_current_year(client, personas, fy):
    client.force_login(personas.member)
    url = reverse("initiatives:detail", args=[initiative("2.1").pk])
    response = client.get(url, {"fy": fy})
    assert response.status_code == 200
    assert response.context["timeline_fy"] == client.get(url).context["timeline_fy"]


@pytest.mark.django_db
def test_a_bad_page_number_on_the_publication_form_is_dropped(client, personas, plan):
    client.force_login(personas.secretariat)
    response = client.post(reverse("reporting:publication"), {"plan": plan.code, "page": "²"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('reporting:publication')}?plan={plan.code}"


# --- control characters --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["reporting:summary", "reporting:compare"])
def test_nul_in_the_plan_parameter_is_refused_with_400(client, personas, name):
    client.force_login(personas.secretariat)
    response = client.get(reverse(name) + "?plan=%00")
    assert response.status_code == 400
    assert REFUSED in response.content.decode()


@pytest.mark.django_db
def test_nul_in_a_posted_plan_is_refused_with_400(client, personas, plan):
    client.force_login(personas.secretariat)
    response = client.post(reverse("reporting:versions"), {"action": "next", "plan": "\x00"})
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert b"Content-Language" not in response.serialize_headers()  # before any app code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/initiatives/%00/",
        "/initiatives/?q=%01",
        "/initiatives/?%00=1",
        "/initiatives/?q=a%0Ab",  # no line break belongs in a query value either
        "/initiatives/?q=%C2%85",  # C1 control (NEL)
        "/initiatives/?q=%7F",
    ],
)
def test_control_characters_in_the_address_are_refused(client, personas, path):
    client.force_login(personas.member)
    response = client.get(path)
    assert response.status_code == 400
    assert REFUSED in response.content.decode()


@pytest.mark.django_db
def test_the_refusal_comes_before_the_login_and_follows_the_language_switch(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/plan/summary/?plan=%00")
    assert response.status_code == 400
    assert "contains a character that cannot be used" in response.content.decode()


@pytest.mark.django_db
def test_the_api_is_refused_in_json(client, personas):
    client.force_login(personas.secretariat)
    response = client.get("/api/v1/initiatives/?plan=%00")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [REFUSED]}


def _progress_post(client, ini, text):
    return client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {"entry_date": "2026-10-01", "status": "on_track", "done_text": text},
    )


@pytest.mark.django_db
def test_a_textarea_keeps_tab_and_line_breaks(client, personas):
    ini = initiative("2.1")
    client.force_login(personas.member)
    assert _progress_post(client, ini, "一行目\r\n\t二行目").status_code == 302
    assert ProgressEntry.objects.get().done_text == "一行目\r\n\t二行目"


@pytest.mark.django_db
@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x7f", "\x9f"])
def test_other_control_characters_in_a_form_are_refused(client, personas, char):
    ini = initiative("2.1")
    client.force_login(personas.member)
    response = _progress_post(client, ini, f"報告{char}です")
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not ProgressEntry.objects.exists()


@pytest.mark.django_db
def test_a_control_character_in_a_review_form_is_refused(client, personas):
    review = make_review(initiative("2.1"))
    client.force_login(personas.leader)
    response = client.post(
        reverse("initiatives:review_edit", args=[review.initiative_id, review.fiscal_year]),
        {"evaluation": "\x00"},
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_uploaded_files_contents_are_not_looked_into(
    client, personas, plan, tmp_path, monkeypatch
):
    """An xlsx is a zip: full of NUL bytes. Only the form fields are checked."""
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "imports")
    data = progress_file(plan, 3)
    assert b"\x00" in data
    client.force_login(personas.secretariat)
    url = reverse("excel:bulk_import", args=["progress"])
    response = client.post(url, {"file": upload(data)})
    assert response.status_code == 200
    assert response.context["counts"] == {"added": 3, "changed": 0, "unchanged": 0}


# --- two previews of one sheet confirmed at once --------------------------------------------


def _preview(secretariat, data: bytes) -> tuple[Client, str]:
    """A preview in its own session (another tab or another colleague): its own token."""
    client = Client(raise_request_exception=False)
    client.force_login(secretariat)
    response = client.post(reverse("excel:bulk_import", args=["progress"]), {"file": upload(data)})
    assert response.context["counts"] == {"added": 30, "changed": 0, "unchanged": 0}
    return client, response.context["token"]


def _confirm(client: Client, token: str) -> str:
    response = client.post(
        reverse("excel:bulk_confirm", args=["progress"]), {"token": token}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db(transaction=True)  # committed: each thread has its own connection
def test_two_previews_of_one_sheet_confirmed_at_once_one_writes_the_other_is_told(
    plan, personas, tmp_path, monkeypatch
):
    """Both confirms have read the database (and found none of the rows) before either
    writes: on PostgreSQL two threads meet at a barrier just before their INSERT; SQLite has
    one writer at a time, so there the second confirm runs after the first, blind to its rows
    as it would have been had it read before the first committed."""
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "imports")
    data = progress_file(plan, 30)
    first, first_token = _preview(personas.secretariat, data)
    second, second_token = _preview(personas.secretariat, data)
    before = ProgressEntry.objects.count(), ProgressEntry.history.count()

    if connection.vendor == "postgresql":
        with monkeypatch.context() as barrier:
            pages = _race([(first, first_token), (second, second_token)], barrier)
    else:
        pages = [_confirm(first, first_token)]
        with monkeypatch.context() as blind:
            blind.setattr(engine, "_unique_or_ambiguous", lambda pairs: {})
            pages.append(_confirm(second, second_token))

    assert sum("進捗記録を取り込みました(追加 30件、変更 0件)。" in p for p in pages) == 1
    assert sum(ALREADY in p for p in pages) == 1
    assert ProgressEntry.objects.count() == before[0] + 30
    assert ProgressEntry.history.count() == before[1] + 30
    # The refused preview is gone; the rows are in: a new preview finds nothing to add.
    client = Client()
    client.force_login(personas.secretariat)
    again = client.post(reverse("excel:bulk_import", args=["progress"]), {"file": upload(data)})
    assert again.context["counts"] == {"added": 0, "changed": 0, "unchanged": 30}


def _race(confirms: list[tuple[Client, str]], monkeypatch) -> list[str]:
    barrier = threading.Barrier(len(confirms))
    waited = threading.local()
    real = writer.write_batch

    def write_after_everyone_has_read(batch, *, user):
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait(timeout=30)
        real(batch, user=user)

    monkeypatch.setattr(writer, "write_batch", write_after_everyone_has_read)
    pages: list[str] = []
    failures: list[BaseException] = []

    def confirm(client: Client, token: str) -> None:
        try:
            pages.append(_confirm(client, token))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=pair) for pair in confirms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert len(pages) == len(confirms)
    return pages


# --- every screen, with every parameter name the screens read, set to bad numbers ------------

BAD_QUERY = {
    name: value
    for name, value in zip(
        ["page", "fy", "group", "plan", "status", "phase", "a", "b", "q", "source", "target"],
        ["²", "①", "１２", "9" * 40, "-1", "²", "v²", "v" + "9" * 40, "²", "①", "p²"],
        strict=True,
    )
}


@pytest.mark.django_db
def test_no_screen_answers_500_to_bad_numbers_in_its_query(personas, built):
    client = Client(raise_request_exception=False)
    client.force_login(personas.secretariat)
    problems = []
    for route, url in built:
        if route.route.startswith(("api/", "admin/")) or route.name == "logout":
            continue
        response = client.get(url, BAD_QUERY)
        if response.status_code >= 500:
            problems.append(f"GET {url} ({route.label}) -> {response.status_code}")
    assert problems == []
