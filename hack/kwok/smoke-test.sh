#!/usr/bin/env bash
# Checks the KWOK sandbox contract against a running `hack/sandbox.sh up`:
#   * a 3-replica Deployment becomes Available;
#   * a Job completes and `kubectl logs` shows the healthy Odoo startup lines;
#   * a Job with image odoo:18.0-broken fails, its pod exits 255 (reason Error)
#     and `kubectl logs` shows the Odoo failure lines (logs/broken.log);
#   * a Deployment with image x:1-broken never becomes Available, its pods
#     crash-loop with last exit code 255 and serve the failure lines.
# Uses its own namespace and deletes it at the end. Prints timings.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
eval "$("$ROOT/hack/sandbox.sh" env)"
NS=sandbox-smoke-$$
k() { kubectl -n "$NS" "$@"; }
fail() { echo "smoke: FAIL: $*" >&2; k get pods -o wide >&2 || true; exit 1; }
# grep on captured output: `kubectl logs | grep -q` fails under pipefail when
# grep exits early and kubectl gets SIGPIPE.
has() { grep -q -- "$1" <<<"$2"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

kubectl create namespace "$NS" >/dev/null
trap 'kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
# A new namespace's default ServiceAccount is needed before pods can be created.
for _ in $(seq 1 100); do k get serviceaccount default >/dev/null 2>&1 && break; sleep 0.1; done

t0=$(date +%s%N)
k apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: odoo, image: "odoo:18.0"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: ok-job}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: odoo, image: "odoo:18.0"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken-job}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: odoo, image: "odoo:18.0-broken"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken-web}
spec:
  replicas: 2
  selector: {matchLabels: {app: broken-web}}
  template:
    metadata: {labels: {app: broken-web}}
    spec:
      containers: [{name: odoo, image: "x:1-broken"}, {name: sidecar, image: "busybox:1"}]
EOF

k wait --for=condition=Available deploy/web --timeout=30s >/dev/null || fail "deployment web not Available"
echo "smoke: deployment web (3 replicas) Available after $(ms "$t0") ms"
k wait --for=condition=Complete job/ok-job --timeout=30s >/dev/null || fail "job ok-job not Complete"
echo "smoke: job ok-job Complete after $(ms "$t0") ms"
k wait --for=condition=Failed job/broken-job --timeout=30s >/dev/null || fail "job broken-job not Failed"
echo "smoke: job broken-job Failed after $(ms "$t0") ms"

has "odoo: Odoo version 18.0" "$(k logs job/ok-job)" || fail "ok-job logs lack the Odoo banner"
has "HTTP service (werkzeug) running on" "$(k logs job/ok-job)" || fail "ok-job logs lack the werkzeug line"

pod=$(k get pods -l job-name=broken-job -o jsonpath='{.items[0].metadata.name}')
got=$(k get pod "$pod" -o jsonpath='{.status.phase} {.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}')
[[ $got == "Failed 255 Error" ]] || fail "broken-job pod status is '$got', want 'Failed 255 Error'"
# The Logs object is created asynchronously by the watcher; it is normally there
# long before the pod fails, allow a little slack anyway.
for _ in $(seq 1 50); do has CRITICAL "$(k logs "$pod" 2>/dev/null)" && break; sleep 0.1; done
has "CRITICAL walplast_mig odoo.service.server: Failed to initialize database" "$(k logs "$pod")" ||
  fail "broken-job logs lack the Odoo failure lines"
echo "smoke: broken-job pod exited 255 and serves the Odoo failure lines"

for _ in $(seq 1 100); do
  n=$(k get pods -l app=broken-web -o jsonpath='{range .items[*]}{.status.containerStatuses[0].lastState.terminated.exitCode}{" "}{.status.containerStatuses[0].state.waiting.reason}{"\n"}{end}' | grep -c "^255 CrashLoopBackOff$" || true)
  [[ $n == 2 ]] && break
  sleep 0.1
done
[[ $n == 2 ]] || fail "broken-web pods are not CrashLoopBackOff with exit code 255"
avail=$(k get deploy broken-web -o jsonpath='{.status.availableReplicas}')
[[ -z $avail || $avail == 0 ]] || fail "broken-web has $avail available replicas"
has "Failed to load registry" "$(k logs deploy/broken-web -c odoo 2>/dev/null)" || fail "broken-web logs lack the failure lines"
sidecar=$(k logs deploy/broken-web -c sidecar 2>/dev/null)
if ! has "Registry loaded in" "$sidecar" || has CRITICAL "$sidecar"; then
  fail "broken-web sidecar logs are not the healthy ones"
fi
echo "smoke: broken-web pods crash-loop (exit 255, 0 available) after $(ms "$t0") ms"
echo "smoke: PASS"
