#!/usr/bin/env bash
# The sandbox activity behind docs/images/dashboard.png: the real-Odoo sample
# instance (config/samples) plus simulated instances (odoo-sim) that back up,
# upgrade (one upgrade fails) and restore, while scrape.sh records /metrics.
# Usage: eval "$(hack/sandbox.sh env)"; hack/dashboard-render/scenario.sh
set -euo pipefail
ns=shops
kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n $ns apply -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backups}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
for i in alpha beta gamma delta; do
  kubectl -n $ns apply -f - <<YAML
apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata: {name: $i}
spec:
  image: odoo-sim:18.0
  adminPassword: sim-master
  replicas: 2
  filestore: {storageSize: 1Gi}
  backup:
    schedule: "0 3 * * *"
    format: dump
    destination: {pvc: {claimName: backups, path: $i}}
YAML
done
kubectl -n $ns wait --for=condition=Ready odooinstances.v1alpha2.bemade.org --all --timeout=600s
backup() { # instance name
  kubectl -n $ns apply -f - <<YAML
apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata: {name: $2}
spec:
  odooInstanceRef: {name: $1}
  format: dump
  destination: {pvc: {claimName: backups, path: $1/$2}}
YAML
}
backup alpha alpha-manual-1
backup beta beta-manual-1
sleep 60
# A good upgrade and a broken one (the broken image's upgrade Job fails; the
# old image keeps serving).
kubectl -n $ns patch odooinstances.v1alpha2.bemade.org alpha --type=merge -p '{"spec":{"image":"odoo-sim:18.1"}}'
kubectl -n $ns patch odooinstances.v1alpha2.bemade.org gamma --type=merge -p '{"spec":{"image":"odoo-sim:18.1-broken"}}'
sleep 60
backup gamma gamma-manual-1
backup alpha alpha-manual-2
# Scale delta to 0: Stopped.
sleep 60
kubectl -n $ns patch odooinstances.v1alpha2.bemade.org delta --type=merge -p '{"spec":{"replicas":0}}'
sleep 60
backup beta beta-manual-2
