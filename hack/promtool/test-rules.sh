#!/usr/bin/env bash
# Runs promtool's unit tests of the alert rules: extracts the rule groups from
# config/prometheus/prometheusrule.yaml (its spec, the last top-level key)
# into a temporary rules.yaml beside a copy of rules_test.yaml.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PROMTOOL=${PROMTOOL:-$("$HERE/build.sh" | tail -1)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$ROOT/config/prometheus/prometheusrule.yaml
# Everything after "spec:", de-indented by two spaces.
sed -n '/^spec:$/,$p' "$src" | sed '1d; s/^  //' >"$tmp/rules.yaml"
grep -q '^groups:' "$tmp/rules.yaml" || { echo "test-rules: no spec.groups in $src" >&2; exit 1; }
cp "$ROOT/config/prometheus/rules_test.yaml" "$tmp/"
"$PROMTOOL" check rules "$tmp/rules.yaml"
"$PROMTOOL" test rules "$tmp/rules_test.yaml"
