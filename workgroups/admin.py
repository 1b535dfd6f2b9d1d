from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from simple_history.admin import SimpleHistoryAdmin

from workgroups.models import (
    ExternalAdvisor,
    Headquarters,
    HeadquartersMember,
    Secretariat,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

User = get_user_model()


@admin.register(Section)
class SectionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "department", "order", "is_active"]
    list_filter = ["is_active", "department"]
    search_fields = ["name", "department"]


@admin.register(Secretariat)
class SecretariatAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "plan", "section"]
    list_filter = ["plan"]
    search_fields = ["section__name"]


class HeadquartersMemberInline(admin.TabularInline):
    model = HeadquartersMember
    extra = 0
    autocomplete_fields = ["user", "section"]


@admin.register(Headquarters)
class HeadquartersAdmin(SimpleHistoryAdmin):
    list_display = ["name", "plan", "established_fy"]
    list_filter = ["plan"]
    search_fields = ["name"]
    inlines = [HeadquartersMemberInline]


@admin.register(HeadquartersMember)
class HeadquartersMemberAdmin(SimpleHistoryAdmin):
    list_display = ["title", "role", "user", "section"]
    list_filter = ["role", "headquarters"]
    search_fields = ["title", "user__username", "user__last_name"]
    autocomplete_fields = ["user", "section"]


class MembershipInline(admin.TabularInline):
    model = WorkingGroupMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(SimpleHistoryAdmin):
    list_display = ["name", "lead_section", "plan", "established_fy"]
    list_filter = ["plan", "lead_section"]
    search_fields = ["name", "description", "sections__name"]
    filter_horizontal = ["sections"]
    list_select_related = ["lead_section", "plan"]
    inlines = [MembershipInline]


@admin.register(WorkingGroupMembership)
class WorkingGroupMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["working_group", "user", "role"]
    list_filter = ["role", "working_group"]
    search_fields = ["user__username", "user__last_name", "working_group__name"]
    list_select_related = ["working_group", "user"]
    autocomplete_fields = ["user"]


@admin.register(ExternalAdvisor)
class ExternalAdvisorAdmin(SimpleHistoryAdmin):
    list_display = ["name", "affiliation", "expertise", "working_group"]
    list_filter = ["plan", "working_group"]
    search_fields = ["name", "affiliation", "expertise"]


@admin.register(StaffProfile)
class StaffProfileAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "user", "section", "role"]
    list_filter = ["role", "section"]
    search_fields = ["display_name", "user__username", "user__last_name", "user__first_name"]
    list_select_related = ["user", "section"]
    autocomplete_fields = ["user", "section"]


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    autocomplete_fields = ["section"]


# Roles and privileges are the portal's (workgroups.services), not the admin's: only a
# superuser may grant superuser or staff status, groups or permissions here. The fields are
# read-only for everyone else, so a forged POST of them is ignored (they are not in the form).
USER_PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")
GROUP_PRIVILEGE_FIELDS = ("permissions",)


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class PortalGroupAdmin(GroupAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in GROUP_PRIVILEGE_FIELDS if f not in fields]
        return fields


@admin.register(User)
class PortalUserAdmin(UserAdmin, SimpleHistoryAdmin):
    """Staff accounts. A non-superuser sees privileges read-only and cannot change, reset the
    password of, or delete a superuser's account (that would be a way to become one)."""

    inlines = [StaffProfileInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in USER_PRIVILEGE_FIELDS if f not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    list_display = ["username", "last_name", "first_name", "email", "is_active", "is_staff"]
    list_select_related = ["profile", "profile__section"]
    list_filter = ["is_active", "is_staff", "profile__role", "profile__section"]
