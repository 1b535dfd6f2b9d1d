from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from plans.models import (
    BasicPolicy,
    Lease,
    NationalItem,
    Plan,
    PlanVersion,
    RelatedPlan,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)


class PlanVersionInline(admin.TabularInline):
    model = PlanVersion
    extra = 0


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "start_fy", "end_fy"]
    search_fields = ["name", "code", "theme", "goal"]
    inlines = [PlanVersionInline]


@admin.register(PlanVersion)
class PlanVersionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "issued_fy", "issued_on"]
    list_filter = ["plan", "issued_fy"]
    search_fields = ["number", "summary"]


@admin.register(RelatedPlan)
class RelatedPlanAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "issuer", "decided_on"]
    list_filter = ["plan", "kind", "issuer"]
    search_fields = ["name", "note"]


@admin.register(NationalItem)
class NationalItemAdmin(SimpleHistoryAdmin):
    list_display = ["number", "title"]
    search_fields = ["title"]


@admin.register(BasicPolicy)
class BasicPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["number", "title", "plan"]
    list_filter = ["plan"]
    search_fields = ["title", "summary"]


class ScheduleRowInline(admin.TabularInline):
    model = ScheduleRow
    extra = 0
    autocomplete_fields = ["initiative"]


@admin.register(ScheduleItem)
class ScheduleItemAdmin(SimpleHistoryAdmin):
    list_display = ["order", "title", "plan"]
    list_filter = ["plan"]
    search_fields = ["title"]
    inlines = [ScheduleRowInline]


class ScheduleCellInline(admin.TabularInline):
    model = ScheduleCell
    extra = 0


@admin.register(ScheduleRow)
class ScheduleRowAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "sub_title", "initiative"]
    list_filter = ["item__plan", "item"]
    search_fields = ["item__title", "sub_title"]
    list_select_related = ["item", "initiative", "initiative__policy"]
    autocomplete_fields = ["initiative"]
    inlines = [ScheduleCellInline]


@admin.register(ScheduleCell)
class ScheduleCellAdmin(SimpleHistoryAdmin):
    list_display = ["row", "fiscal_year", "kind", "text", "col_span", "row_span"]
    list_filter = ["fiscal_year", "kind", "row__item__plan"]
    search_fields = ["text", "row__item__title", "row__sub_title"]
    list_select_related = ["row", "row__item"]


@admin.register(Lease)
class LeaseAdmin(SimpleHistoryAdmin):
    list_display = ["name", "plan", "schedule_row"]
    list_filter = ["plan"]
    search_fields = ["name", "note"]
    list_select_related = ["plan", "schedule_row", "schedule_row__item"]
