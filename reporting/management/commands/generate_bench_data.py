"""Large data set for benchmarks: many initiatives, six fiscal years of progress and reviews.

Everything is written with simple-history's bulk_create_with_history, so the history tables
grow with the data exactly as they would in use (the dashboard reads them).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from initiatives.models import (
    CountableTarget,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    Review,
)
from plans.models import BasicPolicy, Plan
from portal_lib import era
from reporting.services.loading import plan_load_file
from workgroups.models import WorkingGroup

BENCH_PREFIX = "ベンチ取り組み"
BENCH_FIRST_NUMBER = 100


class Command(BaseCommand):
    help = (
        "ベンチマーク用の大量データ(取り組み・6年度分の進捗記録と振り返り・その履歴)を作成します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--initiatives", type=int, default=1000)
        parser.add_argument("--entries", type=int, default=50000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--reset", action="store_true", help="作成済みのベンチデータを削除して作り直す"
        )

    def handle(self, *args, initiatives: int, entries: int, seed: int, reset: bool, **options):
        if initiatives < 1 or entries < 0:
            raise CommandError("--initiatives は1以上、--entries は0以上を指定してください。")
        rng = random.Random(seed)
        plan = Plan.objects.order_by("start_fy").first()
        if plan is None:
            plan_load_file()
            plan = Plan.objects.order_by("start_fy").first()
        existing = Initiative.objects.filter(policy__plan=plan, title__startswith=BENCH_PREFIX)
        if existing.exists():
            if not reset:
                raise CommandError(
                    "ベンチデータは作成済みです。作り直す場合は --reset を付けてください。"
                )
            ProgressEntry.objects.filter(initiative__in=existing).delete()
            Review.objects.filter(initiative__in=existing).delete()
            existing.delete()

        policies = list(BasicPolicy.objects.filter(plan=plan).order_by("number"))
        wgs = list(WorkingGroup.objects.filter(plan=plan).select_related("lead_section"))
        years = plan.fiscal_years
        with transaction.atomic():
            new = []
            for n in range(initiatives):
                policy = policies[n % len(policies)]
                wg = rng.choice(wgs)
                new.append(
                    Initiative(
                        policy=policy,
                        number=BENCH_FIRST_NUMBER + n // len(policies),
                        title=f"{BENCH_PREFIX}{n + 1:04d}",
                        description="ベンチマーク用のデータです。",
                        working_group=wg,
                        lead_section=wg.lead_section,
                    )
                )
            created = bulk_create_with_history(new, Initiative, batch_size=500)
            created = list(
                Initiative.objects.filter(policy__plan=plan, title__startswith=BENCH_PREFIX)
            )
            statuses = [s for s, _ in ProgressStatus.choices]
            weights = [1, 6, 2, 2, 1]
            start = era.fiscal_year_start(years[0])
            # Progress is logged up to today, never in the future.
            last = min(era.fiscal_year_end(years[-1]), timezone.localdate())
            days = (last - start).days
            progress = []
            taken: set[tuple[int, date]] = set()  # one entry per initiative and day
            entries = min(entries, len(created) * (days + 1))
            while len(progress) < entries:
                day = start + timedelta(days=rng.randrange(days + 1))
                ini = rng.choice(created)
                if (ini.pk, day) in taken:
                    continue
                taken.add((ini.pk, day))
                status = rng.choices(statuses, weights)[0]
                percent = 100 if status == "done" else rng.randrange(0, 100)
                progress.append(
                    ProgressEntry(
                        initiative=ini,
                        entry_date=day,
                        fiscal_year=era.fiscal_year_of(day),
                        status=status,
                        percent=percent,
                        done_text="定例の進捗報告",
                    )
                )
            bulk_create_with_history(progress, ProgressEntry, batch_size=2000)
            states = [s for s, _ in Review.State.choices]
            reviews = [
                Review(
                    initiative=ini,
                    fiscal_year=fy,
                    state=rng.choice(states),
                    carry_over=rng.choice(["", "continue", "expand", "complete"]),
                )
                for ini in created
                for fy in years
                if rng.random() < 0.7
            ]
            bulk_create_with_history(reviews, Review, batch_size=2000)
            target = CountableTarget.objects.filter(plan=plan, code="online-procedures").first()
            procs = 0
            if target is not None and not target.procedures.exists():
                first = date(2021, 6, 1)
                bulk_create_with_history(
                    [
                        OnlineProcedure(
                            target=target,
                            number=i,
                            name=f"ベンチ手続{i}",
                            status="online",
                            online_on=first + timedelta(days=rng.randrange(900)),
                        )
                        for i in range(1, 28)
                    ],
                    OnlineProcedure,
                )
                procs = 27
        self.stdout.write(
            f"取り組み {len(created)}件、進捗記録 {len(progress)}件、振り返り {len(reviews)}件、"
            f"オンライン化手続 {procs}件を作成しました(履歴を含む)。"
        )
