"""The organisation in the admin, through the portal's rules: every write to a person's
account, profile, WG role or HQ seat moves their staff version on (so a staff screen opened
before sees the conflict), the staff record's own forms check that version, and nothing here
can take the last active secretariat member or superuser (workgroups.services.lockout_check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal_lib.versioning_admin import VersionedAdminMixin
from workgroups import services
from workgroups.access import (
    MSG_SERVICE_ACCOUNT_PASSWORD,
    may_change_account,
    may_change_privileges,
    may_have_password,
)
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

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()
STAFF_WHAT = _("職員の情報")
SECRETARIAT = StaffProfile.Role.SECRETARIAT


def _bump(actor: PortalUser, user_ids: set[int | None]) -> None:
    for user in User.objects.filter(pk__in={pk for pk in user_ids if pk is not None}):
        services.staff_version_bump(actor=actor, user=user)


def _refuse_lockout(**change: Any) -> None:
    """Deleting in the admin has no form to show the reason on: answer 403 with it."""
    try:
        services.lockout_check(**change)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from None


class BumpsStaffVersionAdmin(SimpleHistoryAdmin):
    """WG memberships and HQ seats (and their inlines): the person's staff version moves on."""

    def save_model(self, request, obj, form, change):
        before = type(obj)._default_manager.filter(pk=obj.pk).values_list("user_id", flat=True)
        old = before.first() if change else None
        super().save_model(request, obj, form, change)
        _bump(request.user, {old, obj.user_id})

    def delete_model(self, request, obj):
        user_id = obj.user_id
        super().delete_model(request, obj)
        _bump(request.user, {user_id})

    def delete_queryset(self, request, queryset):
        user_ids = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        _bump(request.user, user_ids)

    def save_formset(self, request, form, formset, change):
        touched = set()
        for f in formset.forms:
            if f.has_changed() or formset._should_delete_form(f):
                touched |= {f.initial.get("user"), f.instance.user_id}
        super().save_formset(request, form, formset, change)
        _bump(request.user, touched)


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
class HeadquartersAdmin(BumpsStaffVersionAdmin):
    list_display = ["name", "plan", "established_fy"]
    list_filter = ["plan"]
    search_fields = ["name"]
    inlines = [HeadquartersMemberInline]


@admin.register(HeadquartersMember)
class HeadquartersMemberAdmin(BumpsStaffVersionAdmin):
    list_display = ["title", "role", "user", "section"]
    list_filter = ["role", "headquarters"]
    search_fields = ["title", "user__username", "user__last_name"]
    autocomplete_fields = ["user", "section"]


class MembershipInline(admin.TabularInline):
    model = WorkingGroupMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(BumpsStaffVersionAdmin):
    list_display = ["name", "lead_section", "plan", "established_fy"]
    list_filter = ["plan", "lead_section"]
    search_fields = ["name", "description", "sections__name"]
    filter_horizontal = ["sections"]
    list_select_related = ["lead_section", "plan"]
    inlines = [MembershipInline]


@admin.register(WorkingGroupMembership)
class WorkingGroupMembershipAdmin(BumpsStaffVersionAdmin):
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
    raw_id_fields = ["user"]


def _demotes(profile_pk: Any, new_role: Any, deleting: bool = False) -> bool:
    """Whether a profile form takes an active secretariat member out of 事務局."""
    saved = StaffProfile.objects.filter(pk=profile_pk).select_related("user").first()
    return (
        saved is not None
        and saved.user.is_active
        and saved.role == SECRETARIAT
        and (deleting or new_role != SECRETARIAT)
    )


@admin.register(StaffProfile)
class StaffProfileAdmin(VersionedAdminMixin, SimpleHistoryAdmin):
    conflict_what = STAFF_WHAT
    list_display = ["__str__", "user", "section", "role"]
    list_filter = ["role", "section"]
    search_fields = ["display_name", "user__username", "user__last_name", "user__first_name"]
    list_select_related = ["user", "section"]
    autocomplete_fields = ["user", "section"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class LockoutCheckedForm(form_class):
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                if self.instance.pk and _demotes(self.instance.pk, cleaned.get("role")):
                    services.lockout_check(demote=[User.objects.get(pk=self.instance.user_id)])
                return cleaned

        LockoutCheckedForm.__name__ = form_class.__name__
        return LockoutCheckedForm

    def delete_model(self, request, obj):
        if _demotes(obj.pk, None, deleting=True):
            _refuse_lockout(demote=[obj.user])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        users = [p.user for p in queryset.select_related("user") if _demotes(p.pk, None, True)]
        _refuse_lockout(demote=users)
        super().delete_queryset(request, queryset)


class StaffProfileFormSet(BaseInlineFormSet):
    """The profile inline of the user form: taking 事務局 away is checked like on the screen."""

    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            cleaned = getattr(form, "cleaned_data", None)
            if cleaned and form.instance.pk and _demotes(form.instance.pk, cleaned.get("role")):
                services.lockout_check(demote=[User.objects.get(pk=self.instance.pk)])


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    formset = StaffProfileFormSet
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
        if not may_change_privileges(request.user):
            fields += [f for f in GROUP_PRIVILEGE_FIELDS if f not in fields]
        return fields


@admin.register(User)
class PortalUserAdmin(VersionedAdminMixin, UserAdmin, SimpleHistoryAdmin):
    """Staff accounts. A non-superuser sees privileges read-only and cannot change, reset the
    password of, or delete a superuser's account (that would be a way to become one).

    The change form carries the person's staff version (their profile's) like the staff
    screen; deactivating or taking superuser status is refused when it would leave none."""

    inlines = [StaffProfileInline]
    conflict_what = STAFF_WHAT

    def version_holder(self, obj: Any) -> Any:
        return StaffProfile.objects.filter(user=obj).first()

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and self.version_holder(obj) is not None:
            fieldsets.append((None, {"fields": ["version"], "classes": ["hidden"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form_class

        class LockoutCheckedForm(form_class):
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                saved = User.objects.get(pk=self.instance.pk)
                change: dict[str, list[Any]] = {}
                if saved.is_active and cleaned.get("is_active") is False:
                    change["deactivate"] = [saved]
                if saved.is_superuser and cleaned.get("is_superuser", True) is False:
                    change["unsuper"] = [saved]
                services.lockout_check(**change)
                return cleaned

        LockoutCheckedForm.__name__ = form_class.__name__
        return LockoutCheckedForm

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            services.staff_version_bump(actor=request.user, user=form.instance)

    def delete_model(self, request, obj):
        _refuse_lockout(deactivate=[obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        _refuse_lockout(deactivate=list(queryset))
        super().delete_queryset(request, queryset)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not may_change_privileges(request.user):
            fields += [f for f in USER_PRIVILEGE_FIELDS if f not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and not may_change_account(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not may_change_account(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # A service account is API-only: the admin gives it no password either.
        person = self.get_object(request, unquote(id))
        if person is not None and not may_have_password(person):
            raise PermissionDenied(MSG_SERVICE_ACCOUNT_PASSWORD)
        return super().user_change_password(request, id, form_url)

    list_display = ["username", "last_name", "first_name", "email", "is_active", "is_staff"]
    list_select_related = ["profile", "profile__section"]
    list_filter = ["is_active", "is_staff", "profile__role", "profile__section"]
