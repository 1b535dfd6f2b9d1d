#!/usr/bin/env bash
# Builds the offline installation bundle (`make bundle`) on a machine that reaches the
# package registry: dist/kahoku-dx-bundle-<version>.tar.gz holds the portal's source at
# HEAD, every wheel requirements.txt needs for the server's Python and platform, the
# collected static files, and deploy/install-offline.sh, which installs it all on a
# server with no route to the internet (docs/deploy.md, "LGWAN server").
#
# Settings (environment):
#   PYTHON                 the build machine's Python with requirements.txt installed
#                          (collectstatic runs with it); default .venv/bin/python
#   BUNDLE_PYTHON_VERSION  the server's Python, major.minor; default 3.11
#   BUNDLE_PLATFORMS       the server's wheel platforms; default glibc 2.17 or newer, x86_64
#   DIST                   where the archive goes; default dist
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
BUNDLE_PYTHON_VERSION=${BUNDLE_PYTHON_VERSION:-3.11}
BUNDLE_PLATFORMS=${BUNDLE_PLATFORMS:-"manylinux_2_28_x86_64 manylinux2014_x86_64 linux_x86_64"}
DIST=${DIST:-dist}

die() { echo "build-bundle: $*" >&2; exit 1; }
[ -x "$PYTHON" ] || die "$PYTHON がありません。先に make install を実行してください。"
git rev-parse --verify -q HEAD >/dev/null || die "git のコミットがありません (ソースは HEAD から取ります)。"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "build-bundle: 注意: コミットしていない変更はバンドルに入りません (HEAD から作ります)。" >&2
fi

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -1)-$(git rev-parse --short=10 HEAD)"
name="kahoku-dx-bundle-$version"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/$name"
mkdir -p "$root/wheels"

# 1. The source as committed (the server cannot `git pull` either).
git archive --format=tar HEAD | tar -x -C "$root"

# 2. Wheels. First for this machine: a package the registry ships only as source is built
#    into a wheel here (so build on the server's OS and architecture when requirements.txt
#    has one, with its build headers installed). Then, for the server's Python and platform,
#    binary wheels only; the wheels built in the first step count (--find-links).
"$PYTHON" -m pip wheel -q --wheel-dir "$root/wheels" -r "$root/requirements.txt"
platforms=()
for p in $BUNDLE_PLATFORMS; do platforms+=(--platform "$p"); done
"$PYTHON" -m pip download -q --only-binary=:all: \
  --python-version "$BUNDLE_PYTHON_VERSION" --implementation cp \
  --abi "cp${BUNDLE_PYTHON_VERSION/./}" "${platforms[@]}" \
  --find-links "$root/wheels" --dest "$root/wheels" -r "$root/requirements.txt"

# 3. Static files, collected as production serves them (hashed names, compressed). The
#    settings need production values to load; none of them is used or kept.
env -u DATABASE_URL -u REDIS_URL \
  DJANGO_ENV=production \
  SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(60))')" \
  ALLOWED_HOSTS=bundle.invalid PORTAL_BASE_URL=https://bundle.invalid \
  SQLITE_PATH="$work/unused.sqlite3" STATIC_ROOT="$root/staticfiles" \
  "$PYTHON" "$root/manage.py" collectstatic --noinput -v 0

# 4. What it is, and checksums to verify it after the transfer to the server.
cat >"$root/BUNDLE-INFO" <<INFO
version=$version
commit=$(git rev-parse HEAD)
python=$BUNDLE_PYTHON_VERSION
platforms=$BUNDLE_PLATFORMS
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
INFO
(cd "$root" && find wheels staticfiles requirements.txt BUNDLE-INFO -type f -print0 \
  | sort -z | xargs -0 sha256sum >SHA256SUMS)

mkdir -p "$DIST"
tar -C "$work" -czf "$DIST/$name.tar.gz" "$name"
echo "$DIST/$name.tar.gz"
