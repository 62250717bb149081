#!/usr/bin/env bash
# Fetches face-api's face-expression model (npm package @vladmandic/face-api 1.7.15, MIT licence)
# with npm, checks the tarball against the sha512 pinned here, and converts the TF.js weights with
# gler_import. The weights are never committed; this script is how gler gets them.
#   scripts/fetch_face_expression.sh DEST
# Leaves in DEST: the tarball (kept, so later runs need no network), the two model files
# face_expression_model-weights_manifest.json and face_expression_model.bin, face-api's LICENSE,
# and face_expression.safetensors (arch face_expression). gler_import is $GLER_IMPORT, else
# build/bin/gler_import of this checkout.
# Exit status: 0 done; 3 the package is unavailable (npm missing, or the download failed, e.g.
# offline), which tests report as skipped; 1 anything else (checksum mismatch, a failed conversion).
set -euo pipefail

package=@vladmandic/face-api@1.7.15
tarball_name=vladmandic-face-api-1.7.15.tgz
integrity=sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==
sha512_hex=5833262b709f34ba3c8f2956a8ca1081fe2722cb773347f3c7576769cf7ac2ffddbcc4cde03c42fcfab50c6b5db83935964b426a64373080d7167beb7474d70f

if [ $# -ne 1 ]; then
  echo "usage: $0 DEST" >&2
  exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
gler_import=${GLER_IMPORT:-$root/build/bin/gler_import}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
tarball=$dest/$tarball_name
if [ ! -x "$gler_import" ]; then
  echo "fetch_face_expression: $gler_import not found; build it (cmake --build build --target gler_import) or set GLER_IMPORT" >&2
  exit 1
fi

# Tests running at once share DEST: one fetch at a time.
exec 9>"$dest/.fetch.lock"
if command -v flock >/dev/null; then flock 9; fi

verified() { [ -f "$1" ] && [ "$(sha512sum "$1" | cut -d' ' -f1)" = "$sha512_hex" ]; }

if ! verified "$tarball"; then
  if ! command -v npm >/dev/null; then
    echo "fetch_face_expression: npm not found; it fetches $package (install Debian's npm)" >&2
    exit 3
  fi
  work=$(mktemp -d "$dest/.npm-pack.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "fetch_face_expression: npm pack $package into $dest"
  if ! (cd "$work" && npm pack "$package" --pack-destination "$work" --fetch-retries=1 --fetch-timeout=60000 \
        >"$work/npm.log" 2>&1); then
    echo "fetch_face_expression: npm could not fetch $package (offline, or no registry access):" >&2
    tail -5 "$work/npm.log" >&2
    exit 3
  fi
  if ! verified "$work/$tarball_name"; then
    echo "fetch_face_expression: $tarball_name does not have the pinned checksum $integrity; refusing it" >&2
    exit 1
  fi
  mv "$work/$tarball_name" "$tarball"
fi
echo "fetch_face_expression: $tarball_name verified ($integrity)"

extract=$(mktemp -d "$dest/.extract.XXXXXX")
trap 'rm -rf "$extract" "${work:-}"' EXIT
tar -xzf "$tarball" -C "$extract" package/LICENSE package/model/face_expression_model-weights_manifest.json \
  package/model/face_expression_model.bin
mv "$extract/package/model/face_expression_model-weights_manifest.json" "$extract/package/model/face_expression_model.bin" \
  "$dest/"
mv "$extract/package/LICENSE" "$dest/LICENSE"

"$gler_import" "$dest/face_expression_model-weights_manifest.json" --arch face_expression -o "$dest/face_expression.safetensors"
echo "fetch_face_expression: $dest/face_expression.safetensors ready (face-api's MIT licence: $dest/LICENSE)"
