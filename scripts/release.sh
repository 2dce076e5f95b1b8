#!/usr/bin/env bash
# Builds Gatehouse's release binaries: static (CGO_ENABLED=0), reproducible
# (-trimpath, no build ID, the build time taken from SOURCE_DATE_EPOCH or the
# commit time, never the clock) and stamped with the version, the commit and
# the build time (gatehouse version prints them), for each of PLATFORMS,
# into DIST, plus DIST/SHA256SUMS.
#
#   scripts/release.sh                       # dist/gatehouse-<version>-linux-{amd64,arm64}
#   VERSION=v0.1.0 scripts/release.sh
#   PLATFORMS=linux/amd64 DIST=/tmp/out scripts/release.sh
#
# VERSION defaults to `git describe --tags --always --dirty`. The same commit
# built with the same Go toolchain (go.mod's go line) gives the same bytes,
# wherever the checkout lives; check with `sha256sum -c SHA256SUMS`.
#
# The commit is stamped with -X, and the toolchain's own VCS stamping is off
# (-buildvcs=false): Go cannot read a linked git worktree (golang/go#58218)
# and would stamp nothing there, or an enclosing repository's commit, so the
# bytes would depend on how the source was checked out.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
REVISION=$(git rev-parse HEAD)
PLATFORMS=${PLATFORMS:-linux/amd64 linux/arm64}
DIST=${DIST:-dist}

case "$VERSION" in
  *[!A-Za-z0-9._+-]*|"") echo "release.sh: VERSION $VERSION: letters, digits and . _ + - only" >&2; exit 2 ;;
esac
BUILD_TIME=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
pkg=github.com/gatehouse-dev/gatehouse/cli
ldflags="-s -w -buildid= -X $pkg.Version=$VERSION -X $pkg.Revision=$REVISION -X $pkg.BuildTime=$BUILD_TIME"

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "release.sh: warning: uncommitted changes; these binaries are not those of commit $REVISION" >&2
fi
mkdir -p "$DIST"
names=()
for platform in $PLATFORMS; do
  goos=${platform%/*}
  goarch=${platform#*/}
  name="gatehouse-$VERSION-$goos-$goarch"
  echo "release.sh: $name ($(go env GOVERSION), built $BUILD_TIME)"
  # GOFLAGS replaces any set in the environment or by `go env -w`, and the
  # instruction-set levels are pinned (the defaults), so that a developer's
  # settings cannot change the bytes.
  GOFLAGS=-mod=readonly GOAMD64=v1 GOARM64=v8.0 CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
    go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$DIST/$name" .
  names+=("$name")
done
(cd "$DIST" && sha256sum "${names[@]}" >SHA256SUMS)
cat "$DIST/SHA256SUMS"
