import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from workgroups.access import roles_for, signed_in

pytestmark = pytest.mark.django_db


def test_roles_of_each_persona(personas):
    p = personas
    assert roles_for(p.secretariat).secretariat and roles_for(p.secretariat).can_edit_wg(
        p.other_wg.pk
    )
    assert roles_for(p.hq).headquarters and not roles_for(p.hq).can_edit_wg(p.wg.pk)
    leader = roles_for(p.leader)
    assert leader.leads_wg(p.wg.pk) and leader.can_edit_wg(p.wg.pk)
    assert not leader.can_edit_wg(p.other_wg.pk)
    member = roles_for(p.member)
    assert member.can_edit_wg(p.wg.pk) and not member.leads_wg(p.wg.pk)
    assert not roles_for(p.other_member).can_edit_wg(p.wg.pk)
    viewer = roles_for(p.viewer)
    assert viewer.reads_everything and not viewer.member_wg_ids and not viewer.secretariat


def test_inactive_user_has_no_roles(personas):
    personas.secretariat.is_active = False
    assert not roles_for(personas.secretariat).authenticated


def _fresh(user):
    """The user as the next request loads it: nothing cached on the object."""
    return type(user).objects.get(pk=user.pk)


def test_roles_are_one_query_per_request_whatever_the_memberships(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factory import make_membership, make_user
    from workgroups.models import HeadquartersMember, WorkingGroup

    p = personas
    busy = make_user("busy", section="情報推進課")  # no profile role, three WGs, an HQ seat
    wgs = list(WorkingGroup.objects.filter(plan=p.wg.plan).order_by("name")[:3])
    make_membership(busy, wgs[0], leader=True)
    make_membership(busy, wgs[1])
    make_membership(busy, wgs[2], leader=True)
    seat = HeadquartersMember.objects.exclude(user=p.hq).first()
    seat.user = busy
    seat.save()
    nobody = make_user("nobody")  # no section, no WG, no seat
    nobody.profile.delete()  # and no profile at all: plain staff

    expected = {
        "secretariat": (True, True, False, set(), set()),
        "hq": (True, False, True, set(), set()),
        "leader": (True, False, False, {p.wg.pk}, {p.wg.pk}),
        "member": (True, False, False, set(), {p.wg.pk}),
        "viewer": (True, False, False, set(), set()),
        "busy": (True, False, True, {wgs[0].pk, wgs[2].pk}, {w.pk for w in wgs}),
        "nobody": (True, False, False, set(), set()),
    }
    users = {**{k: getattr(p, k) for k in expected if hasattr(p, k)}, "busy": busy}
    users["nobody"] = nobody
    assert len(users) == len(expected)
    for name, want in expected.items():
        user = _fresh(users[name])
        with CaptureQueriesContext(connection) as ctx:
            roles = roles_for(user)
            assert roles_for(user) is roles  # cached on the user object: the request's
        assert len(ctx.captured_queries) == 1, name
        got = (
            roles.authenticated,
            roles.secretariat,
            roles.headquarters,
            set(roles.led_wg_ids),
            set(roles.member_wg_ids),
        )
        assert got == want, name


def test_superuser_is_secretariat_without_a_profile_role(personas):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 20)
    assert roles_for(_fresh(root)).secretariat


def test_signed_in_is_the_person_and_refuses_an_anonymous_request(personas, rf):
    request = rf.get("/")
    request.user = personas.secretariat
    assert signed_in(request) == personas.secretariat
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        signed_in(request)
