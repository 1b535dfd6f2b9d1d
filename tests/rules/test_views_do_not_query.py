"""Views do not query: they ask an object getter in their app's access module (or a selector)
for what they show, and a service for what they write (docs/style.md, "Views and access").

The rule, read from each view module's syntax tree (a view module is every ``views.py`` or
``*_views.py`` of an app and every module of a ``views/`` package):

1. no ``.objects`` (nor ``._default_manager`` / ``._base_manager``) attribute anywhere: a
   view never reaches a model's manager;
2. no call of ``get_object_or_404`` / ``get_list_or_404`` (the access getters use them);
3. no call of a method only a queryset or a manager has (``QUERYSET_ONLY`` below), whatever
   it is called on: ``Model.objects``, a related manager (``plan.policies.order_by(...)``)
   or a queryset a selector handed over.

Not counted: ``.all()`` on a relation (it reads what the getter prefetched), and ``.get`` /
``.count`` / ``.update`` / ``.delete`` / ``.create`` / ``.values``, which dicts, lists,
sessions and forms also have: on a manager they are caught by rule 1.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("kahoku_dx", "plans", "workgroups", "initiatives", "reporting")

MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
SHORTCUTS = frozenset({"get_object_or_404", "get_list_or_404"})
QUERYSET_ONLY = frozenset(
    {
        "filter",
        "exclude",
        "select_related",
        "prefetch_related",
        "order_by",
        "values_list",
        "annotate",
        "aggregate",
        "alias",
        "only",
        "defer",
        "exists",
        "first",
        "last",
        "latest",
        "earliest",
        "distinct",
        "none",
        "in_bulk",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "select_for_update",
        "raw",
        "extra",
        "iterator",
        "using",
    }
)


def view_modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts:
                continue
            if path.name == "views.py" or path.name.endswith("_views.py") or "views" in parts[:-1]:
                found.append(path)
    return sorted(found)


def queries_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for every breach of the rule in one module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in SHORTCUTS:
                found.append((node.lineno, f"{func.id}()"))
            elif isinstance(func, ast.Attribute) and func.attr in SHORTCUTS | QUERYSET_ONLY:
                found.append((node.lineno, f".{func.attr}()"))
    return sorted(found)


def test_the_scan_finds_the_view_modules():
    names = {str(p.relative_to(ROOT)) for p in view_modules()}
    assert {
        "initiatives/views.py",
        "reporting/views/dashboard.py",
        "reporting/views/drafting.py",
        "reporting/api/views.py",
        "reporting/api/account_views.py",
        "workgroups/views.py",
        "workgroups/account_views.py",
    } <= names
    assert not any(n.endswith(("access.py", "selectors.py", "services.py")) for n in names)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "Plan.objects.filter(code=c).first()",
            [(1, ".filter()"), (1, ".first()"), (1, ".objects")],
        ),
        ("x = Plan._default_manager", [(1, "._default_manager")]),
        ("get_object_or_404(Plan, pk=1)", [(1, "get_object_or_404()")]),
        ("shortcuts.get_object_or_404(Plan, pk=1)", [(1, ".get_object_or_404()")]),
        ("plan.policies.order_by('number')", [(1, ".order_by()")]),
        ("account.api_tokens.filter(revoked_at__isnull=True)", [(1, ".filter()")]),
        ("def f(qs):\n    return qs.exists()", [(2, ".exists()")]),
        # what dicts, sessions, forms and prefetched relations also do
        ("request.session.get('k'); d.values(); d.update(x); ini.reviews.all()", []),
        ("filter(None, rows); sorted(rows)", []),
    ],
)
def test_the_rule_on_examples(source, expected):
    assert queries_in(source) == expected


def test_views_do_not_query():
    breaches = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in view_modules()
        for line, what in queries_in(path.read_text("utf-8"))
    ]
    assert breaches == []
