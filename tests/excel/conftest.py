import pytest


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    """Previewed uploads are kept in a per-test directory, not the shared temp folder."""
    from portal_lib import upload_stash

    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "imports")
    return tmp_path / "imports"
