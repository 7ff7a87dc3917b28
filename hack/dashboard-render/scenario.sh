#!/usr/bin/env bash
# The sandbox activity behind docs/images/dashboard.png, while scrape.sh
# records /metrics:
# - the sample instance (config/samples, real Odoo 18.0 on odoo:18.0-v1) is
#   moved to odoo:18.0-errors, whose real errors fill status.health until the
#   error rate rolls it back, then upgraded for real to odoo:18.0-v2;
# - simulated instances (odoo-sim) back up, upgrade (one upgrade fails),
#   restore from a missing archive (fails) and scale to zero; two of them
#   send notifications, one to a listener that answers 204, one to a closed
#   port.
# Usage: eval "$(hack/sandbox.sh env)"; hack/dashboard-render/scenario.sh
# Takes about 15 minutes on the 2-core machine.
set -euo pipefail
ns=shops
hook=127.0.0.1:31597   # framework.TenantListener's range, allowed by the sandbox's egress policy
closed=127.0.0.1:31598 # nothing listens there
odoo=odooinstances.v1alpha2.bemade.org

python3 - "$hook" <<'PY' &
import http.server, sys
host, port = sys.argv[1].split(":")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer((host, int(port)), H).serve_forever()
PY
listener=$!
trap 'kill $listener' EXIT

kubectl apply -k config/samples >/dev/null
kubectl patch $odoo shop --type=merge -p "{\"spec\":{\"webhook\":{\"url\":\"http://$hook/shop\"}}}"

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
  url=http://$hook/$i
  [[ $i == beta ]] && url=http://$closed/$i
  kubectl -n $ns apply -f - <<YAML
apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata: {name: $i}
spec:
  image: odoo-sim:18.0
  adminPassword: sim-master
  replicas: 2
  filestore: {storageSize: 1Gi}
  webhook: {url: "$url"}
  backup:
    schedule: "0 3 * * *"
    format: dump
    destination: {pvc: {claimName: backups, path: $i}}
YAML
done
kubectl -n $ns wait --for=condition=Ready $odoo --all --timeout=600s
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
sleep 45
# A good upgrade and a broken one (the broken image's upgrade Job fails; the
# old image keeps serving).
kubectl -n $ns patch $odoo alpha --type=merge -p '{"spec":{"image":"odoo-sim:18.1"}}'
kubectl -n $ns patch $odoo gamma --type=merge -p '{"spec":{"image":"odoo-sim:18.1-broken"}}'
sleep 45
backup gamma gamma-manual-1
backup alpha alpha-manual-2
kubectl -n $ns apply -f - <<YAML
apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata: {name: delta-missing}
spec:
  odooInstanceRef: {name: delta}
  source:
    type: pvc
    pvc: {claimName: backups, path: delta/no-such-archive.dump}
YAML
kubectl -n $ns wait --for=jsonpath='{.status.phase}'=Failed odoorestorejobs.v1alpha2.bemade.org/delta-missing --timeout=300s || true
# Scale delta to 0: Stopped.
kubectl -n $ns patch $odoo delta --type=merge -p '{"spec":{"replicas":0}}'

# The real instance: errors, rollback, then a real upgrade.
kubectl wait --for=condition=Ready $odoo/shop --timeout=900s
kubectl patch $odoo shop --type=merge -p '{"spec":{"image":"odoo:18.0-errors"}}'
kubectl wait --for=condition=RolledBack $odoo/shop --timeout=600s
backup beta beta-manual-2
sleep 30
kubectl patch $odoo shop --type=merge -p '{"spec":{"image":"odoo:18.0-v2"}}'
kubectl wait --for=jsonpath='{.status.upgrade.phase}'=Success $odoo/shop --timeout=900s
kubectl wait --for=condition=Ready $odoo/shop --timeout=600s
