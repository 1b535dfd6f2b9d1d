"""Which initiatives (and which of their fields) the public page shows: the secretariat's
screen, a page of the plan's initiatives at a time."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from initiatives.models import PUBLIC_FIELDS
from initiatives.services import initiative_publication_update
from plans.models import Plan
from plans.selectors import plan_and_year
from portal_lib.params import ascii_int_or_default
from portal_lib.people import display_name
from portal_lib.versioning import EditConflict, last_editor
from reporting.access import initiative_pks_of_plan, initiatives_for_publication
from workgroups.access import SecretariatRequiredMixin

PUBLICATION_PAGE_SIZE = 50


class PublicationView(SecretariatRequiredMixin, TemplateView):
    template_name = "reporting/publication.html"

    def _plan(self) -> Plan | None:
        return plan_and_year(self.request).plan

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        plan = self._plan()
        # A page of the plan's initiatives at a time: saving touches only the rows posted.
        page = Paginator(
            initiatives_for_publication(plan),
            PUBLICATION_PAGE_SIZE,
        ).get_page(self.request.GET.get("page"))
        initiatives = page.object_list
        rows = [
            (
                ini,
                [
                    (key, label, key in (ini.public_fields or []))
                    for key, label in PUBLIC_FIELDS.items()
                ],
            )
            for ini in initiatives
        ]
        ctx.update(plan=plan, rows=rows, public_fields=PUBLIC_FIELDS, page_obj=page)
        return ctx

    def post(self, request):
        plan = self._plan()
        if plan is None:
            return redirect("reporting:publication")
        post = request.POST
        changes: dict[int, tuple[bool, list[str]]] = {}
        versions: dict[int, int | None] = {}
        for pk in initiative_pks_of_plan(plan):
            shown = post.get(f"row-{pk}")
            if shown is None:
                continue
            fields = [k for k in PUBLIC_FIELDS if f"field-{pk}-{k}" in post]
            changes[pk] = (f"public-{pk}" in post, fields)
            # the row's version when the page was shown (portal_lib.versioning)
            versions[pk] = int(shown) if shown.isascii() and shown.isdigit() else None
        try:
            count = initiative_publication_update(
                changes=changes, plan=plan, user=request.user, versions=versions
            )
        except EditConflict as exc:
            ini = exc.current
            editor = last_editor(ini)
            shown_fields = "、".join(str(PUBLIC_FIELDS[k]) for k in ini.public_fields or [])
            messages.error(
                request,
                " ".join(
                    [
                        str(exc),
                        _("「%(ini)s」の現在の設定: %(public)s(公開する項目: %(fields)s)。")
                        % {
                            "ini": f"{ini.code} {ini.title}",
                            "public": _("掲載する") if ini.is_public else _("掲載しない"),
                            "fields": shown_fields or "—",
                        },
                        _("最終更新者: %(name)s") % {"name": display_name(editor)}
                        if editor is not None
                        else "",
                        _("この画面は現在の設定で表示し直しています。"),
                    ]
                ).strip(),
            )
        else:
            messages.success(
                request, _("公開設定を保存しました(%(count)s件を変更)。") % {"count": count}
            )
        query = {"plan": plan.code}
        page = ascii_int_or_default(post.get("page"), minimum=1)
        if page is not None:
            query["page"] = str(page)
        return redirect(f"{reverse('reporting:publication')}?{urlencode(query)}")
