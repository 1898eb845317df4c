#!/usr/bin/env bash
# Builds libcaf_core 0.17.6 with ThreadSanitizer for the tsan stage of
# tools/test.sh, and prints the path of the library on stdout.
#
#   bash tools/caf-tsan.sh build-tsan/caf    # -> build-tsan/caf/lib/libcaf_core.so.0.17.6
#
# Why: Debian's libcaf_core is built without -fsanitize=thread, so TSan does not
# see the synchronisation inside CAF (mailboxes, the scheduler's queues,
# reference counts): every message handed from one thread to another looked
# like a race, and the only way out was to suppress every report with a CAF
# frame, which also hid any race in our actors. With this library TSan sees
# CAF's atomics and locks, and tests/tsan.supp needs no CAF entry.
#
# Operation: downloads Debian's source of the version libcaf-dev ships
#   (actor-framework_0.17.6.orig.tar.gz from the Debian mirror apt uses,
#   checked against the SHA-256 in Debian's actor-framework_0.17.6-2.1.dsc),
#   and builds only libcaf_core, the way Debian configures it (log level QUIET,
#   memory management on, no runtime checks: the generated build_config.hpp is
#   compared with Debian's /usr/include/caf/detail/build_config.hpp, so the
#   library matches the headers our code compiles against), with
#   -fsanitize=thread -O1 -g1. Takes about 2 minutes on 2 cores (ccache helps
#   a rebuild). The result is reused while the compiler and flags stay the same
#   (a stamp file in OUTDIR); the download is cached in OUTDIR/src.
# Environment: JOBS (default 2), DEBIAN_MIRROR (default: the mirror of apt's
#   debian.sources, else http://deb.debian.org/debian).
# Limitations: x86-64 Debian 12 with libcaf-dev 0.17.6 (checked); Debian's
#   own patches are not applied (none changes libcaf_core's headers, which are
#   identical to the installed ones; the script checks build_config.hpp).
set -euo pipefail
OUT="${1:?usage: bash tools/caf-tsan.sh OUTDIR (e.g. build-tsan/caf)}"
JOBS="${JOBS:-2}"
VERSION=0.17.6
TARBALL="actor-framework_${VERSION}.orig.tar.gz"
SHA256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
FLAGS="-fsanitize=thread -fno-omit-frame-pointer -O1 -g1"
LIB="$OUT/lib/libcaf_core.so.$VERSION"
say() { echo "caf-tsan: $*" >&2; }
die() { say "$*"; exit 1; }

installed="$(dpkg-query -W -f='${Version}' libcaf-dev 2>/dev/null || true)"
case "$installed" in
  "$VERSION"-*) ;;
  *) die "libcaf-dev ${installed:-is not installed}; this builds CAF $VERSION to match its headers (run tools/install-deps.sh)" ;;
esac

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LIB="$OUT/lib/libcaf_core.so.$VERSION"
want="$(c++ --version | head -1) | $FLAGS | $SHA256"
if [ -f "$LIB" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$want" ]; then
  echo "$LIB"
  exit 0
fi

if [ -z "${DEBIAN_MIRROR:-}" ]; then
  DEBIAN_MIRROR="$(sed -n 's/^URIs: *\(.*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
  DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
fi
mkdir -p "$OUT/src"
if ! echo "$SHA256  $OUT/src/$TARBALL" | sha256sum -c --status 2>/dev/null; then
  url="$DEBIAN_MIRROR/pool/main/a/actor-framework/$TARBALL"
  say "downloading $url"
  curl -fsSL --retry 3 -o "$OUT/src/$TARBALL.part" "$url" ||
    die "cannot download $url (set DEBIAN_MIRROR to a reachable Debian mirror)"
  echo "$SHA256  $OUT/src/$TARBALL.part" | sha256sum -c --status ||
    die "$url does not have the SHA-256 of Debian's actor-framework_0.17.6-2.1.dsc ($SHA256)"
  mv "$OUT/src/$TARBALL.part" "$OUT/src/$TARBALL"
fi
rm -rf "$OUT/src/actor-framework-$VERSION"
tar xzf "$OUT/src/$TARBALL" -C "$OUT/src"

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
say "building libcaf_core $VERSION with ThreadSanitizer (-j$JOBS)"
cmake -S "$OUT/src/actor-framework-$VERSION" -B "$OUT/build" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$FLAGS" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCAF_LOG_LEVEL=QUIET -DCAF_NO_IO=yes -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes \
  -DCAF_NO_OPENSSL=yes -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes \
  -DCAF_NO_SUMMARY=yes >"$OUT/configure.log" 2>&1 ||
  die "configuring CAF failed: see $OUT/configure.log"
cmp -s "$OUT/build/libcaf_core/caf/detail/build_config.hpp" /usr/include/caf/detail/build_config.hpp ||
  die "CAF's build_config.hpp differs from Debian's /usr/include/caf/detail/build_config.hpp: the library would not match the headers"
cmake --build "$OUT/build" --target libcaf_core_shared -j"$JOBS" >"$OUT/build.log" 2>&1 ||
  die "building CAF failed: see $OUT/build.log"
mkdir -p "$OUT/lib"
cp -P "$OUT/build/lib/"libcaf_core.so* "$OUT/lib/"
echo "$want" >"$OUT/stamp"
say "built $LIB"
echo "$LIB"
