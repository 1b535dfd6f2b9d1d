#!/usr/bin/env bash
# Installs the portal from an unpacked offline bundle (`make bundle`), on a server with no
# route to the internet: checks the files against SHA256SUMS, makes .venv beside this
# folder, installs the bundle's wheels with the package index switched off, puts the
# collected static files where STATIC_ROOT says, runs the migrations and Django's
# deployment check. Run it again after unpacking a newer bundle (docs/deploy.md,
# "LGWAN server"); it opens no network connection.
#
# It uses the environment it is given (DJANGO_ENV, SECRET_KEY, DATABASE_URL, STATIC_ROOT …,
# as in /etc/kahoku-dx/env); PYTHON names the server's Python (default: python<version>
# of BUNDLE-INFO, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "install-offline: $*" >&2; exit 1; }
[ -f BUNDLE-INFO ] && [ -d wheels ] || die "バンドルを展開したフォルダーで実行してください (BUNDLE-INFO と wheels/ がありません)。make bundle で作れます。"
want="$(sed -n 's/^python=//p' BUNDLE-INFO)"
PYTHON=${PYTHON:-$(command -v "python$want" || command -v python3 || true)}
[ -n "$PYTHON" ] || die "Python $want が見つかりません。PYTHON=/path/to/python$want を指定してください。"
have="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$have" = "$want" ] || die "このバンドルは Python $want 用です ($PYTHON は $have)。"

echo "== ファイルの確認 (SHA256SUMS) =="
sha256sum --check --quiet --strict SHA256SUMS || die "バンドルのファイルが壊れているか、書き換えられています。"

echo "== Python パッケージ (wheels/ のみ、ネットワークなし) =="
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# Only this bundle's wheels: no index, and no pip configuration of this machine (an index
# or find-links set there would be tried, or would be read instead of the bundle).
env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT -u PIP_REQUIREMENT \
  PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  .venv/bin/python -m pip install -q --no-index --no-cache-dir --find-links wheels -r requirements.txt

echo "== 静的ファイル =="
if [ -n "${STATIC_ROOT:-}" ] && [ "$(realpath -m "$STATIC_ROOT")" != "$(realpath staticfiles)" ]; then
  mkdir -p "$STATIC_ROOT"
  cp -a staticfiles/. "$STATIC_ROOT"/
  echo "staticfiles/ → $STATIC_ROOT"
else
  echo "staticfiles/ (STATIC_ROOT の既定)"
fi

echo "== データベースの移行 (migrate) =="
.venv/bin/python manage.py migrate --noinput

echo "== 本番設定の確認 (check --deploy) =="
.venv/bin/python manage.py check --deploy
echo "インストールが終わりました: $(sed -n 's/^version=//p' BUNDLE-INFO)"
