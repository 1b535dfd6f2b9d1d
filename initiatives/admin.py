from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProjectUnderWay,
    ReportSnapshot,
    Review,
    ReviewEvent,
    StandardSystem,
    SystemGroup,
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
from kahoku_dx.spreadsheets import SpreadsheetError


class ImportExportHistoryAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    """Admin import/export (natural keys, safe files) on top of the history admin."""

    formats = ADMIN_FORMATS

    def add_data_read_fail_error_to_form(self, form, e):
        # Our safety checks explain themselves in Japanese; show that, not the class name.
        if isinstance(e.__cause__, SpreadsheetError):
            form.add_error("import_file", " ".join(e.__cause__.messages))
        else:
            super().add_data_read_fail_error_to_form(form, e)


class ProjectInline(admin.TabularInline):
    model = ProjectUnderWay
    extra = 0


@admin.register(Initiative)
class InitiativeAdmin(ImportExportHistoryAdmin):
    resource_classes = [InitiativeResource]
    list_display = ["code", "title", "flag", "working_group", "lead_section", "is_public"]
    list_display_links = ["code", "title"]
    list_filter = ["policy__plan", "policy", "flag", "working_group", "lead_section", "is_public"]
    search_fields = ["title", "description"]
    list_select_related = ["policy", "working_group", "lead_section"]
    filter_horizontal = ["national_items"]
    inlines = [ProjectInline]

    @admin.display(description="番号", ordering="policy__number")
    def code(self, obj: Initiative) -> str:
        return obj.code


@admin.register(ProjectUnderWay)
class ProjectUnderWayAdmin(ImportExportHistoryAdmin):
    resource_classes = [ProjectUnderWayResource]
    list_display = ["era_label", "name", "section", "initiative"]
    list_filter = ["section", "fiscal_year", "initiative__policy"]
    search_fields = ["name", "section__name"]
    list_select_related = ["section", "initiative", "initiative__policy"]


@admin.register(ProgressEntry)
class ProgressEntryAdmin(ImportExportHistoryAdmin):
    resource_classes = [ProgressEntryResource]

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # a portal user editing the old version gets the conflict message
        super().save_model(request, obj, form, change)

    list_display = ["initiative", "entry_date", "fiscal_year", "status", "percent", "author"]
    list_filter = ["status", "fiscal_year", "initiative__policy", "initiative__working_group"]
    search_fields = ["done_text", "next_steps", "issues_text", "initiative__title"]
    list_select_related = ["initiative", "initiative__policy", "author"]
    date_hierarchy = "entry_date"
    autocomplete_fields = ["initiative"]
    readonly_fields = ["fiscal_year"]


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
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

    @admin.display(description="評価")
    def grade_display(self, obj: IndicatorValue) -> str:
        return obj.grade


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "actor", "comment", "at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
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

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # a portal user editing the old version gets the conflict message
        super().save_model(request, obj, form, change)


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
    list_display = ["number", "name", "group", "phase", "section", "planned_on", "migrated_on"]
    list_filter = ["group", "phase", "section"]
    search_fields = ["name", "note"]
    list_select_related = ["group", "section"]


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):
    list_display = ["title", "fiscal_year", "taken_on", "taken_by"]
    list_filter = ["fiscal_year", "plan"]
    search_fields = ["title"]
    readonly_fields = ["data", "taken_at", "taken_by"]
