#!/usr/bin/env bash
# Builds the local control-plane binaries from the Go module proxy (no downloads
# of prebuilt binaries are possible here): kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl (k8s/), etcd (etcd/) and kwok (kwok/).
#
# Usage:  BIN=$(hack/k8s-tools/build.sh | tail -1)
#   env:  BIN                  output dir (default: a fixed dir outside the clone, see below)
#         ODOO_OPERATOR_CACHE  base cache dir (default: $HOME/.cache/odoo-operator)
#
# Logs go to stderr; the only stdout line is the BIN path, printed last.
# Timings on the 2-core machine: cold (empty GOMODCACHE/GOCACHE) ~6-7 min;
# warm rerun into the same BIN ~2 s (go build skips up-to-date binaries, which is
# why BIN is a fixed path outside the clone rather than ./bin).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "k8s-tools: $*" >&2; }

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { log "go not found in PATH"; exit 1; }

# The version is read from the tools module so that a bump needs one edit only.
KV=$(sed -n 's|^require k8s\.io/kubernetes \(v[0-9][0-9.]*\)$|\1|p; s|^[[:space:]]*k8s\.io/kubernetes \(v[0-9][0-9.]*\)$|\1|p' "$HERE/k8s/go.mod" | head -1)
[[ $KV =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { log "cannot read k8s.io/kubernetes version from $HERE/k8s/go.mod (got '$KV')"; exit 1; }
MINOR=${BASH_REMATCH[1]}

BIN=${BIN:-${ODOO_OPERATOR_CACHE:-$HOME/.cache/odoo-operator}/k8s-bins/$KV}
mkdir -p "$BIN"
BIN=$(cd "$BIN" && pwd)

# Serialise concurrent builds into the same BIN (e.g. a background prebuild and
# `hack/sandbox.sh up`): the second waits, then finds everything up to date.
exec 9>"$BIN/.build.lock"
if ! flock -n 9; then
  log "another build into $BIN is running; waiting for it"
  flock 9
fi

# readonly: never rewrite the committed go.mod/go.sum; trimpath: cache hits do not
# depend on where the clone lives; local toolchain: no toolchain downloads.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=readonly -trimpath -buildvcs=false"

# An empty gitVersion makes every k8s binary panic at init, so always set real values.
LD="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD="$LD -X $p.gitVersion=$KV -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
done

start=$SECONDS
log "building kubernetes $KV binaries into $BIN (cold: ~6 min on 2 cores)"
(cd "$HERE/k8s" && go build -ldflags "$LD" -o "$BIN/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl) >&2
log "building etcd"
(cd "$HERE/etcd" && go build -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3) >&2
log "building kwok"
(cd "$HERE/kwok" && go build -ldflags "-s -w" -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok) >&2

# Cheap sanity check that the version ldflags took effect (a wrong value panics).
got=$("$BIN/kube-apiserver" --version 2>&1 || true)
if [[ $got != "Kubernetes $KV" ]]; then
  log "unexpected 'kube-apiserver --version' output: $got"
  exit 1
fi
log "done in $((SECONDS - start))s"
echo "$BIN"
