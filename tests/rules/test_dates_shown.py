"""Dates and moments are shown one way across the portal (portal_lib.era.format_date through
the wareki / wareki_time filters): 和暦 with the weekday, a moment in Japan's time; ISO
only in files for machines and in <time datetime>."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.utils import translation

from portal_lib.templatetags.portal_format import wareki, wareki_full, wareki_time


def test_a_date_and_a_moment_read_the_same_way_everywhere():
    with translation.override("ja"):
        assert wareki(date(2026, 11, 2)) == "令和8年11月2日(月)"
        assert wareki_full(date(2026, 11, 2)) == "令和8年11月2日(月)(2026年)"
        # 15:30 UTC on 6 December is 00:30 on 7 December in Japan: the day a user saw
        moment = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
        assert wareki(moment) == "令和8年12月7日(月)"
        assert wareki_time(moment) == "令和8年12月7日(月) 00:30"
        assert wareki_time(date(2019, 4, 30)) == "平成31年4月30日(火)"
        assert wareki(None) == wareki_time(None) == ""
    with translation.override("en"):
        assert wareki_time(moment) == "R8.12.7 (Mon) 00:30"
