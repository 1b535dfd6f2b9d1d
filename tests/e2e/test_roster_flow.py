"""Browser: the secretariat imports the April roster and the staff list shows the moves."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import axe_check, e2e_login
from tests.workgroups.test_roster import person, roster_xlsx
from workgroups.models import StaffProfile, WorkingGroupMembership


def test_secretariat_uploads_previews_and_confirms_a_roster(page, live_server, personas, tmp_path):
    # 北 is already on file (職員番号 2001, 情報推進課); the roster moves him to 総務課 as
    # leader of 総務課WG and adds 南.
    kita = personas.member
    StaffProfile.objects.filter(user=kita).update(staff_number="2001", display_name="北 一郎")
    rows = [
        person(
            "２００１", "総務課", "北 一郎", **{"DX推進WG": "総務課WG", "WGでの役割": "リーダー"}
        ),
        person("2002", "総務課", "南 花子"),
    ]
    path = tmp_path / "meibo.xlsx"
    path.write_bytes(roster_xlsx(rows))

    e2e_login(page, live_server, personas.secretariat)
    page.goto(f"{live_server.url}/organisation/staff/")
    page.get_by_role("link", name="職員名簿（Excel）の取り込み").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="読み込んで変更内容を確認").click()
    main = page.locator("main")
    expect(main).to_contain_text("追加 1人、変更 1人、無効化 0人")
    expect(main).to_contain_text("総務課WG(WG長)")
    axe_check(page)
    assert not StaffProfile.objects.filter(staff_number="2002").exists()

    page.get_by_role("button", name="この内容で取り込む").click()
    expect(page.locator(".messages")).to_contain_text("職員名簿を取り込みました")
    expect(page).to_have_url(f"{live_server.url}/organisation/staff/roster/done/")
    expect(page.locator("main")).to_contain_text("南 花子")
    axe_check(page)
    page.get_by_role("link", name="職員一覧へ").click()
    expect(page).to_have_url(f"{live_server.url}/organisation/staff/")
    row = page.locator("tr", has_text="北 一郎")
    expect(row).to_contain_text("総務課")
    expect(row).to_contain_text("総務課WG（WG長）")
    expect(page.locator("main")).to_contain_text("南 花子")
    assert WorkingGroupMembership.objects.get(user=kita).working_group == personas.other_wg
