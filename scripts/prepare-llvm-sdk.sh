#!/usr/bin/env bash
# Prepare the static LLVM 23 SDK that the `cuda` feature's build needs, from PyPI, for machines
# that cannot reach GitHub (most clusters' compute nodes, this project's build machines).
#
# Why: burn-cuda 0.22 -> cubecl-cuda 0.11 -> cubecl-llvm 0.11.3, whose build dependency
# tracel-llvm-bundler 23.1.0-4 downloads an LLVM bundle from GitHub unless
# <data dir>/tracel/tracel-llvm-23.1.0-4/.tracel-llvm-installed exists (<data dir> is
# $XDG_DATA_HOME, else ~/.local/share); then it only runs that directory's `bin/llvm-config`.
# PyPI's mlc-llvm-static (static LLVM 23, X86) plus mlc-llvm-static-extra-targets (NVPTX) is
# such an SDK. Idempotent: a prepared SDK is left as it is.
#
#   scripts/prepare-llvm-sdk.sh                      # downloads two wheels (90 MB) from PyPI
#   LLVM_WHEELS=/path/to/wheels scripts/prepare-llvm-sdk.sh   # offline: the two .whl files
#
# At run time the CUDA backend also needs the CUDA toolkit's libdevice.10.bc (CUDA_PATH).
set -euo pipefail

VERSION=23.1.1.post0
DEST="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4"
MARKER="$DEST/.tracel-llvm-installed"

if [[ -f "$MARKER" && -x "$DEST/bin/llvm-config" ]]; then
    echo "LLVM SDK already prepared in $DEST ($("$DEST/bin/llvm-config" --version))"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wheels="${LLVM_WHEELS:-}"
if [[ -z "$wheels" ]]; then
    echo "downloading mlc-llvm-static and mlc-llvm-static-extra-targets $VERSION from PyPI"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp/wheels" \
        "mlc-llvm-static==$VERSION" "mlc-llvm-static-extra-targets==$VERSION"
    wheels="$tmp/wheels"
fi
shopt -s nullglob
found=("$wheels"/mlc_llvm_static-"$VERSION"-*.whl "$wheels"/mlc_llvm_static_extra_targets-"$VERSION"-*.whl)
if [[ ${#found[@]} -ne 2 ]]; then
    echo "error: need mlc_llvm_static-$VERSION and mlc_llvm_static_extra_targets-$VERSION wheels in $wheels" >&2
    exit 2
fi
for wheel in "${found[@]}"; do
    echo "unpacking $(basename "$wheel")"
    python3 -m zipfile -e "$wheel" "$tmp/unpacked"
done
sdk="$tmp/unpacked/mlc_llvm_static/static"
chmod +x "$sdk/bin/"* 2>/dev/null || true
version=$("$sdk/bin/llvm-config" --version)
if [[ "$version" != 23.* ]]; then
    echo "error: the wheels hold LLVM $version, not 23" >&2
    exit 2
fi
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.tmp" && mv "$sdk" "$DEST.tmp"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
touch "$MARKER"
echo "LLVM $version SDK ready in $DEST (targets: $("$DEST/bin/llvm-config" --targets-built))"
