"""The tests' own two rules (issue 24): tests live by app or subject in a folder of `tests/`,
and every status assert pins one outcome.

- Directly under `tests/` only the shared helpers (conftest, factory, servers, the LDAP
  server); each test file is in a package folder (with `__init__.py`, so two folders may hold
  files of the same name).
- No assert accepts a set of HTTP statuses: not `status in (302, 403)`, not
  `status_code in {200, 404}`, not `r.status_code == 200 or r.status_code == 302`, not
  `status < 500`. Where the
  outcome really depends on something, the test says what: `== (302 if allowed else 403)`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
TOP_LEVEL_HELPERS = {"__init__.py", "conftest.py", "factory.py", "servers.py", "ldap_server.py"}


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 100 <= node.value <= 599


def _names_a_status(node: ast.AST) -> bool:
    """`status`, `status_code`, `response.status_code`, `post(...).status_code`, `x_status` …"""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    else:
        return False
    return name == "status" or name.endswith(("_status", "status_code"))


def multi_outcome_asserts(source: str) -> list[tuple[int, str]]:
    """(line, code) of each assert that accepts two or more HTTP statuses."""
    found = []
    for statement in ast.walk(ast.parse(source)):
        if not isinstance(statement, ast.Assert):
            continue
        for node in ast.walk(statement.test):
            if isinstance(node, ast.Compare):
                left = node.left
                for op, right in zip(node.ops, node.comparators, strict=True):
                    if isinstance(op, ast.In | ast.NotIn) and (
                        _names_a_status(left)
                        or (
                            isinstance(right, ast.Tuple | ast.Set | ast.List)
                            and sum(_is_status(e) for e in right.elts) >= 2
                        )
                    ):
                        found.append((statement.lineno, ast.unparse(statement.test)))
                    elif (
                        isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE)
                        and any(_names_a_status(side) for side in (left, right))
                        and any(_is_status(side) for side in (left, right))
                    ):
                        found.append((statement.lineno, ast.unparse(statement.test)))
                    left = right
            elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
                equal_to_a_status = [
                    v
                    for v in node.values
                    if isinstance(v, ast.Compare)
                    and any(isinstance(op, ast.Eq) for op in v.ops)
                    and any(_is_status(c) for c in [v.left, *v.comparators])
                ]
                if len(equal_to_a_status) >= 2:
                    found.append((statement.lineno, ast.unparse(statement.test)))
    return found


def _test_files() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def test_no_test_file_directly_under_tests():
    top = {p.name for p in TESTS.glob("*.py")}
    assert top - TOP_LEVEL_HELPERS == set(), "move these into tests/<app or subject>/"


def test_every_test_folder_is_a_package():
    folders = {p.parent for p in _test_files()}
    assert (
        sorted(str(f.relative_to(TESTS)) for f in folders if not (f / "__init__.py").exists()) == []
    )


@pytest.mark.parametrize(
    "code",
    [
        "assert response.status_code in (302, 403)",
        "assert status in {200, 404}",
        "assert r.status_code not in [500, 502]",
        "assert status in ALLOWED",
        "assert client.get(url).status_code in codes, url",
        "assert r.status_code == 200 or r.status_code == 302",
        "assert ok and (a.status_code == 302 or a.status_code == 403)",
        "assert x in (200, 404)",
        "assert all(status < 500 for status, _ in results)",
        "assert response.status_code >= 400",
    ],
)
def test_the_scan_finds_an_assert_accepting_two_statuses(code):
    assert [line for line, _ in multi_outcome_asserts(code)] == [1]


@pytest.mark.parametrize(
    "code",
    [
        "assert response.status_code == 302",
        "assert status == (302 if allowed else 403)",
        "assert status != 401 or other != 401",
        "assert 'status' in data",
        "assert data['status'] == 'ok'",
        "assert name in ('a', 'b')",
        "if status in (301, 302):\n    pass",
    ],
)
def test_the_scan_lets_one_outcome_pass(code):
    assert multi_outcome_asserts(code) == []


def test_no_status_assert_accepts_two_outcomes():
    found = [
        f"{path.relative_to(TESTS)}:{line}: {code}"
        for path in _test_files()
        for line, code in multi_outcome_asserts(path.read_text(encoding="utf-8"))
    ]
    assert found == []
