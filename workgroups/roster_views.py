"""The staff roster from Excel: upload → preview → confirm (atomic, claimed once) → the
set-password mails for the new accounts in one action.

The preview runs every check the confirm runs (workgroups.roster.preview_roster); it also
rehearses a 適用日 months ahead (April from December), which only the confirm refuses.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from portal_lib import upload_stash
from portal_lib.reauth import require_recent_auth
from portal_lib.sheet_reading import SpreadsheetError, check_size
from workgroups import roster, services
from workgroups.access import new_accounts, roles_for, signed_in
from workgroups.forms import RosterUploadForm

GET_POST = require_http_methods(["GET", "POST"])
ROSTER = "staff_roster"
ROSTER_NEW = "staff_roster_new_accounts"  # session: the accounts the last confirm created
MAX_NEW_KEPT = 5_000


def _require_secretariat(request: HttpRequest) -> None:
    if not roles_for(request.user).secretariat:
        raise PermissionDenied("職員の管理は事務局(情報推進課)のみ行えます。")


def _roster_page(request: HttpRequest, form: Any, **extra: Any) -> HttpResponse:
    status = extra.pop("status", 200)
    return render(request, "workgroups/staff_roster.html", {"form": form, **extra}, status=status)


@login_required
@GET_POST
@require_recent_auth
def staff_roster(request: HttpRequest) -> HttpResponse:
    _require_secretariat(request)
    today = timezone.localdate()
    if request.method == "GET":
        return _roster_page(request, RosterUploadForm(initial={"effective": today}))
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _roster_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    effective = form.cleaned_data["effective"]
    try:
        roster.rehearsal_check(effective, today)
        check_size(upload.size, settings.MAX_UPLOAD_BYTES)
        data = upload.read()
        preview = roster.preview_roster(
            data=data,
            filename=upload.name,
            effective=effective,
            today=today,
            actor=signed_in(request),
        )
    except ValidationError as exc:
        form.add_error("effective", exc.messages)
        return _roster_page(request, form, status=400)
    except SpreadsheetError as exc:
        return _roster_page(
            request, form, file_errors=exc.messages, error_total=exc.total, status=400
        )
    token = ""
    if preview.confirmable and preview.has_changes and not preview.error_total:
        token = upload_stash.stash(request, ROSTER, data, upload.name, preview.fingerprint)
        request.session[ROSTER] = {token: effective.isoformat()}
    return _roster_page(
        request,
        form,
        preview=preview,
        counts=preview.counts(),
        token=token,
        filename=upload.name,
        future=effective > today,
    )


@login_required
@require_POST
@require_recent_auth
def staff_roster_confirm(request: HttpRequest) -> HttpResponse:
    _require_secretariat(request)
    token = request.POST.get("token", "")
    stashed = upload_stash.claim(request, ROSTER, token)
    if not isinstance(stashed, tuple):  # a message: expired or already done
        messages.error(request, stashed)
        return redirect("workgroups:staff_roster")
    data, entry = stashed
    effective_text = request.session.get(ROSTER, {}).get(token)
    refusals = (SpreadsheetError, ValidationError)
    try:
        with upload_stash.confirming(request, token, refusals=refusals):
            preview = services.staff_roster_apply(
                actor=signed_in(request),
                data=data,
                filename=entry["filename"],
                effective=date.fromisoformat(effective_text),
                today=timezone.localdate(),
                expected_fingerprint=entry["fingerprint"],
            )
    except refusals as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workgroups:staff_roster")
    request.session[ROSTER_NEW] = [p.user.pk for p in preview.new if p.user][:MAX_NEW_KEPT]
    messages.success(
        request,
        gettext(
            "職員名簿を取り込みました(追加 %(new)s人、変更 %(changed)s人、無効化 %(leaving)s人)。"
            "%(date)sから適用として履歴に記録しました。"
        )
        % {**preview.counts(), "date": date_format(preview.effective)},
    )
    return redirect("workgroups:staff_roster_done")


def _new_accounts(request: HttpRequest) -> list[Any]:
    pks = [pk for pk in request.session.get(ROSTER_NEW, []) if isinstance(pk, int)]
    return new_accounts(pks)


@login_required
@GET_POST
def staff_roster_done(request: HttpRequest) -> HttpResponse:
    """After a roster import: the new accounts, and one button that mails each of them a
    link to set their password (those with an e-mail address and no password yet)."""
    _require_secretariat(request)
    people = _new_accounts(request)
    if request.method == "POST":
        sent, problems = services.staff_password_links_send(actor=signed_in(request), users=people)
        if sent:
            messages.success(
                request,
                gettext("%(n)s人にパスワード設定メールを送りました。") % {"n": len(sent)},
            )
        for problem in problems:
            messages.error(request, problem)
        if not sent and not problems:
            messages.info(request, gettext("送る相手はいません(全員がパスワードを設定済みです)。"))
        return redirect("workgroups:staff_roster_done")
    waiting = [u for u in people if not u.has_usable_password()]
    return render(
        request,
        "workgroups/roster_done.html",
        {
            "people": people,
            "can_send": [u for u in waiting if u.email and u.is_active],
            "no_email": [u for u in waiting if not u.email],
        },
    )
