"""The secretariat's admin: history on every model, safe import/export, optimistic locking.

Models with a ``version`` field carry it as a hidden field in the change form; a save from a
form opened before someone else's save is refused with the other user's current values
(the same rule as the portal's own forms: portal_lib.versioning_admin).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.timezone import localdate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from import_export.admin import ImportExportModelAdmin
from import_export.tmp_storages import BaseStorage
from simple_history.admin import SimpleHistoryAdmin

from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProjectUnderWay,
    Review,
    ReviewEvent,
    StandardSystem,
    SystemGroup,
    grade_text,
    progress_dates_out_of_bounds,
)
from initiatives.resources import (
    ADMIN_FORMATS,
    IndicatorValueResource,
    InitiativeResource,
    OnlineProcedureResource,
    ProgressEntryResource,
    ProjectUnderWayResource,
    StandardSystemResource,
)
from plans.models import Plan
from portal_lib import upload_stash
from portal_lib.sheet_reading import SpreadsheetError
from portal_lib.versioning_admin import VersionedAdminMixin

# --- import/export ----------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
MSG_IMPORT_FILE_GONE = gettext_noop(
    "取り込むファイルが見つかりません(有効期限切れ、取り込み済み、または不正な指定です)。"
    "もう一度ファイルを選んで、取り込みをやり直してください。"
)


class AdminImportStorage(BaseStorage):
    """django-import-export's temporary storage on the portal's one upload stash
    (portal_lib.upload_stash), the store every preview-then-confirm import uses.

    The preview reads the upload right away, so it stays in memory; a preview without
    problems is stashed for this session under a random token
    (``ImportExportHistoryAdmin.get_confirm_form_initial``). The confirm claims it first
    (an atomic rename: one of any number of concurrent confirms wins) and reads the claimed
    file here; nothing the browser re-posts names a path."""

    data: bytes | None = None

    def save(self, data: bytes) -> None:
        self.data = data
        self.name = ""  # the stash's token replaces it once the preview has passed

    def _claimed(self) -> Path:
        if not _TOKEN_RE.fullmatch(self.name or ""):
            raise FileNotFoundError(self.name)
        return upload_stash.UPLOAD_DIR / f"{self.name}.claimed"

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        return self._claimed().read_bytes()

    def remove(self) -> None:
        if self.data is None:
            self._claimed().unlink(missing_ok=True)


class ImportExportHistoryAdmin(VersionedAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    """Admin import/export (natural keys, safe files) on top of the history admin.

    Files are read by the shared bounded reader (initiatives.resources.SafeXLSX/SafeCSV)
    and kept between preview and confirm in the shared upload stash. The confirm step
    trusts nothing the browser re-posts: the file token, its model, format and resource
    must be exactly what this session previewed (the stash's entry, kept in the session),
    and the file is claimed once; anything else answers 400 with a Japanese message, never
    a 500.
    """

    formats = ADMIN_FORMATS
    import_formats = ADMIN_FORMATS
    export_formats = ADMIN_FORMATS
    tmp_storage_class = AdminImportStorage

    def add_data_read_fail_error_to_form(self, form, e):
        # Our safety checks explain themselves in Japanese; show that, not the class name.
        if isinstance(e, ValueError) and isinstance(e.__cause__, SpreadsheetError):
            form.add_error("import_file", " ".join(e.__cause__.messages))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is None:  # the confirm POST itself, checked in process_import
            return initial
        upload = import_form.cleaned_data["import_file"]
        initial["import_file_name"] = upload_stash.stash(
            request,
            self._preview_key(initial.get("format"), initial.get("resource")),
            b"".join(upload.chunks()),
            upload.name,
            "",
        )
        return initial

    def _preview_key(self, fmt: Any, resource: Any) -> str:
        return f"admin|{self.opts.label}|{fmt or ''}|{resource or ''}"

    def process_import(self, request, **kwargs):
        if request.method != "POST" or not self.has_import_permission(request):
            return super().process_import(request, **kwargs)
        token = request.POST.get("import_file_name", "")
        kind = self._preview_key(request.POST.get("format"), request.POST.get("resource"))
        if not isinstance(upload_stash.claim(request, kind, token), tuple):
            context = {
                **self.admin_site.each_context(request),
                "title": _("インポート"),
                "opts": self.model._meta,
                "import_problem": _(MSG_IMPORT_FILE_GONE),
            }
            return TemplateResponse(
                request, ["admin/import_export/import_problem.html"], context, status=400
            )
        with upload_stash.confirming(request, token):
            response = super().process_import(request, **kwargs)
        return response


class VersionedHistoryAdmin(VersionedAdminMixin, SimpleHistoryAdmin):
    pass


class ProjectInline(admin.TabularInline):
    model = ProjectUnderWay
    extra = 0


@admin.register(Initiative)
class InitiativeAdmin(ImportExportHistoryAdmin):
    resource_classes = [InitiativeResource]
    conflict_what = _("取り組み")
    list_display = ["code", "title", "flag", "working_group", "lead_section", "is_public"]
    list_display_links = ["code", "title"]
    list_filter = ["policy__plan", "policy", "flag", "working_group", "lead_section", "is_public"]
    search_fields = ["title", "description"]
    list_select_related = ["policy", "working_group", "lead_section"]
    filter_horizontal = ["national_items"]
    inlines = [ProjectInline]

    @admin.display(description=_("番号"), ordering="policy__number")
    def code(self, obj: Initiative) -> str:
        return obj.code


@admin.register(ProjectUnderWay)
class ProjectUnderWayAdmin(ImportExportHistoryAdmin):
    resource_classes = [ProjectUnderWayResource]
    list_display = ["era_label", "name", "section", "initiative"]
    list_filter = ["section", "fiscal_year", "initiative__policy"]
    search_fields = ["name", "section__name"]
    list_select_related = ["section", "initiative", "initiative__policy"]


class DateOutOfBoundsFilter(admin.SimpleListFilter):
    """Entries dated outside their bounds (portal_lib.date_bounds), e.g. saved before the
    bounds existed (migration 0009 reports them)."""

    title = _("期間外の日付")
    parameter_name = "date_out_of_bounds"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("期間外の日付"))]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() != "yes":
            return queryset
        return queryset.filter(progress_dates_out_of_bounds(Plan.objects.all(), localdate()))


@admin.register(ProgressEntry)
class ProgressEntryAdmin(ImportExportHistoryAdmin):
    resource_classes = [ProgressEntryResource]
    conflict_what = _("進捗記録")

    list_display = ["initiative", "entry_date", "fiscal_year", "status", "percent", "author"]
    list_filter = [
        DateOutOfBoundsFilter,
        "status",
        "fiscal_year",
        "initiative__policy",
        "initiative__working_group",
    ]
    search_fields = ["done_text", "next_steps", "issues_text", "initiative__title"]
    list_select_related = ["initiative", "initiative__policy", "author"]
    date_hierarchy = "entry_date"
    autocomplete_fields = ["initiative"]
    readonly_fields = ["fiscal_year"]


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(VersionedHistoryAdmin):
    conflict_what = _("指標")
    list_display = ["name", "initiative", "unit", "direction", "baseline"]
    list_filter = ["direction", "initiative__policy"]
    search_fields = ["name", "initiative__title"]
    list_select_related = ["initiative", "initiative__policy"]
    autocomplete_fields = ["initiative"]
    inlines = [IndicatorValueInline]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ImportExportHistoryAdmin):
    resource_classes = [IndicatorValueResource]
    list_display = ["indicator", "fiscal_year", "target", "actual", "grade_display"]
    list_filter = ["fiscal_year"]
    search_fields = ["indicator__name"]
    list_select_related = ["indicator"]

    @admin.display(description=_("評価"))
    def grade_display(self, obj: IndicatorValue) -> str:
        return grade_text(obj.grade)


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "actor", "comment", "at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(VersionedHistoryAdmin):
    conflict_what = _("振り返り")
    list_display = ["initiative", "fiscal_year", "state", "self_grade", "carry_over"]
    list_filter = ["state", "fiscal_year", "self_grade", "carry_over", "initiative__policy"]
    search_fields = ["initiative__title", "plan_text", "do_text", "check_text", "act_text"]
    list_select_related = ["initiative", "initiative__policy"]
    autocomplete_fields = ["initiative"]
    inlines = [ReviewEventInline]
    # States move only through the portal's actions (initiatives.services), which check the
    # role and record a ReviewEvent; an approved review is locked here as well.
    readonly_fields = ["state"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return [f.name for f in obj._meta.fields if f.editable] + ["state"]
        if obj is None:
            return []  # a new review starts as 下書き (the model default)
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ["review", "from_state", "to_state", "actor", "at"]
    list_filter = ["to_state"]
    search_fields = ["comment", "review__initiative__title"]
    list_select_related = ["review", "review__initiative", "review__initiative__policy", "actor"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the state history is append-only


@admin.register(CountableTarget)
class CountableTargetAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "target_count", "deadline_fy"]
    list_filter = ["plan"]
    search_fields = ["name", "code"]


@admin.register(OnlineProcedure)
class OnlineProcedureAdmin(ImportExportHistoryAdmin):
    resource_classes = [OnlineProcedureResource]
    conflict_what = _("手続")
    list_display = ["number", "name", "category", "channel", "section", "status", "online_on"]
    list_filter = ["status", "channel", "section", "category"]
    search_fields = ["name", "category", "note"]
    list_select_related = ["section"]


@admin.register(SystemGroup)
class SystemGroupAdmin(SimpleHistoryAdmin):
    list_display = ["name", "target", "schedule_row"]
    list_filter = ["target"]
    search_fields = ["number"]


@admin.register(StandardSystem)
class StandardSystemAdmin(ImportExportHistoryAdmin):
    resource_classes = [StandardSystemResource]
    conflict_what = _("標準化対象システム")
    list_display = ["number", "name", "group", "phase", "section", "planned_on", "migrated_on"]
    list_filter = ["group", "phase", "section"]
    search_fields = ["name", "note"]
    list_select_related = ["group", "section"]
