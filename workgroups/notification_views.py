"""A person's own mail settings: whether they get the review mails (initiatives.notifications).

Everyone who logs in may turn their own mails off and on again here; the secretariat can do
the same for anyone on the staff screen.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from workgroups import services
from workgroups.access import review_mail_setting, signed_in


class ReviewMailForm(forms.Form):
    review_mail = forms.BooleanField(
        label=gettext_lazy("振り返りの通知メールを受け取る"),
        required=False,
        help_text=gettext_lazy(
            "振り返りが提出・差戻し・確認・承認されたときや、振り返りが一括作成されたときに、"
            "次に対応する人にメールでお知らせします。"
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_mail(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    current = review_mail_setting(user)
    on = True if current is None else current
    # An unticked box posts nothing: the form is bound on every POST, empty or not.
    data = request.POST if request.method == "POST" else None
    form = ReviewMailForm(data, initial={"review_mail": on})
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["review_mail"]
        services.staff_review_mail_set(actor=user, user=user, on=wanted)
        if wanted:
            messages.success(request, _("振り返りの通知メールを受け取るようにしました。"))
        else:
            messages.success(request, _("振り返りの通知メールを止めました。"))
        return redirect("account_mail")
    return render(
        request,
        "registration/account_mail.html",
        {"form": form, "email": user.email},
        status=400 if form.errors else 200,
    )
