#!/usr/bin/env bash
# Checks data/README.md against data/: every table row's sha256 matches its file, and every file
# under data/ (but the README, licence texts and the fetched default/ model) has a row. Prints one closing line for ctest.
set -euo pipefail
data=$1
cd "$data"
failed=0 passed=0
listed=$(mktemp)
trap 'rm -f "$listed"' EXIT
while IFS='|' read -r _ file _ _ sha _; do
  file=$(echo "$file" | tr -d ' `'); sha=$(echo "$sha" | tr -d ' `')
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || continue
  echo "$file" >> "$listed"
  if [ ! -f "$file" ]; then echo "missing: $file"; failed=$((failed + 1)); continue; fi
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then echo "changed: $file (sha256 $got, table says $sha)"; failed=$((failed + 1))
  else passed=$((passed + 1)); fi
done < README.md
while read -r f; do
  f=${f#./}
  # default/: the default model, fetched by scripts/setup.sh (not bundled; its checksum is pinned there).
  case "$f" in README.md|licenses/*|*/PROVENANCE.md|reference/mtcnn/README.md|default/*) continue ;; esac
  if ! grep -qxF "$f" "$listed"; then echo "not in data/README.md: $f"; failed=$((failed + 1)); fi
done < <(find . -type f | sort)
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
