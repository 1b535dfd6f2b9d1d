"""Every URL of the issue-3 screens for every persona, as one table.

Reads are open to all logged-in staff; writes belong to the WG (members log progress, the
leader manages indicators and the review), the secretariat (everything, returns/checks) and
HQ (approves). Missing objects → 404, read-only → 403, GET on a one-shot action → 405,
anonymous → login.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from initiatives.models import Review, StandardSystem
from tests.factory import REVIEW_COMPLETE, initiative, make_indicator, make_procedure, make_progress

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "viewer", "member", "other_member", "leader", "secretariat", "hq")

# Another day than the entry make_progress() creates: one entry per initiative per date.
PROGRESS_POST = {"entry_date": "2026-10-02", "status": "on_track", "percent": "10"}
INDICATOR_POST = {"name": "指標X", "direction": "higher", "version": "1", "target_2026": "10"}
REVIEW_POST = {**REVIEW_COMPLETE, "version": "1"}
PROCEDURE_POST = {"name": "新しい手続", "status": "not_started", "version": "1"}
SYSTEM_POST = {"phase": "fit_gap", "version": "1"}

# fmt: off
# (name, method, url name, args key, POST data, review state to set up,
#   anonymous, viewer, member, other_member, leader, secretariat, hq)
TABLE = [
    ("home",              "get",  "home",                         None,    None, None,        302, 200, 200, 200, 200, 200, 200),
    ("list",              "get",  "initiatives:list",             None,    None, None,        302, 200, 200, 200, 200, 200, 200),
    ("detail",            "get",  "initiatives:detail",           "ini",   None, None,        302, 200, 200, 200, 200, 200, 200),
    ("detail missing",    "get",  "initiatives:detail",           "nope",  None, None,        302, 404, 404, 404, 404, 404, 404),
    ("progress new",      "get",  "initiatives:progress_create",  "ini",   None, None,        302, 403, 200, 403, 200, 200, 403),
    ("progress new post", "post", "initiatives:progress_create",  "ini",   PROGRESS_POST, None, 302, 403, 302, 403, 302, 302, 403),
    ("progress edit",     "get",  "initiatives:progress_edit",    "entry", None, None,        302, 403, 200, 403, 200, 200, 403),
    ("progress edit post","post", "initiatives:progress_edit",    "entry", {**PROGRESS_POST, "version": "1"}, None, 302, 403, 302, 403, 302, 302, 403),
    ("progress wrong ini","get",  "initiatives:progress_edit",    "entry_elsewhere", None, None, 302, 404, 404, 404, 404, 404, 404),
    ("indicator new",     "get",  "initiatives:indicator_create", "ini",   None, None,        302, 403, 403, 403, 200, 200, 403),
    ("indicator new post","post", "initiatives:indicator_create", "ini",   INDICATOR_POST, None, 302, 403, 403, 403, 302, 302, 403),
    ("indicator edit",    "get",  "initiatives:indicator_edit",   "ind",   None, None,        302, 403, 403, 403, 200, 200, 403),
    ("indicator edit post","post","initiatives:indicator_edit",   "ind",   INDICATOR_POST, None, 302, 403, 403, 403, 302, 302, 403),
    ("indicator missing", "get",  "initiatives:indicator_edit",   "nope",  None, None,        302, 404, 404, 404, 404, 404, 404),
    ("review edit",       "get",  "initiatives:review_edit",      "ini_fy", None, "draft",    302, 403, 403, 403, 200, 200, 403),
    ("review edit post",  "post", "initiatives:review_edit",      "ini_fy", REVIEW_POST, "draft", 302, 403, 403, 403, 302, 302, 403),
    ("review other year", "get",  "initiatives:review_edit",      "ini_bad_fy", None, None,   302, 404, 404, 404, 404, 404, 404),
    ("review approved",   "get",  "initiatives:review_edit",      "ini_fy", None, "approved", 302, 403, 403, 403, 403, 403, 403),
    ("review detail",     "get",  "initiatives:review",           "review", None, "draft",    302, 200, 200, 200, 200, 200, 200),
    ("review missing",    "get",  "initiatives:review",           "nope",  None, None,        302, 404, 404, 404, 404, 404, 404),
    ("submit by GET",     "get",  "initiatives:review_submit",    "review", None, "draft",    302, 405, 405, 405, 405, 405, 405),
    ("submit",            "post", "initiatives:review_submit",    "review", {}, "draft",      302, 403, 403, 403, 302, 302, 403),
    ("return by GET",     "get",  "initiatives:review_return",    "review", None, "submitted", 302, 405, 405, 405, 405, 405, 405),
    ("return",            "post", "initiatives:review_return",    "review", {"comment": "要修正"}, "submitted", 302, 403, 403, 403, 403, 302, 403),
    ("check by GET",      "get",  "initiatives:review_check",     "review", None, "submitted", 302, 405, 405, 405, 405, 405, 405),
    ("check",             "post", "initiatives:review_check",     "review", {}, "submitted",  302, 403, 403, 403, 403, 302, 403),
    ("approve by GET",    "get",  "initiatives:review_approve",   "review", None, "checked",  302, 405, 405, 405, 405, 405, 405),
    ("approve",           "post", "initiatives:review_approve",   "review", {}, "checked",    302, 403, 403, 403, 403, 403, 302),
    ("open by GET",       "get",  "initiatives:reviews_open",     None,    None, None,        302, 405, 405, 405, 405, 405, 405),
    ("open reviews",      "post", "initiatives:reviews_open",     None,    {"fiscal_year": "R8", "due_date": "2027-01-31"}, None, 302, 403, 403, 403, 403, 302, 403),
    ("submit missing",    "post", "initiatives:review_submit",    "nope",  {}, None,          302, 404, 404, 404, 404, 404, 404),
    ("procedures",        "get",  "initiatives:procedures",       None,    None, None,        302, 200, 200, 200, 200, 200, 200),
    ("procedure new",     "get",  "initiatives:procedure_create", None,    None, None,        302, 403, 200, 403, 200, 200, 403),
    ("procedure new post","post", "initiatives:procedure_create", None,    PROCEDURE_POST, None, 302, 403, 302, 403, 302, 302, 403),
    ("procedure edit",    "get",  "initiatives:procedure_edit",   "proc",  None, None,        302, 403, 200, 403, 200, 200, 403),
    ("procedure edit post","post","initiatives:procedure_edit",   "proc",  PROCEDURE_POST, None, 302, 403, 302, 403, 302, 302, 403),
    ("procedure missing", "get",  "initiatives:procedure_edit",   "nope",  None, None,        302, 404, 404, 404, 404, 404, 404),
    ("systems",           "get",  "initiatives:systems",          None,    None, None,        302, 200, 200, 200, 200, 200, 200),
    ("system edit",       "get",  "initiatives:system_edit",      "system", None, None,       302, 403, 200, 403, 200, 200, 403),
    ("system edit post",  "post", "initiatives:system_edit",      "system", SYSTEM_POST, None, 302, 403, 302, 403, 302, 302, 403),
    ("system missing",    "get",  "initiatives:system_edit",      "nope",  None, None,        302, 404, 404, 404, 404, 404, 404),
]
# fmt: on


def _args(key, objs):
    return {
        None: [],
        "ini": [objs["ini"].pk],
        "nope": [999999],
        "entry": [objs["ini"].pk, objs["entry"].pk],
        "entry_elsewhere": [initiative("3.2").pk, objs["entry"].pk],
        "ind": [objs["ind"].pk],
        "ini_fy": [objs["ini"].pk, 2026],
        "ini_bad_fy": [objs["ini"].pk, 2030],
        "review": [objs["review"].pk] if objs.get("review") else [999999],
        "proc": [objs["proc"].pk],
        "system": [objs["system"].pk],
    }[key]


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
def test_permission_table(client, personas, row):
    name, method, url_name, key, data, review_state = row[:6]
    expected = dict(zip(PERSONAS, row[6:], strict=True))
    ini = initiative("2.1")  # 情報推進課WG: member and leader belong to it
    objs = {
        "ini": ini,
        "entry": make_progress(ini, author=personas.member),
        "ind": make_indicator(ini),
        "proc": make_procedure(),
        "system": StandardSystem.objects.get(number=1),
    }
    if review_state:
        objs["review"] = Review.objects.create(
            initiative=ini, fiscal_year=2026, state=review_state, **REVIEW_COMPLETE
        )
    url = reverse(url_name, args=_args(key, objs))
    actual = {}
    for persona in PERSONAS:
        # Each persona starts from the same data: a write by one must not change the next.
        with transaction.atomic():
            client.logout()
            if persona != "anonymous":
                client.force_login(getattr(personas, persona))
            response = client.post(url, data) if method == "post" else client.get(url)
            actual[persona] = response.status_code
            if persona == "anonymous":
                assert response.url.startswith(reverse("login")), name
            elif method == "post" and response.status_code == 302:
                # a real write redirects to a page, never back to the login
                assert not response.url.startswith(reverse("login")), (name, persona)
            transaction.set_rollback(True)
    assert actual == expected, name
