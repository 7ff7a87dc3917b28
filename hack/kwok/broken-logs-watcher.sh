#!/usr/bin/env bash
# Makes `kubectl logs` of "-broken" pods serve logs/broken.log in the KWOK sandbox.
#
# kwok picks a pod's log file only by pod name/namespace (ClusterLogs selector or a
# `Logs` object named after the pod); it cannot select by image. So this watches
# all pods and, for each pod whose first container image ends in "-broken" (and is
# not of the `odoo` repository, whose pods run real Odoo), creates
# a kwok.x-k8s.io/v1alpha1 `Logs` object with the pod's name, owned by the pod (the
# garbage collector deletes it with the pod). Every other pod falls back to the
# ClusterLogs in kwok.yaml (logs/healthy.log).
#
# Usage: KUBECONFIG=... broken-logs-watcher.sh <kubectl> <logs-dir>
# Started and stopped by hack/sandbox.sh. It runs until killed: the watch is
# re-established whenever it ends (apiserver watch timeout or restart).
set -euo pipefail

KUBECTL=${1:?kubectl path}
LOGS_DIR=${2:?logs dir}
BROKEN=$LOGS_DIR/broken.log
HEALTHY=$LOGS_DIR/healthy.log
[[ -f $BROKEN && -f $HEALTHY ]] || { echo "missing $BROKEN or $HEALTHY" >&2; exit 1; }

apply_logs() {
  local ns=$1 name=$2 uid=$3 container=$4
  # apply (not create): a recreated pod with the same name (StatefulSet) moves the
  # owner reference to the new pod before the garbage collector removes the object.
  "$KUBECTL" apply -f - >/dev/null <<EOF || echo "watcher: could not create Logs for $ns/$name" >&2
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: $name
  namespace: $ns
  labels:
    app.kubernetes.io/managed-by: odoo-operator-sandbox
  ownerReferences:
  - apiVersion: v1
    kind: Pod
    name: $name
    uid: $uid
spec:
  logs:
  # Only the first (failing) container gets the failure lines; sidecars stay healthy.
  - containers: [$container]
    logsFile: $BROKEN
    previousLogsFile: $BROKEN
    follow: false
  - logsFile: $HEALTHY
    previousLogsFile: $HEALTHY
    follow: false
EOF
}

while true; do
  declare -A seen=()
  # The initial list plus every later change; one line per event.
  "$KUBECTL" get pods --all-namespaces --watch --request-timeout=0 \
    -o jsonpath='{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.uid}{" "}{.spec.containers[0].name}{" "}{.spec.containers[0].image}{"\n"}' 2>/dev/null |
    while read -r ns name uid container image; do
      [[ $image == *-broken ]] || continue
      # The odoo repository runs real Odoo: sandbox-jobplayer serves its logs.
      [[ $image == odoo:* ]] && continue
      [[ -z ${seen[$uid]:-} ]] || continue
      seen[$uid]=1
      apply_logs "$ns" "$name" "$uid" "$container"
    done || true
  sleep 1
done
