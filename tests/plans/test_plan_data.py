"""The loaded data must say what the plan document says (第1.0版, 令和4年2月)."""

from datetime import date

import pytest

from initiatives.models import (
    CountableTarget,
    Initiative,
    ProjectUnderWay,
    StandardSystem,
)
from plans.models import (
    BasicPolicy,
    Lease,
    NationalItem,
    PlanVersion,
    RelatedPlan,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)
from workgroups.models import Headquarters, Secretariat, Section, WorkingGroup

pytestmark = pytest.mark.django_db

# Every project already under way, as the document lists it (era, name, section), per initiative.
PROJECTS = {
    "1.2": [
        ("H30", 2018, "河川カメラの設置及びWEB公開", "都市建設課"),
        ("R2", 2020, "市内小中学校にてGIGAスクール開始", "学校教育課"),
        ("R3", 2021, "子ども園登園等確認システム(ゴドモン)導入", "子育て支援課"),
    ],
    "2.1": [
        ("R3", 2021, "電子申請サービス開始", "情報推進課"),
        ("H29", 2017, "国提供「ぴったりサービス」開始", "子育て支援課"),
        ("H29", 2017, "証明書のコンビニ交付開始", "市民生活課"),
    ],
    "2.2": [
        ("R03", 2021, "ホームページ運用システムを更新", "情報推進課"),
        ("R03", 2021, "かほく市公式LINEを開設", "情報推進課"),
        ("H25", 2013, "にゃんたろうfacebookを開設", "産業振興課"),
        ("H26", 2014, "シティプロモーション事業の一環としてYouTubeチャンネルを開設", "企画振興課"),
    ],
    "2.3": [
        ("R3", 2021, "大型商業施設にて「かほく市マイナンバーカードコーナー」を開設", "市民生活課")
    ],
    "2.4": [("H30", 2018, "いきいきステーションにてスマホの活用教室開催", "長寿介護課")],
    "3.2": [
        ("R3", 2021, "AI-OCR実証実験による電子カルテの運用", "健康福祉課"),
        ("R2", 2020, "行政手続きにおける押印の取り扱いの見直し", "総務課"),
    ],
    "3.3": [
        ("R3", 2021, "スキャナの全課配置", "情報推進課"),
        ("R3", 2021, "ペーパーレス会議の為のタブレット端末の整備", "情報推進課"),
        ("R3", 2021, "WEB会議対応の為の無線ネットワーク整備", "情報推進課"),
        ("R3", 2021, "情報系(LGWAN)ネットワークに無線機能を追加", "情報推進課"),
    ],
    "3.4": [("R3", 2021, "J-LISが実施している実証実験に参加", "総務課")],
    "3.5": [
        (
            "R3",
            2021,
            "石川中央都市圏(金沢市・白山市・野々市市・かほく市・津幡町・内灘町)による共通フォーマットによるオープンデータの公開",
            "企画振興課",
        )
    ],
    "4.1": [
        ("H28", 2016, "石川県セキュリティクラウドを通じたインターネット環境構築", "情報推進課"),
        ("H28", 2016, "ネットワーク強靱化事業によるセキュリティの向上", "情報推進課"),
    ],
}


def test_plan_period_theme_and_versions(plan):
    assert plan.name == "かほく市DX推進計画"
    # R8 is FY2026 (the source's "令和8年度(2023年度)" is a typo).
    assert (plan.start_fy, plan.end_fy) == (2021, 2026)
    assert plan.fiscal_years == [2021, 2022, 2023, 2024, 2025, 2026]
    assert plan.theme == "デジタル技術の有効活用により、市民が住みやすい「かほく市」を目指す"
    assert plan.goal == "誰もが便利で生活の豊かさを実感できるデジタル技術を活用した市役所"
    versions = list(PlanVersion.objects.filter(plan=plan).order_by("number"))
    assert [(v.number, v.issued_fy) for v in versions] == [("0.5", 2021), ("1.0", 2022)]
    assert versions[1].issued_on == date(2022, 2, 1)
    assert versions[1].issued_label == "令和4年2月"
    assert str(versions[1]) == "かほく市DX推進計画【第1.0版】"


def test_related_plans_and_national_items(plan):
    names = set(RelatedPlan.objects.filter(plan=plan).values_list("name", "kind"))
    assert names == {
        ("世界最先端デジタル国家創造宣言・官民データ活用推進基本計画", "related"),
        ("デジタル・ガバメント実行計画", "upper"),
        ("自治体DX推進計画", "upper"),
        ("石川県デジタル化推進計画", "related"),
        ("第2次かほく市総合計画", "upper"),
    }
    items = list(NationalItem.objects.values_list("number", "title"))
    assert len(items) == 7
    assert items[0] == (1, "サービスデザイン・業務改革(BPR)の徹底")
    assert items[5] == (6, "デジタルデバイド対策・広報等の実施")
    assert str(NationalItem.objects.get(number=7)).startswith("⑦")


def test_policies_and_initiatives(plan):
    policies = list(BasicPolicy.objects.filter(plan=plan))
    assert [(p.number, p.title) for p in policies] == [
        (1, "産業・生活のデジタル化"),
        (2, "行政サービスの利便性向上"),
        (3, "行政事務の効率化"),
        (4, "安全・安心のデジタル基盤強化"),
    ]
    counts = {p.number: p.initiatives.count() for p in policies}
    assert counts == {1: 3, 2: 4, 3: 5, 4: 1}
    flags = {
        i.code: i.flag for i in Initiative.objects.for_plan(plan).select_related("policy") if i.flag
    }
    assert flags == {
        "1.1": "municipal_dx",
        "1.2": "municipal_dx",
        "1.3": "municipal_dx",
        "2.1": "national_priority",
        "2.3": "national_priority",
        "2.4": "municipal_dx",
        "3.1": "national_priority",
        "3.4": "national_priority",
    }
    titles = {i.code: i.title for i in Initiative.objects.for_plan(plan).select_related("policy")}
    assert titles["2.1"] == "行政サービスのオンライン化"
    assert titles["2.4"] == "デジタルデバイド対策"
    assert titles["3.1"] == "自治体の情報システムの標準化・共通化"
    assert titles["4.1"] == "外部からの不正アクセスへの対応"


def test_encoding_slips_are_corrected(plan):
    texts = " ".join(
        f"{i.title} {i.description}" for i in Initiative.objects.for_plan(plan)
    ) + " ".join(NationalItem.objects.values_list("title", flat=True))
    assert "й" not in texts
    assert "情報発信雄充実" not in texts and "情報発信の充実を図ります" in texts
    assert "価値の送出" not in texts and "新たな価値の創出" in texts
    assert "デジタルデバイド対策" in texts


def test_every_project_under_way_with_year_and_section(plan):
    assert ProjectUnderWay.objects.count() == 22
    actual = {}
    for p in ProjectUnderWay.objects.select_related("initiative__policy", "section"):
        actual.setdefault(p.initiative.code, []).append(
            (p.era_label, p.fiscal_year, p.name, p.section.name)
        )
    assert actual == PROJECTS
    assert str(ProjectUnderWay.objects.get(name="電子申請サービス開始")) == (
        "R3 電子申請サービス開始:情報推進課"
    )


def test_organisation(plan):
    assert set(Section.objects.values_list("name", flat=True)) == {
        "情報推進課", "総務課", "企画振興課", "産業振興課", "市民生活課",
        "子育て支援課", "学校教育課", "都市建設課", "長寿介護課", "健康福祉課",
    }  # fmt: skip
    assert Secretariat.objects.get(plan=plan).section.name == "情報推進課"
    hq = Headquarters.objects.get(plan=plan)
    assert hq.name == "かほく市DX推進本部"
    assert hq.established_fy == 2021
    assert hq.members.get(role="chief").title == "市長"
    wgs = WorkingGroup.objects.filter(plan=plan)
    assert wgs.count() == 7
    multi = wgs.get(name="生活の安全・安心WG")
    assert set(multi.sections.values_list("name", flat=True)) == {
        "子育て支援課",
        "学校教育課",
        "都市建設課",
    }
    assert not Initiative.objects.for_plan(plan).filter(working_group=None).exists()


def _cells_by_year():
    counts = {}
    for cell in ScheduleCell.objects.all():
        counts[cell.fiscal_year] = counts.get(cell.fiscal_year, 0) + 1
    return counts


def test_schedule_table_4_1(plan):
    items = list(ScheduleItem.objects.filter(plan=plan))
    assert len(items) == 8
    assert [i.title for i in items][:3] == [
        "かほく市総合計画",
        "かほく市DX推進計画",
        "オンライン申請",
    ]
    assert ScheduleRow.objects.filter(item__plan=plan).count() == 12
    assert ScheduleRow.objects.filter(item__title="かほく市DX推進計画関連").count() == 2
    assert ScheduleCell.objects.count() == 34
    assert _cells_by_year() == {2021: 7, 2022: 9, 2023: 5, 2024: 5, 2025: 6, 2026: 2}
    assert not ScheduleCell.objects.filter(row__item__title="かほく市総合計画").exists()
    dx = ScheduleCell.objects.filter(row__item__title="かほく市DX推進計画")
    assert sorted(dx.values_list("fiscal_year", flat=True)) == list(range(2021, 2027))
    assert set(dx.values_list("kind", "text")) == {("marker", "○")}
    online = ScheduleCell.objects.get(row__item__title="オンライン申請")
    assert (online.fiscal_year, online.text) == (2022, "年度末迄に27申請のオンライン化完了")
    g1 = ScheduleCell.objects.filter(row__sub_title="第1グループ").order_by("fiscal_year")
    assert [(c.fiscal_year, c.text) for c in g1] == [
        (2021, "夏頃に住基2.0版、その他1.0版策定"),
        (2025, "R7年度末までに標準化・共通化システム(ガバメント・クラウド)への移行完了"),
    ]
    g2 = ScheduleCell.objects.get(row__sub_title="第2グループ")
    assert (g2.fiscal_year, g2.text) == (2022, "夏頃に標準仕様書策定")
    related = ScheduleRow.objects.filter(item__title="かほく市DX推進計画関連").order_by("line")
    assert [
        [(c.fiscal_year, c.text) for c in r.cells.order_by("fiscal_year")] for r in related
    ] == [
        [(2021, "DX推進計画【第0.5版】策定"), (2022, "DX推進計画【第1.0版】策定")],
        [(2021, "DX推進本部設置"), (2022, "DX推進WG設置")],
    ]


def test_leases_and_their_yearly_status(plan):
    leases = list(Lease.objects.filter(plan=plan).select_related("schedule_row"))
    assert len(leases) == 4
    by_name = {lease.name: lease.status_by_year() for lease in leases}
    cycle = {
        2021: "リース中",
        2022: "リース中",
        2023: "リース中",
        2024: "リース最終年",
        2025: "(再リース)",
    }
    assert by_name == {
        "次期基幹系情報(住民記録系)更改機器賃貸借": cycle,
        "次期基幹系情報システム(福祉系)更改機器賃貸借": cycle,
        "内部情報系財務会計システム等更改機器賃貸借": cycle,
        "情報系及び基幹系資産管理システム更改機器賃貸借": {
            fy: "リース中" for fy in range(2022, 2027)
        },
    }
    assert leases[0].last_lease_year == 2024
    assert leases[0].status_for(2026) == ""


def test_countable_targets_and_the_20_systems(plan):
    online = CountableTarget.objects.get(code="online-procedures")
    assert (online.target_count, online.deadline) == (27, date(2023, 3, 31))
    assert online.initiative.code == "2.1"
    systems = CountableTarget.objects.get(code="standard-systems")
    assert (systems.target_count, systems.deadline) == (20, date(2026, 3, 31))
    per_group = {
        g.number: [s.name for s in g.systems.order_by("number")] for g in systems.groups.all()
    }
    assert {k: len(v) for k, v in per_group.items()} == {1: 8, 2: 9, 3: 3}
    assert per_group[3] == ["戸籍", "戸籍の附表", "印鑑登録"]
    assert StandardSystem.objects.count() == 20
    assert str(StandardSystem.objects.get(number=20)) == "⑳印鑑登録"
    assert str(StandardSystem.objects.get(number=1)) == "①住民基本台帳"
    assert systems.groups.get(number=2).schedule_row.sub_title == "第2グループ"
