#!/usr/bin/env bash
# Builds promtool (Prometheus' rule test tool) from the Go module proxy into a
# fixed cache directory, the way hack/k8s-tools/build.sh builds the control plane.
#
# Usage:  PROMTOOL=$(hack/promtool/build.sh | tail -1)
#   env:  ODOO_OPERATOR_CACHE  base cache dir (default: $HOME/.cache/odoo-operator)
#
# Logs go to stderr; the only stdout line is the binary's path, printed last.
# A warm rerun is instant (the binary is named after the module version).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "promtool: $*" >&2; }

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { log "go not found in PATH"; exit 1; }

# The version is read from the tools module so that a bump needs one edit only.
PV=$(sed -n 's|^\(require\)\{0,1\}[[:space:]]*github\.com/prometheus/prometheus \(v[0-9][0-9.]*\)$|\2|p' "$HERE/go.mod" | head -1)
[[ -n $PV ]] || { log "cannot read the prometheus version from $HERE/go.mod"; exit 1; }

DIR=${ODOO_OPERATOR_CACHE:-$HOME/.cache/odoo-operator}/tools/bin
OUT=$DIR/promtool-$PV
mkdir -p "$DIR"

exec 9>"$OUT.lock"
flock 9
if [[ ! -x $OUT ]]; then
  start=$SECONDS
  log "building promtool $PV into $OUT (cold: a few minutes on 2 cores)"
  export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=readonly -trimpath -buildvcs=false"
  (cd "$HERE" && go build -ldflags "-s -w" -o "$OUT.tmp" github.com/prometheus/prometheus/cmd/promtool) >&2
  mv "$OUT.tmp" "$OUT"
  log "done in $((SECONDS - start))s"
fi
echo "$OUT"
