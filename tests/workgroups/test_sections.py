"""Sections renamed, merged and split from a fiscal year on: past records keep their section."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from initiatives.models import ProjectUnderWay
from workgroups.models import Section, StaffProfile, WorkingGroup
from workgroups.services import section_merge, section_rename, section_split

pytestmark = pytest.mark.django_db
TODAY_FY = 2026


def _h30_project():
    return ProjectUnderWay.objects.select_related("initiative").get(
        section__name="長寿介護課", fiscal_year=2018
    )


def test_rename_keeps_the_old_name_on_older_records(client, personas):
    project = _h30_project()
    section = project.section
    section_rename(
        actor=personas.secretariat,
        section=section,
        new_name="介護福祉課",
        effective_fy=2026,
        today_fy=TODAY_FY,
    )
    section.refresh_from_db()
    assert section.name == "介護福祉課"  # today's name
    project = ProjectUnderWay.objects.get(pk=project.pk)
    assert project.section_then == "長寿介護課"  # the H30 project keeps its name
    assert project.section_now == "介護福祉課"
    assert section.name_as_of(2025) == "長寿介護課" and section.name_as_of(2026) == "介護福祉課"
    client.force_login(personas.member)
    page = client.get(reverse("initiatives:detail", args=[project.initiative.pk])).content.decode()
    assert "長寿介護課" in page and "現: 介護福祉課" in page
    assert section.names.get().history.first().history_user == personas.secretariat


def test_rename_for_next_year_waits_for_april(personas):
    section = Section.objects.get(name="長寿介護課")
    section_rename(
        actor=personas.secretariat,
        section=section,
        new_name="介護福祉課",
        effective_fy=TODAY_FY + 1,
        today_fy=TODAY_FY,
    )
    section.refresh_from_db()
    assert section.name == "長寿介護課"
    assert section.name_as_of(TODAY_FY + 1) == "介護福祉課"


def test_apply_section_names_command_puts_the_year_s_names_in_place(personas, settings):
    from workgroups.models import SectionName

    section = Section.objects.get(name="長寿介護課")
    SectionName.objects.create(
        section=section, name="介護福祉課", previous_name="長寿介護課", valid_from_fy=2026
    )
    call_command("apply_section_names", stdout=open("/dev/null", "w"))
    section.refresh_from_db()
    assert section.name == "介護福祉課"


@pytest.mark.parametrize(
    "new_name,fy,message",
    [
        ("総務課", 2026, "課名「総務課」はほかの課が使っています。"),
        ("", 2026, "新しい課名を入力してください。"),
        ("介護福祉課", 2029, "名称変更は今年度か来年度からのものを登録してください。"),
    ],
)
def test_rename_refusals_are_clear(personas, new_name, fy, message):
    section = Section.objects.get(name="長寿介護課")
    with pytest.raises(ValidationError) as exc:
        section_rename(
            actor=personas.secretariat,
            section=section,
            new_name=new_name,
            effective_fy=fy,
            today_fy=TODAY_FY,
        )
    assert message in str(exc.value)


def test_merge_moves_what_is_current_and_keeps_the_past(personas):
    kaigo = Section.objects.get(name="長寿介護課")
    kenko = Section.objects.get(name="健康福祉課")
    project = _h30_project()
    personas.viewer.profile.section = kaigo
    personas.viewer.profile.save()
    merged = section_merge(
        actor=personas.secretariat,
        sources=[kaigo, kenko],
        target_name="健康福祉課",
        effective_fy=2026,
        today_fy=TODAY_FY,
    )
    assert merged.pk == kenko.pk
    kaigo.refresh_from_db()
    assert kaigo.ended_fy == 2025 and not kaigo.is_active
    assert list(merged.predecessors.all()) == [kaigo]
    personas.viewer.profile.refresh_from_db()
    assert personas.viewer.profile.section == merged
    assert StaffProfile.objects.filter(section=kaigo).count() == 0
    project = ProjectUnderWay.objects.get(pk=project.pk)
    assert project.section == kaigo  # the H30 record still names 長寿介護課
    assert (project.section_then, project.section_now) == ("長寿介護課", "健康福祉課")
    assert not WorkingGroup.objects.filter(lead_section=kaigo).exists()


def test_merge_into_a_new_section_and_refusals(personas):
    a = Section.objects.get(name="長寿介護課")
    b = Section.objects.get(name="健康福祉課")
    with pytest.raises(ValidationError, match="2つ以上"):
        section_merge(
            actor=personas.secretariat,
            sources=[a],
            target_name="長寿介護課",
            effective_fy=2026,
            today_fy=TODAY_FY,
        )
    new = section_merge(
        actor=personas.secretariat,
        sources=[a, b],
        target_name="福祉部介護健康課",
        effective_fy=2026,
        today_fy=TODAY_FY,
    )
    assert set(new.predecessors.values_list("name", flat=True)) == {"長寿介護課", "健康福祉課"}
    with pytest.raises(ValidationError, match="すでに統合・分割で廃止された課です"):
        section_merge(
            actor=personas.secretariat,
            sources=[Section.objects.get(pk=a.pk), new],
            target_name="福祉部介護健康課",
            effective_fy=2026,
            today_fy=TODAY_FY,
        )


def test_split_ends_the_source_and_names_successors(personas):
    source = Section.objects.get(name="長寿介護課")
    created = section_split(
        actor=personas.secretariat,
        source=source,
        new_names=["介護保険課", "地域包括支援課"],
        effective_fy=2026,
        today_fy=TODAY_FY,
    )
    assert [s.name for s in created] == ["介護保険課", "地域包括支援課"]
    source.refresh_from_db()
    assert source.ended_fy == 2025
    project = ProjectUnderWay.objects.get(pk=_h30_project().pk)
    assert project.section_now == "介護保険課・地域包括支援課"
    with pytest.raises(ValidationError, match="2つ以上"):
        section_split(
            actor=personas.secretariat,
            source=created[0],
            new_names=["ひとつだけ"],
            effective_fy=2026,
            today_fy=TODAY_FY,
        )


def test_sections_screen_renames_with_typed_fiscal_year(client, personas):
    client.force_login(personas.secretariat)
    section = Section.objects.get(name="長寿介護課")
    response = client.post(
        reverse("workgroups:sections"),
        {
            "kind": "rename",
            "rename-section": section.pk,
            "rename-new_name": "介護福祉課",
            "rename-effective": "令和８年度",
        },
        follow=True,
    )
    assert "「長寿介護課」を「介護福祉課」に改称します" in response.content.decode()
    section.refresh_from_db()
    assert section.name == "介護福祉課"
    bad = client.post(
        reverse("workgroups:sections"),
        {"kind": "merge", "merge-target_name": "X課", "merge-effective": "R8"},
    )
    assert bad.status_code == 200 and "統合する課を選んでください。" in bad.content.decode()
    for who in ("hq", "member", "viewer"):
        client.force_login(getattr(personas, who))
        assert client.get(reverse("workgroups:sections")).status_code == 403


def test_loading_the_plan_again_after_a_rename_creates_no_second_section(personas):
    from reporting.services.loading import plan_load_file

    section = Section.objects.get(name="長寿介護課")
    section_rename(
        actor=personas.secretariat,
        section=section,
        new_name="介護福祉課",
        effective_fy=2026,
        today_fy=TODAY_FY,
    )
    before = Section.objects.count()
    report = plan_load_file()
    assert Section.objects.count() == before
    assert not Section.objects.filter(name="長寿介護課").exists()
    assert not report.created.get("課")
