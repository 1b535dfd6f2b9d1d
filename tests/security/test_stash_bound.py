"""One session keeps at most STASH_MAX_PENDING previews waiting (every import screen and the
admin's import share the stash): the 21st preview drops the oldest, file and entry."""

from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from portal_lib import upload_stash


def _request():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    return request


def test_a_session_keeps_at_most_the_bound_and_the_oldest_goes(tmp_path, monkeypatch, db):
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "imports")
    request = _request()
    tokens = [
        upload_stash.stash(request, "progress", b"x%d" % i, f"f{i}.xlsx", f"fp{i}")
        for i in range(upload_stash.STASH_MAX_PENDING + 3)
    ]
    kept = request.session[upload_stash.SESSION_KEY]
    assert list(kept) == tokens[3:]
    assert sorted(p.name for p in (tmp_path / "imports").iterdir()) == sorted(tokens[3:])
    assert upload_stash.claim(request, "progress", tokens[0]) == upload_stash.EXPIRED
    data, entry = upload_stash.claim(request, "progress", tokens[-1])
    assert data == b"x%d" % (upload_stash.STASH_MAX_PENDING + 2)
    assert entry["filename"] == f"f{upload_stash.STASH_MAX_PENDING + 2}.xlsx"


def test_another_sessions_previews_are_not_touched(tmp_path, monkeypatch, db):
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "imports")
    other = _request()
    theirs = upload_stash.stash(other, "progress", b"theirs", "t.xlsx", "fp")
    mine = _request()
    for i in range(upload_stash.STASH_MAX_PENDING + 1):
        upload_stash.stash(mine, "progress", b"m%d" % i, "m.xlsx", "fp")
    assert upload_stash.claim(other, "progress", theirs)[0] == b"theirs"
