"""The WG of a countable target (CountableTarget.working_group_id, from its linked
initiative) decides who may edit the 27 procedures and the 20 systems: the list pages'
edit buttons, the edit pages and the services all ask that one property."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from initiatives import services
from initiatives.models import CountableTarget, OnlineProcedure, StandardSystem
from tests.factory import initiative, make_procedure

pytestmark = pytest.mark.django_db

PERSONAS = ["viewer", "member", "other_member", "leader", "secretariat", "hq"]
# Which personas may edit, by the initiative the target is linked to.
EDITORS = {
    "2.1": {"member", "leader", "secretariat"},  # 情報推進課WG
    "3.2": {"other_member", "secretariat"},  # 総務課WG
    None: {"secretariat"},  # unlinked: nobody's WG
}


def _link(code: str, initiative_code: str | None) -> CountableTarget:
    target = CountableTarget.objects.get(code=code)
    target.initiative = initiative(initiative_code) if initiative_code else None
    target.save()
    return target


def _page_allows(client, user, list_url: str, edit_url: str) -> bool:
    client.force_login(user)
    shown = edit_url in client.get(list_url).content.decode()
    status = client.get(edit_url).status_code
    assert status == (200 if shown else 403), "the list's edit button and the edit page disagree"
    return shown


def _service_allows(service, **kwargs) -> bool:
    try:
        service(**kwargs)
    except PermissionDenied:
        return False
    return True


@pytest.mark.parametrize("link", list(EDITORS))
def test_procedures_pages_and_services_follow_the_targets_wg(client, personas, link):
    target = _link("online-procedures", link)
    assert target.working_group_id == (initiative(link).working_group_id if link else None)
    proc = make_procedure(1, "児童手当の認定請求")
    list_url = reverse("initiatives:procedures")
    allowed_pages, allowed_services = set(), set()
    for name in PERSONAS:
        user = getattr(personas, name)
        if _page_allows(
            client, user, list_url, reverse("initiatives:procedure_edit", args=[proc.pk])
        ):
            allowed_pages.add(name)
        if _service_allows(
            services.online_procedure_update,
            actor=user,
            procedure=proc,
            version=OnlineProcedure.objects.get(pk=proc.pk).version,
            name=f"手続{name}",
        ) and _service_allows(
            services.online_procedure_create, actor=user, target=target, name=f"新{name}"
        ):
            allowed_services.add(name)
    assert allowed_pages == allowed_services == EDITORS[link]
    assert OnlineProcedure.objects.filter(name__startswith="新").count() == len(EDITORS[link])


@pytest.mark.parametrize("link", list(EDITORS))
def test_systems_pages_and_service_follow_the_targets_wg(client, personas, link):
    _link("standard-systems", link)
    system = StandardSystem.objects.order_by("number").first()
    list_url = reverse("initiatives:systems")
    allowed_pages, allowed_services = set(), set()
    for name in PERSONAS:
        user = getattr(personas, name)
        if _page_allows(
            client, user, list_url, reverse("initiatives:system_edit", args=[system.pk])
        ):
            allowed_pages.add(name)
        if _service_allows(
            services.standard_system_update,
            actor=user,
            system=system,
            version=StandardSystem.objects.get(pk=system.pk).version,
            phase="fit_gap",
        ):
            allowed_services.add(name)
    assert allowed_pages == allowed_services == EDITORS[link]


def test_changing_the_property_changes_pages_and_services(client, personas, monkeypatch):
    """Were the target's WG defined otherwise (here: always 総務課WG), both would follow."""
    monkeypatch.setattr(
        CountableTarget, "working_group_id", property(lambda self: personas.other_wg.pk)
    )
    proc = make_procedure(1, "児童手当の認定請求")
    edit_url = reverse("initiatives:procedure_edit", args=[proc.pk])
    list_url = reverse("initiatives:procedures")
    assert _page_allows(client, personas.other_member, list_url, edit_url)
    assert not _page_allows(client, personas.member, list_url, edit_url)
    services.online_procedure_update(
        actor=personas.other_member, procedure=proc, version=1, name="変更"
    )
    with pytest.raises(PermissionDenied):
        services.online_procedure_update(
            actor=personas.member, procedure=proc, version=2, name="変更2"
        )
