"""English is really available: the catalog is complete, compiled, and the pages switch.

Japanese is the source language; locale/en/LC_MESSAGES/django.po holds the English text.
After adding or changing a user-facing string:

    python manage.py makemessages -l en --ignore=.venv --ignore=staticfiles --ignore=test-artifacts
    (fill the new msgstr in django.po)
    python manage.py compilemessages --ignore=.venv

and commit both django.po and django.mo.
"""

import ast
import gettext as gettext_module
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.translation.template import templatize

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
TEMPLATE_DIR = BASE_DIR / "templates"
PYTHON_DIRS = ["kahoku_dx", "plans", "workgroups", "initiatives", "reporting"]

# Error pages render through errors/base_error.html with {% translate %} like the rest.
STANDALONE_PAGES: set[str] = set()


# --- the catalog --------------------------------------------------------------------------


def _unquote(line: str) -> str:
    return ast.literal_eval(line.strip())


def parse_po(path: Path) -> list[dict]:
    """A small PO reader (msgctxt, msgid, msgid_plural, msgstr, msgstr[n], flags)."""
    entries: list[dict] = []
    entry: dict | None = None
    field: tuple = ()
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"flags": set(), "ctx": None, "msgid": "", "plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if keyword == "msgctxt":
                field = ("ctx",)
            elif keyword == "msgid":
                field = ("msgid",)
            elif keyword == "msgid_plural":
                field = ("plural",)
            else:
                field = ("msgstr", int(index or 0))
            if len(field) == 1:
                entry[field[0]] = value
            else:
                entry["msgstr"][field[1]] = value
            continue
        assert line.startswith('"'), f"unexpected line in {path.name}: {line!r}"
        if len(field) == 1:
            entry[field[0]] += _unquote(line)
        else:
            entry["msgstr"][field[1]] += _unquote(line)
    return entries


@pytest.fixture(scope="module")
def catalog() -> dict[tuple[str | None, str], dict]:
    entries = parse_po(PO_PATH)
    return {(e["ctx"], e["msgid"]): e for e in entries if e["msgid"]}


PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")


def test_every_msgstr_is_filled_and_keeps_its_placeholders(catalog):
    assert len(catalog) > 300
    problems = []
    for (_ctx, msgid), entry in catalog.items():
        expected_forms = 2 if entry["plural"] is not None else 1
        translations = [entry["msgstr"].get(i, "") for i in range(expected_forms)]
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {msgid}")
        for text in translations:
            # A separator such as the ideographic space translates to a plain space.
            if not text or (not text.strip() and msgid.strip()):
                problems.append(f"empty msgstr: {msgid}")
            elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(msgid)):
                problems.append(f"placeholders differ: {msgid} -> {text}")
    assert problems == []


def test_compiled_catalog_matches_the_po_file(catalog):
    """django.mo is committed (fresh machines need no gettext tools) and must not be stale."""
    with MO_PATH.open("rb") as fh:
        compiled = gettext_module.GNUTranslations(fh)
    stale = []
    for (ctx, msgid), entry in catalog.items():
        if entry["plural"] is not None:
            key = f"{ctx}\x04{msgid}" if ctx else msgid
            got = [compiled._catalog.get((key, i)) for i in range(2)]
            want = [entry["msgstr"][0], entry["msgstr"][1]]
        else:
            got = compiled.pgettext(ctx, msgid) if ctx else compiled.gettext(msgid)
            want = entry["msgstr"][0]
        if got != want:
            stale.append(msgid)
    assert stale == [], "run: python manage.py compilemessages --ignore=.venv"


# --- every source string has a translation -------------------------------------------------

CALL = re.compile(
    r"\b(gettext|pgettext|ngettext|npgettext)\((\s*u'(?:[^'\\]|\\.)*'(?:\s*,\s*u'(?:[^'\\]|\\.)*')*)"
)
CONSTANT = re.compile(r"""\b_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\)""")


def template_messages(path: Path) -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs makemessages extracts from one template.

    Uses Django's own extractor (the one makemessages runs before xgettext), so
    {% translate %}, {% blocktranslate %} (with count/context/trimmed) and _("...")
    arguments are all covered, without needing the gettext tools installed.
    """
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found: set[tuple[str | None, str]] = set()
    for function, args in CALL.findall(source):
        strings = ast.literal_eval(f"({args},)")
        if function in {"pgettext", "npgettext"}:
            found.add((strings[0], strings[1]))
        else:
            found.add((None, strings[0]))
    for literal in CONSTANT.findall(source):
        found.add((None, ast.literal_eval(literal)))
    return found


def python_messages(path: Path) -> set[tuple[str | None, str]]:
    """String literals passed to gettext-style functions in a Python module."""
    names = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
    context_names = {"pgettext", "pgettext_lazy", "pgettext_noop", "npgettext", "npgettext_lazy"}
    found: set[tuple[str | None, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        literals = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        if node.func.id in names and literals:
            found.add((None, literals[0]))
        elif node.func.id in context_names and len(literals) >= 2:
            found.add((literals[0], literals[1]))
    return found


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATE_DIR.rglob("*.html") if p.name not in STANDALONE_PAGES)


def test_the_source_scan_finds_the_strings_we_know_about():
    """Guard the guard: the extractor really sees translate, blocktranslate and _()."""
    assert (None, "ホーム") in template_messages(TEMPLATE_DIR / "includes" / "nav.html")
    assert ("資料の作成者", "作成") in template_messages(
        TEMPLATE_DIR / "reporting" / "includes" / "report_heading.html"
    )
    dashboard = template_messages(TEMPLATE_DIR / "reporting" / "dashboard.html")
    assert (None, "%(fy)sのマイルストーン（表4-1）") in dashboard
    assert (None, "件（取り組み一覧）") in dashboard
    assert (None, "English") in python_messages(BASE_DIR / "kahoku_dx" / "settings.py")


def test_every_template_and_python_string_has_an_english_translation(catalog):
    sources: dict[tuple[str | None, str], str] = {}
    for path in _templates():
        for key in template_messages(path):
            sources.setdefault(key, str(path.relative_to(BASE_DIR)))
    for directory in PYTHON_DIRS:
        for path in sorted((BASE_DIR / directory).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for key in python_messages(path):
                sources.setdefault(key, str(path.relative_to(BASE_DIR)))
    assert len(sources) > 300
    untranslated = [
        f"{where}: {msgid}"
        for (ctx, msgid), where in sorted(sources.items(), key=lambda kv: kv[1])
        if not any(
            t and (t.strip() or not msgid.strip())
            for t in catalog.get((ctx, msgid), {"msgstr": {}})["msgstr"].values()
        )
    ]
    assert untranslated == [], "run makemessages -l en and translate the new strings"


# --- the pages ----------------------------------------------------------------------------


def _english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_login_page_in_english_with_the_language_cookie(client, db):
    _english(client)
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html
    assert "<title>Log in | Kahoku City DX Portal</title>" in html
    assert "<h1>Log in</h1>" in html
    assert (
        "If you have forgotten your password, please contact the Information Promotion Section"
        in html
    )
    assert "ログイン" not in html
    assert "パスワードを忘れた場合" not in html


def test_login_page_in_japanese_without_a_cookie(client, db):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja">' in html
    assert "<h1>ログイン</h1>" in html
    assert "パスワードを忘れた場合は、情報推進課（DX推進事務局）へお問い合わせください。" in html
    assert "Log in" not in html


def test_home_page_in_english_with_the_language_cookie(client, personas):
    client.force_login(personas.leader)
    _english(client)
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert "<title>Home | Kahoku City DX Portal</title>" in html
    assert ">Initiatives and progress</a>" in html
    assert ">Log out</button>" in html
    assert "My initiatives" in html
    assert "ホーム" not in html
    assert "担当の取り組み" not in html


def test_home_page_in_japanese_without_a_cookie(client, personas):
    client.force_login(personas.leader)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja">' in html
    assert "<title>ホーム | かほく市DX推進ポータル</title>" in html
    assert ">取り組み・進捗</a>" in html
    assert "担当の取り組み" in html
    assert "My initiatives" not in html


def test_initiative_list_in_english_with_the_language_cookie(client, personas):
    client.force_login(personas.member)
    _english(client)
    html = client.get(reverse("initiatives:list")).content.decode()
    assert '<html lang="en">' in html
    assert "<title>Initiatives | Kahoku City DX Portal</title>" in html
    assert "<h1>Initiatives " in html
    assert 'aria-label="Filter"' in html
    assert ">Filter</button>" in html
    assert re.search(r"<p>\d+ initiatives</p>", html)
    assert "取り組み一覧" not in html
    assert "絞り込む" not in html


def test_initiative_list_in_japanese_without_a_cookie(client, personas):
    client.force_login(personas.member)
    html = client.get(reverse("initiatives:list"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja">' in html
    assert "<h1>取り組み一覧 " in html
    assert ">絞り込む</button>" in html
    assert re.search(r"<p>\d+ 件</p>", html)
    assert "Initiatives" not in html


def test_the_language_switch_in_the_header_turns_the_pages_english(client, db):
    response = client.post(
        reverse("set_language"),
        {"language": "en", "next": reverse("login")},
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html


@pytest.mark.django_db
def test_browser_language_does_not_switch_the_portal_to_english(client):
    """Japanese by default: only the language switch (its cookie) turns English on."""
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = response.content.decode()
    assert '<html lang="ja">' in body
    assert "ログイン" in body and "Log in" not in body
    assert response["Content-Language"] == "ja"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"  # unknown value: still Japanese
    assert '<html lang="ja">' in client.get("/accounts/login/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja")
    assert '<html lang="en">' in response.content.decode()
    assert response["Content-Language"] == "en"


# --- no untranslated text in templates ------------------------------------------------------

# Japanese script: kana, kanji, and the full-width punctuation and forms that come with them
# (（）、。・「」： and the ideographic space), which would look wrong in an English sentence.
JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
TRANSLATED_OR_COMMENT = re.compile(
    r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}"
    r"|{%\s*translate\s.*?%}"
    r"|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}"
    r"|{#.*?#}"
    r"|\b_\(\s*(?:\"[^\"]*\"|'[^']*')\s*\)",
    re.S,
)
# Japanese that is genuinely not UI text, per template, with the reason.
NOT_UI_TEXT = {
    # The language switch names each language in that language (日本語 / English), so that
    # someone who cannot read the current language can still find their own.
    "base.html": ["日本語"],
}


def untranslated_lines(path: Path, root: Path = TEMPLATE_DIR) -> list[str]:
    """Lines of a template holding Japanese outside {% translate %}, {% blocktranslate %},
    _("...") arguments and comments."""
    text = path.read_text(encoding="utf-8")
    stripped = TRANSLATED_OR_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for allowed in NOT_UI_TEXT.get(str(path.relative_to(root)), []):
        stripped = stripped.replace(allowed, "")
    return [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for number, line in enumerate(stripped.splitlines(), start=1)
        if JAPANESE.search(line)
    ]


def test_the_literal_scan_catches_japanese_outside_translate(tmp_path):
    """Guard the guard: plain text and full-width brackets are caught; translated text,
    _() arguments, comments and the listed exceptions are not."""
    template = tmp_path / "base.html"
    template.write_text(
        '{% load i18n %}<h1>{% translate "ホーム" %}</h1><option>日本語</option>\n'
        "{# 説明 #}<p>{{ x }}（{{ y }}）</p>\n"
        "{% blocktranslate %}{{ n }} 件{% endblocktranslate %}<p>まだありません</p>\n"
        '{% count_link n "x" _("件") %}\n',
        encoding="utf-8",
    )
    assert untranslated_lines(template, root=tmp_path) == [
        "base.html:2: <p>{{ x }}（{{ y }}）</p>",
        "base.html:3: <p>まだありません</p>",
    ]


def test_templates_hold_no_japanese_outside_translate_tags():
    """Every Japanese text in a template is inside {% translate %} / {% blocktranslate %}
    (or a comment, or listed in NOT_UI_TEXT with its reason), so English pages have no
    Japanese left over from the templates themselves."""
    found = [
        line for path in sorted(TEMPLATE_DIR.rglob("*.html")) for line in untranslated_lines(path)
    ]
    assert found == []
