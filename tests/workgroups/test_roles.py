import pytest

from workgroups.access import roles_for

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
