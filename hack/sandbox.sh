#!/usr/bin/env bash
# Local Kubernetes sandbox for the Odoo operator: a real control plane (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, all v1.37.2 built from
# the Go module proxy) with KWOK fake nodes instead of a container runtime, a
# throwaway PostgreSQL 15, and the operator itself running on the host.
#
# Usage: hack/sandbox.sh up|down|status|env|kubeconfig|restart-operator|start-replica|stop-replica|restart-apiserver|restart-etcd
#   up                builds the binaries (hack/k8s-tools/build.sh), starts everything,
#                     applies config/crd/bases, builds and starts the operator
#   down              stops what `up` started (pid files) and removes .sandbox/
#   status            shows the components and nodes; exit 1 if something is down
#   env               prints `export KUBECONFIG=...` and `export PATH=<bins>:$PATH`
#   kubeconfig        prints the kubeconfig path
#   restart-operator  rebuilds (go build -o bin/odoo-operator ./cmd) and restarts the operator
#   start-replica     starts a second operator process (component operator-2, leader election
#                     on, its own metrics/health/webhook ports) next to the first; for the
#                     failover tests, which also restart the first with SANDBOX_LEADER_ELECT=1
#   stop-replica      stops operator-2
#   restart-apiserver stops kube-apiserver (SIGTERM) and starts it again on the same etcd
#   restart-etcd      stops etcd (SIGTERM) and starts it again on the same data directory
#
# Behaviour of the fake cluster (see the contract at the top of hack/kwok/kwok.yaml):
# pods of the image repository `odoo` (odoo:18.0, odoo:18.0-v1, ...) run REAL
# Odoo 18.0 on the host; every other pod is simulated by KWOK: Ready at once,
# Job pods succeed, and a first container image ending in "-broken" fails with
# exit code 255 and serves real Odoo failure lines via `kubectl logs`. Use the
# repository `odoo-sim` (odoo-sim:18.0, odoo-sim:18.1, odoo-sim:18.0-broken)
# for simulated Odoo.
#
# Real Odoo: `up` runs hack/odoo.sh install (Odoo's Debian Python packages,
# Odoo 18.0 unpacked once into ~/.cache/odoo-operator/odoo/18.0) and starts
# hack/sandbox-jobplayer, which runs each `odoo` pod's container as
# `/usr/bin/python3 <odoo>/odoo-bin <the pod's args>` with the pod's env, its
# Secret volumes materialised privately (0600) and its claims' hostPath
# directories; the config file Odoo reads is the pod's own odoo.conf. Image
# tags: 18.0 (Odoo's add-ons) and 18.0-<variant> (plus test/odoo/addons/<variant>:
# v1, v2, broken, errors, missing); another tag waits in ImagePullBackOff.
# A web pod serves HTTP on 127.0.0.1:<port> from 31000-31499, recorded in its
# annotation sandbox.odoo-operator.dev/http-port (its process id in
# sandbox.odoo-operator.dev/pid); Ready follows the real GET /web/health; cron
# pods run Odoo's cron worker; Job pods (init, upgrade, neutralize) end with
# Odoo's exit code; a crashing process restarts with a kubelet's back-off;
# deleting a pod stops its process. `kubectl logs` shows the real output, kept
# in $SANDBOX_DIR/logs/jobs/<ns>_<pod>.log.
#
# The operator's data Jobs (label bemade.org/data-job=true: backups, restores,
# restore points, every Job of `odoo-operator data ...`) really run too, by the
# same player: for each such pod, once, it resolves the container's env
# (secretKeyRef and configMapKeyRef included), maps its claims to their hostPath
# directories under $SANDBOX_DIR/volumes, runs the host's bin/odoo-operator with
# the same `data ...` arguments against the sandbox PostgreSQL (pg_dump/psql of
# PG_BIN, default /usr/lib/postgresql/15/bin), and KWOK ends the pod with the
# real exit code and termination message. Each run's output:
# $SANDBOX_DIR/logs/jobs/<ns>_<pod>.log; the player's own log:
# $SANDBOX_DIR/logs/sandbox-jobplayer.log.
# restart-operator's rebuild of bin/odoo-operator is what the next runs use;
# a change to the player or to hack/kwok needs `down` and `up`.
#
# Environment (all optional):
#   SANDBOX_DIR             state dir (default <repo>/.sandbox); everything lives there
#   SANDBOX_NODES           number of fake nodes (default 4)
#   SANDBOX_ETCD_PORT       etcd client port (default 22379; peer port = this + 1)
#   SANDBOX_APISERVER_PORT  kube-apiserver port (default 26443)
#   SANDBOX_KCM_PORT        kube-controller-manager port (default 20257)
#   SANDBOX_SCHEDULER_PORT  kube-scheduler port (default 20259)
#   SANDBOX_KWOK_PORT       kwok kubelet API port (default 20250)
#   SANDBOX_PG_PORT         PostgreSQL port (default 25432; a free one if taken)
#   SANDBOX_PG2_PORT        a second PostgreSQL server, for moves between clusters
#                           (default 25433; a free one if taken). Not in the clusters
#                           Secret: tests that need it add it ($SANDBOX_DIR/postgres2.env)
#   SANDBOX_CLUSTER_QPS     API qps of kube-controller-manager and kube-scheduler (default 100)
#   SANDBOX_OPERATOR_METRICS_PORT / SANDBOX_OPERATOR_HEALTH_PORT  (default 18080 / 18081)
#   SANDBOX_WEBHOOK_PORT    the operator's webhook port the apiserver calls (default 19443)
#   SANDBOX_OPERATOR        0 = do not build/start the operator (default 1)
#   OPERATOR_ARGS           extra operator flags (word-split)
#   SANDBOX_LEADER_ELECT    1 = the operator takes part in leader election (Lease
#                           odoo-operator/odoo-operator.bemade.org; default 0: it reconciles alone)
#   SANDBOX_OPERATOR2_METRICS_PORT / SANDBOX_OPERATOR2_HEALTH_PORT / SANDBOX_OPERATOR2_WEBHOOK_PORT
#                           ports of start-replica's operator-2 (default: the first's + 2, + 2, + 1)
#   SANDBOX_SERVICE_CIDR    the Service range (default 10.0.0.0/16: room for thousands of
#                           instances; the kubernetes Service stays 10.0.0.1; kwok's pod IPs
#                           are 10.244.0.0/16, see hack/kwok/kwok.yaml)
#   SANDBOX_LEGACY_VERSIONS 1 = serve the deprecated bemade.org/v1 and v1alpha1 versions, as
#                           config/components/legacy-versions does (default 0: v1alpha2 only)
#   SANDBOX_ODOO            0 = no real Odoo: `odoo` pods are left Pending (default 1)
#   SANDBOX_ODOO_HTTP_PORTS 127.0.0.1 port range of the real web pods (default 31000-31499)
#   BIN / ODOO_OPERATOR_CACHE  where build.sh puts the binaries (see there)
# All ports are below the Linux ephemeral range (32768+) and bound to 127.0.0.1.
# The operator gets --metrics-bind-address=127.0.0.1:18080 and
# --health-probe-bind-address=127.0.0.1:18081; `up` waits for its /readyz.
# Two sandboxes can run side by side with distinct SANDBOX_DIR and ports.
#
# There is no storage driver: if hack/sandbox-provisioner exists, `up` builds and
# starts it (bin/sandbox-provisioner) to bind PersistentVolumeClaims to hostPath
# volumes under $SANDBOX_DIR/volumes.
#
# Measured on the 2-core machine (2026-11-25, warm Go caches, binaries built):
#   `up`: 6.7-7.5 s, with or without the operator (build.sh check ~2 s, postgres
#   ~0.5 s, control plane healthy ~4 s, 4 nodes Ready + default ServiceAccount
#   ~1 s, operator rebuild+start ~1 s when its build is cached); `down`: ~1.5 s.
#   Cold, the first `up` also builds the binaries: 6-7 min (10.5 min measured
#   while another build shared the 2 cores).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${SANDBOX_DIR:-$ROOT/.sandbox}
NODES=${SANDBOX_NODES:-4}
ETCD_PORT=${SANDBOX_ETCD_PORT:-22379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))
APISERVER_PORT=${SANDBOX_APISERVER_PORT:-26443}
KCM_PORT=${SANDBOX_KCM_PORT:-20257}
SCHEDULER_PORT=${SANDBOX_SCHEDULER_PORT:-20259}
KWOK_PORT=${SANDBOX_KWOK_PORT:-20250}
PG_PORT=${SANDBOX_PG_PORT:-25432}
PG2_PORT=${SANDBOX_PG2_PORT:-25433}
# Client rate limit of kube-controller-manager and kube-scheduler. Their default
# (20 qps) makes the fake cluster, not the operator, the bottleneck when
# hundreds of instances start at once; SANDBOX_CLUSTER_QPS=20 reproduces it.
CLUSTER_QPS=${SANDBOX_CLUSTER_QPS:-100}
OPERATOR_METRICS_ADDR=127.0.0.1:${SANDBOX_OPERATOR_METRICS_PORT:-18080}
OPERATOR_HEALTH_ADDR=127.0.0.1:${SANDBOX_OPERATOR_HEALTH_PORT:-18081}
# The API server calls the operator's webhooks (/convert, /validate-…) here.
WEBHOOK_PORT=${SANDBOX_WEBHOOK_PORT:-19443}
# The second operator replica (start-replica): same flags, its own ports.
OPERATOR2_METRICS_ADDR=127.0.0.1:${SANDBOX_OPERATOR2_METRICS_PORT:-$((${SANDBOX_OPERATOR_METRICS_PORT:-18080} + 2))}
OPERATOR2_HEALTH_ADDR=127.0.0.1:${SANDBOX_OPERATOR2_HEALTH_PORT:-$((${SANDBOX_OPERATOR_HEALTH_PORT:-18081} + 2))}
WEBHOOK2_PORT=${SANDBOX_OPERATOR2_WEBHOOK_PORT:-$((WEBHOOK_PORT + 1))}
# Wide enough for 1,000 instances and more (a /24 fills at ~250 Services);
# starts at 10.0.0.0 so the kubernetes Service keeps 10.0.0.1 (the apiserver
# certificate's SAN) and stays clear of kwok's pod range 10.244.0.0/16.
SERVICE_CIDR=${SANDBOX_SERVICE_CIDR:-10.0.0.0/16}

PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
KUBECONFIG_PATH=$STATE/kubeconfig
KWOK_DIR=$ROOT/hack/kwok
# Stop order: dependants first, apiserver before etcd, postgres last.
COMPONENTS=(operator-2 operator sandbox-jobplayer sandbox-provisioner broken-logs-watcher kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

log() { printf 'sandbox [%3ss]: %s\n' "$SECONDS" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- processes

# A pid file holds "<pid> <start time>": the start time (field 22 of
# /proc/<pid>/stat) guards against signalling an unrelated process that reused
# the pid, e.g. after a reboot left stale pid files behind.
pid_of() { [[ -f $PIDS/$1.pid ]] && cut -d' ' -f1 "$PIDS/$1.pid"; }
proc_start() {
  local stat f
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # fields after the command name, starting with field 3 (state)
  read -r -a f <<<"$stat"
  echo "${f[19]}"
}
# True if the process exists and is not a zombie: daemons are reparented to init
# once `up` exits, and init may take a while to reap them after they exit.
pid_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
alive() {
  local pid started
  [[ -f $PIDS/$1.pid ]] || return 1
  read -r pid started <"$PIDS/$1.pid"
  [[ -n $pid ]] && pid_running "$pid" && [[ $(proc_start "$pid") == "${started:-}" ]]
}

# Starts a daemon in its own session (pid = process group id, so `down` can stop it
# together with any children) with its output in $LOGS/<name>.log.
start_bg() {
  local name=$1
  shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo "$! $(proc_start $!)" >"$PIDS/$name.pid"
}

stop_component() {
  local name=$1 pid t0=$SECONDS
  pid=$(pid_of "$name") || return 0
  if alive "$name"; then
    [[ -n ${SANDBOX_DEBUG:-} ]] && log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      pid_running "$pid" || break
      sleep 0.1
    done
    if pid_running "$pid"; then
      log "$name (pid $pid) did not stop in 10s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  [[ -n ${SANDBOX_DEBUG:-} ]] && log "stopped $name in $((SECONDS - t0))s"
  rm -f "$PIDS/$name.pid"
}

fail_component() {
  local name=$1 msg=$2
  log "ERROR: $msg"
  if [[ -f $LOGS/$name.log ]]; then
    log "---- last lines of $LOGS/$name.log ----"
    tail -n 40 "$LOGS/$name.log" >&2 || true
    log "----"
  fi
  if [[ -n ${RESTARTING:-} ]]; then
    # restart-operator: the rest of the sandbox keeps running.
    stop_component "$name"
    exit 1
  fi
  log "stopping the components started so far (logs kept in $LOGS; 'hack/sandbox.sh down' removes them)"
  stop_all
  exit 1
}

# wait_for <component> <timeout-seconds> <command...>: polls until the command
# succeeds; fails fast if the component's process died.
wait_for() {
  local name=$1 timeout=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ -f $PIDS/$name.pid ]] && ! alive "$name"; then
      fail_component "$name" "$name exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      fail_component "$name" "$name not healthy after ${timeout}s (check: $*)"
    fi
    sleep 0.2
  done
}

port_in_use() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() {
  local p ports=("$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT")
  [[ $(printf '%s\n' "${ports[@]}" | sort -u | wc -l) == "${#ports[@]}" ]] ||
    die "the SANDBOX_*_PORT settings overlap: ${ports[*]} (etcd uses its port + 1 too)"
  for p in "${ports[@]}"; do
    port_in_use "$p" && die "127.0.0.1:$p is already in use; stop its owner or override the port (see the SANDBOX_*_PORT variables at the top of $0)"
  done
  return 0
}

# ---------------------------------------------------------------- binaries

build_bins() {
  log "building control-plane binaries (hack/k8s-tools/build.sh; cold ~6-7 min, warm ~2 s)"
  BIN=$("$ROOT/hack/k8s-tools/build.sh" | tail -n 1)
  [[ -x $BIN/kube-apiserver ]] || die "build.sh did not produce $BIN/kube-apiserver"
  echo "$BIN" >"$STATE/bin-dir"
  KUBECTL=$BIN/kubectl
}

kc() { KUBECACHEDIR=$STATE/kube-cache "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# ---------------------------------------------------------------- PKI

# Certificates with EC P-256 keys (fast to generate; fine for every component).
make_cert() { # name subject san-or-empty ext-key-usage
  local name=$1 subj=$2 san=$3 eku=$4 ext
  ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku"
  [[ -n $san ]] && ext="$ext
subjectAltName=$san"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile <(echo "$ext") -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr"
}

make_pki() {
  mkdir -p "$PKI"
  (
    umask 077
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -subj "/CN=odoo-operator-sandbox-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    make_cert apiserver "/CN=kube-apiserver" \
      "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1" serverAuth
    # Cluster admin (O=system:masters): kubectl, KCM, scheduler, kwok, the operator,
    # and the apiserver's client cert towards the kubelet API (kwok).
    make_cert admin "/O=system:masters/CN=sandbox-admin" "" clientAuth
    make_cert kwok "/CN=kwok-kubelet" "IP:127.0.0.1,DNS:localhost" serverAuth
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$PKI/sa.key"
    openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  )
}

write_kubeconfig() {
  local b64="base64 -w0"
  cat >"$KUBECONFIG_PATH" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $($b64 <"$PKI/ca.crt")
users:
- name: sandbox-admin
  user:
    client-certificate-data: $($b64 <"$PKI/admin.crt")
    client-key-data: $($b64 <"$PKI/admin.key")
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: sandbox-admin
    namespace: default
current-context: sandbox
EOF
  chmod 600 "$KUBECONFIG_PATH"
}

# ---------------------------------------------------------------- components

start_etcd() {
  start_bg etcd "$BIN/etcd" --name sandbox --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "sandbox=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
  # 1.37 refuses --advertise-address=127.0.0.1 unless --endpoint-reconciler-type=none.
  start_bg kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --cert-dir="$STATE/apiserver-certs" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --authorization-mode=RBAC,Node \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key" \
    --kubelet-preferred-address-types=InternalIP
  wait_for kube-apiserver 60 curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz"
}

start_controllers() {
  local common=(--kubeconfig="$KUBECONFIG_PATH" --authentication-kubeconfig="$KUBECONFIG_PATH"
    --authorization-kubeconfig="$KUBECONFIG_PATH" --leader-elect=false --bind-address=127.0.0.1)
  # --use-service-account-credentials=false: controllers use the admin identity
  # instead of one ServiceAccount each, whose token bootstrap delays the `default`
  # ServiceAccount (needed before any pod can be created) by ~5 s.
  start_bg kube-controller-manager "$BIN/kube-controller-manager" "${common[@]}" \
    --secure-port="$KCM_PORT" --cert-dir="$STATE/kcm-certs" \
    --kube-api-qps="$CLUSTER_QPS" --kube-api-burst="$((CLUSTER_QPS * 2))" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=false
  start_bg kube-scheduler "$BIN/kube-scheduler" "${common[@]}" \
    --secure-port="$SCHEDULER_PORT" --cert-dir="$STATE/scheduler-certs" \
    --kube-api-qps="$CLUSTER_QPS" --kube-api-burst="$((CLUSTER_QPS * 2))"
  # kwok serves Logs objects from the apiserver (--enable-crds=Logs in kwok.yaml),
  # so that CRD must exist before kwok starts.
  kc apply --server-side -f "$KWOK_DIR/crds/" >/dev/null
  # shellcheck disable=SC2016 # envsubst wants the literal variable name
  KWOK_LOGS_DIR=$KWOK_DIR/logs envsubst '${KWOK_LOGS_DIR}' <"$KWOK_DIR/kwok.yaml" >"$STATE/kwok.yaml"
  start_bg kwok "$BIN/kwok" --kubeconfig="$KUBECONFIG_PATH" -c "$STATE/kwok.yaml" \
    --server-address="127.0.0.1:$KWOK_PORT" --node-port="$KWOK_PORT" --node-ip=127.0.0.1 \
    --tls-cert-file="$PKI/kwok.crt" --tls-private-key-file="$PKI/kwok.key"
  log "waiting for kube-controller-manager, kube-scheduler, kwok"
  wait_for kube-controller-manager 60 curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for kube-scheduler 60 curl -fsSk "https://127.0.0.1:$SCHEDULER_PORT/healthz"
  wait_for kwok 60 curl -fsSk "https://127.0.0.1:$KWOK_PORT/healthz"
  start_bg broken-logs-watcher env KUBECONFIG="$KUBECONFIG_PATH" \
    "$KWOK_DIR/broken-logs-watcher.sh" "$KUBECTL" "$KWOK_DIR/logs"
}

create_nodes() {
  local i docs=""
  for ((i = 0; i < NODES; i++)); do
    docs+="---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    node.alpha.kubernetes.io/ttl: \"0\"
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: sandbox-zone-$((i % 2))
status:
  allocatable: {cpu: \"1k\", memory: 4Ti, pods: \"1000\", ephemeral-storage: 1Ti}
  capacity: {cpu: \"1k\", memory: 4Ti, pods: \"1000\", ephemeral-storage: 1Ti}
"
  done
  log "creating $NODES fake nodes"
  kc apply -f - >/dev/null <<<"$docs"
  wait_for kwok 60 kc wait --for=condition=Ready node --all --timeout=5s
}

start_postgres() {
  local port=$PG_PORT
  port_in_use "$port" && port=""
  PGWORK=$STATE/postgres PGPORT=$port "$ROOT/hack/postgres.sh" up >"$STATE/postgres.env"
  PG_PORT=$(sed -n 's/^PGPORT=//p' "$STATE/postgres.env")
  # The second server, started the same way (~0.5 s): the target of the
  # e2e tests that move a database between clusters.
  port=$PG2_PORT
  port_in_use "$port" && port=""
  PGWORK=$STATE/postgres2 PGPORT=$port "$ROOT/hack/postgres.sh" up >"$STATE/postgres2.env"
  PG2_PORT=$(sed -n 's/^PGPORT=//p' "$STATE/postgres2.env")
}

start_operator() {
  [[ ${SANDBOX_OPERATOR:-1} == 1 ]] || { log "operator: skipped (SANDBOX_OPERATOR=${SANDBOX_OPERATOR})"; return 0; }
  [[ -d $ROOT/cmd ]] || { log "operator: ./cmd does not exist yet; not started"; return 0; }
  stop_component operator
  log "operator: go build -o bin/odoo-operator ./cmd"
  (cd "$ROOT" && go build -o bin/odoo-operator ./cmd) || die "operator build failed"
  # The recommended setup: a clusters Secret in the operator's namespace.
  local pg_port pw
  pg_port=$(sed -n 's/^PGPORT=//p' "$STATE/postgres.env")
  pw=$(cat "$(sed -n 's/^PGPASSWORD_FILE=//p' "$STATE/postgres.env")")
  kc create namespace odoo-operator --dry-run=client -o yaml | kc apply -f - >/dev/null
  kc create secret generic postgres-clusters -n odoo-operator --dry-run=client -o yaml \
    --from-literal=clusters.yaml="sandbox: {host: 127.0.0.1, port: $pg_port, adminUser: postgres, adminPassword: \"$pw\", default: true}" |
    kc apply -f - >/dev/null
  # The validating webhook, pointed at the operator on the host; the operator
  # fills its caBundle (and the CRDs' conversion settings) itself.
  # Recreated each time: an apply over the URL form would add the Service back.
  kc delete validatingwebhookconfiguration odoo-operator-validating --ignore-not-found >/dev/null
  kc apply -k "$ROOT/config/webhook" >/dev/null
  kc patch validatingwebhookconfiguration odoo-operator-validating --type=json -p "[
    {\"op\": \"remove\", \"path\": \"/webhooks/0/clientConfig/service\"},
    {\"op\": \"add\", \"path\": \"/webhooks/0/clientConfig/url\", \"value\": \"https://127.0.0.1:$WEBHOOK_PORT/validate-bemade-org-v1alpha2-odooinstance\"}]" >/dev/null
  # Tenants' URLs (webhooks, live-Odoo sources) may reach loopback only on
  # the "tenant-reachable" ports 31000-31999 (real Odoo pods, test
  # listeners): never the apiserver, PostgreSQL or the operator itself.
  run_operator operator "$OPERATOR_METRICS_ADDR" "$OPERATOR_HEALTH_ADDR" "$WEBHOOK_PORT" "${SANDBOX_LEADER_ELECT:-0}"
}

# run_operator <component> <metrics addr> <health addr> <webhook port> <leader-elect 0|1>
# starts bin/odoo-operator and waits for its /readyz. Every replica publishes
# the first one's webhook URL (the API server calls one address).
run_operator() {
  local name=$1 metrics=$2 health=$3 webhook=$4 elect=false pg_port pw_file extra=()
  [[ $5 == 1 ]] && elect=true
  pg_port=$(sed -n 's/^PGPORT=//p' "$STATE/postgres.env")
  pw_file=$(sed -n 's/^PGPASSWORD_FILE=//p' "$STATE/postgres.env")
  # shellcheck disable=SC2206 # OPERATOR_ARGS is deliberately word-split
  [[ -n ${OPERATOR_ARGS:-} ]] && extra=(${OPERATOR_ARGS})
  start_bg "$name" env KUBECONFIG="$KUBECONFIG_PATH" "$ROOT/bin/odoo-operator" \
    --leader-elect="$elect" --leader-election-namespace=odoo-operator \
    --egress-allow=127.0.0.1/32:31000-31999 \
    --metrics-bind-address="$metrics" \
    --health-probe-bind-address="$health" \
    --db-host=127.0.0.1 --db-port="$pg_port" \
    --db-admin-user=postgres --db-admin-password-file="$pw_file" \
    --operator-namespace=odoo-operator --postgres-clusters-secret=postgres-clusters \
    --webhook-host=127.0.0.1 --webhook-port="$webhook" --webhook-url="https://127.0.0.1:$WEBHOOK_PORT" \
    --webhook-cert-dir="$STATE/webhook-certs${name#operator}" --webhook-cert-check-interval=10s \
    "${extra[@]}"
  wait_for "$name" 60 curl -fsS "http://$health/readyz"
  log "$name: running (pid $(pid_of "$name"), leader election $elect, log $LOGS/$name.log)"
}

# Binds PVCs (no storage driver here); the program lives with the operator code.
start_provisioner() {
  [[ -d $ROOT/hack/sandbox-provisioner ]] || return 0
  log "sandbox-provisioner: go build -o bin/sandbox-provisioner ./hack/sandbox-provisioner"
  (cd "$ROOT" && go build -o bin/sandbox-provisioner ./hack/sandbox-provisioner) || die "sandbox-provisioner build failed"
  mkdir -p "$STATE/volumes"
  start_bg sandbox-provisioner env KUBECONFIG="$KUBECONFIG_PATH" "$ROOT/bin/sandbox-provisioner" --root="$STATE/volumes"
  # It has no health endpoint: make sure it survives its start-up.
  sleep 0.5
  alive sandbox-provisioner || fail_component sandbox-provisioner "sandbox-provisioner exited during startup"
}

# Runs the data Jobs' pods for real with the host's operator binary (built by
# start_operator, or here when the operator is not started), and the pods of
# the odoo image as real Odoo processes.
start_jobplayer() {
  [[ -d $ROOT/hack/sandbox-jobplayer ]] || return 0
  log "sandbox-jobplayer: go build -o bin/sandbox-jobplayer ./hack/sandbox-jobplayer"
  (cd "$ROOT" && go build -o bin/sandbox-jobplayer ./hack/sandbox-jobplayer) || die "sandbox-jobplayer build failed"
  [[ -x $ROOT/bin/odoo-operator ]] || (cd "$ROOT" && go build -o bin/odoo-operator ./cmd) || die "operator build failed"
  mkdir -p "$LOGS/jobs"
  local odoo=()
  if [[ ${SANDBOX_ODOO:-1} == 1 ]]; then
    log "real Odoo: hack/odoo.sh install (first time: apt packages and unpacking, ~10 s)"
    odoo=(--odoo-dir="$("$ROOT/hack/odoo.sh" install)" --odoo-addons-dir="$ROOT/test/odoo/addons"
      --http-ports="${SANDBOX_ODOO_HTTP_PORTS:-31000-31499}")
  fi
  # The data Jobs' trust store: the system's CAs and the sandbox's, so an
  # e2e test can serve https (a live Odoo source) with a sandbox certificate.
  local trust=$PKI/jobs-trust.pem
  cat /etc/ssl/certs/ca-certificates.crt "$PKI/ca.crt" >"$trust" 2>/dev/null || cp "$PKI/ca.crt" "$trust"
  start_bg sandbox-jobplayer env KUBECONFIG="$KUBECONFIG_PATH" SSL_CERT_FILE="$trust" "$ROOT/bin/sandbox-jobplayer" \
    --operator-binary="$ROOT/bin/odoo-operator" --pg-bin-dir="${PG_BIN:-/usr/lib/postgresql/15/bin}" \
    --work-dir="$STATE/jobplayer" --logs-dir="$LOGS/jobs" "${odoo[@]}"
  sleep 0.5
  alive sandbox-jobplayer || fail_component sandbox-jobplayer "sandbox-jobplayer exited during startup"
}

apply_crds() {
  local dir=$ROOT/config/crd/bases
  if [[ -d $dir ]] && compgen -G "$dir/*.yaml" >/dev/null; then
    log "applying CRDs from config/crd/bases"
    # --force-conflicts: config/crd/bases is the truth, also over what a test
    # patched (an e2e test serves the legacy versions for its duration).
    kc apply --server-side --force-conflicts -f "$dir" >/dev/null
    if [[ ${SANDBOX_LEGACY_VERSIONS:-0} == 1 ]]; then
      log "serving the deprecated versions bemade.org/v1 and v1alpha1 (SANDBOX_LEGACY_VERSIONS=1)"
      # The patches of config/components/legacy-versions.
      kc patch crd odooinstances.bemade.org --type=json -p '[
        {"op":"test","path":"/spec/versions/0/name","value":"v1"},{"op":"replace","path":"/spec/versions/0/served","value":true},
        {"op":"test","path":"/spec/versions/1/name","value":"v1alpha1"},{"op":"replace","path":"/spec/versions/1/served","value":true}]' >/dev/null
      local kind
      for kind in initjobs upgradejobs backupjobs restorejobs stagingrefreshjobs; do
        kc patch crd "odoo$kind.bemade.org" --type=json -p '[
          {"op":"test","path":"/spec/versions/0/name","value":"v1alpha1"},{"op":"replace","path":"/spec/versions/0/served","value":true}]' >/dev/null
      done
    fi
    kc wait --for condition=established --timeout=60s -f "$dir" >/dev/null
  fi
  # The Gateway API's standard CRDs (HTTPRoute for spec.ingress.gatewayRef),
  # from the Go module the operator is built with.
  local gw
  gw=$(cd "$ROOT" && go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api 2>/dev/null)/config/crd/standard
  if [[ -d $gw ]]; then
    log "applying the Gateway API CRDs from sigs.k8s.io/gateway-api"
    local f files=()
    for f in gatewayclasses gateways httproutes referencegrants; do
      files+=(-f "$gw/gateway.networking.k8s.io_$f.yaml")
    done
    kc apply --server-side "${files[@]}" >/dev/null
    kc wait --for condition=established --timeout=60s "${files[@]}" >/dev/null
  fi
}

stop_all() {
  local c
  for c in "${COMPONENTS[@]}"; do
    stop_component "$c"
  done
  local d
  for d in postgres postgres2; do
    if [[ -d $STATE/$d ]]; then
      PGWORK=$STATE/$d "$ROOT/hack/postgres.sh" down 2>/dev/null || true
    fi
  done
}

# ---------------------------------------------------------------- commands

cmd_up() {
  local start=$SECONDS
  mkdir -p "$STATE"
  if alive kube-apiserver; then
    if cmd_status >/dev/null 2>&1; then
      log "already up (hack/sandbox.sh down first to recreate it)"
      print_usage_hint
      return 0
    fi
    log "a previous sandbox is partly running; recreating it"
    stop_all
  fi
  stop_all
  rm -rf "$STATE"
  mkdir -p "$STATE" "$LOGS" "$PIDS"
  build_bins
  check_ports_free
  local t0=$SECONDS
  make_pki
  write_kubeconfig
  start_postgres
  log "starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok"
  start_etcd
  start_apiserver
  start_controllers
  create_nodes
  # Pods cannot be created before the ServiceAccount controller made `default`.
  log "waiting for the default ServiceAccount"
  wait_for kube-controller-manager 60 kc get serviceaccount default -n default
  log "cluster ready in $((SECONDS - t0))s ($NODES nodes)"
  apply_crds
  start_provisioner
  start_operator
  start_jobplayer
  log "up in $((SECONDS - start))s"
  print_usage_hint
}

print_usage_hint() {
  local bin
  bin=$(cat "$STATE/bin-dir")
  cat >&2 <<EOF
sandbox: use it with
  export KUBECONFIG=$KUBECONFIG_PATH KUBECACHEDIR=$STATE/kube-cache
  $bin/kubectl get nodes
or: eval "\$(hack/sandbox.sh env)"
EOF
}

cmd_down() {
  stop_all
  rm -rf "$STATE"
  log "down"
}

cmd_status() {
  local c rc=0
  for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then
      echo "$c: running (pid $(pid_of "$c"))"
    elif [[ $c == operator || $c == operator-2 || $c == sandbox-provisioner || $c == sandbox-jobplayer ]] && [[ ! -f $PIDS/$c.pid ]]; then
      echo "$c: not started"
    else
      echo "$c: NOT RUNNING"
      rc=1
    fi
  done
  if PGWORK=$STATE/postgres "$ROOT/hack/postgres.sh" status; then :; else rc=1; fi
  if PGWORK=$STATE/postgres2 "$ROOT/hack/postgres.sh" status; then :; else rc=1; fi
  if [[ -f $STATE/bin-dir ]] && alive kube-apiserver; then
    KUBECTL=$(cat "$STATE/bin-dir")/kubectl
    kc get nodes -o wide 2>&1 || rc=1
  fi
  return "$rc"
}

cmd_env() {
  local bin
  if [[ -f $STATE/bin-dir ]]; then
    bin=$(cat "$STATE/bin-dir")
  else
    bin=${BIN:-${ODOO_OPERATOR_CACHE:-$HOME/.cache/odoo-operator}/k8s-bins/v1.37.2}
  fi
  echo "export KUBECONFIG=$KUBECONFIG_PATH"
  # kubectl's discovery cache is keyed by host:port and kept for hours: a
  # sandbox started again on the same port (or with other served versions)
  # would otherwise resolve \`odoo\` from the previous one's cache, to a
  # version no longer served (NotFound). The sandbox's own cache goes with it.
  echo "export KUBECACHEDIR=$STATE/kube-cache"
  echo "export PATH=$bin:\$PATH"
  # For the e2e tests and the scale harness: where the operator's metrics and
  # pid file are.
  echo "export SANDBOX_STATE=$STATE"
  echo "export SANDBOX_OPERATOR_METRICS_URL=http://$OPERATOR_METRICS_ADDR/metrics"
  echo "export SANDBOX_OPERATOR2_METRICS_URL=http://$OPERATOR2_METRICS_ADDR/metrics"
}

cmd_restart_operator() {
  alive kube-apiserver || die "sandbox is not up (hack/sandbox.sh up)"
  BIN=$(cat "$STATE/bin-dir")
  KUBECTL=$BIN/kubectl
  RESTARTING=1
  # The checkout may define kinds the running cluster does not know yet.
  apply_crds
  start_operator
}

# The second replica (leader election on): the failover tests kill the leader.
cmd_start_replica() {
  alive kube-apiserver || die "sandbox is not up (hack/sandbox.sh up)"
  [[ -x $ROOT/bin/odoo-operator ]] || die "bin/odoo-operator is missing (hack/sandbox.sh restart-operator builds it)"
  RESTARTING=1
  stop_component operator-2
  run_operator operator-2 "$OPERATOR2_METRICS_ADDR" "$OPERATOR2_HEALTH_ADDR" "$WEBHOOK2_PORT" 1
}

# The API server goes away (SIGTERM, as a rolling control-plane upgrade
# does) and comes back on the same etcd; every client must re-list and
# re-watch.
cmd_restart_apiserver() {
  alive kube-apiserver || die "sandbox is not up (hack/sandbox.sh up)"
  BIN=$(cat "$STATE/bin-dir")
  RESTARTING=1
  stop_component kube-apiserver
  start_apiserver
  log "kube-apiserver: restarted (pid $(pid_of kube-apiserver))"
}

# etcd goes away (SIGTERM) and comes back on the same data directory: the
# API server's watches break and its requests fail until etcd answers again;
# the API server itself keeps running.
cmd_restart_etcd() {
  alive etcd || die "sandbox is not up (hack/sandbox.sh up)"
  BIN=$(cat "$STATE/bin-dir")
  RESTARTING=1
  stop_component etcd
  start_etcd
  log "etcd: restarted (pid $(pid_of etcd))"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  restart-operator) cmd_restart_operator ;;
  start-replica) cmd_start_replica ;;
  stop-replica) stop_component operator-2 ;;
  restart-apiserver) cmd_restart_apiserver ;;
  restart-etcd) cmd_restart_etcd ;;
  *)
    echo "usage: $0 up|down|status|env|kubeconfig|restart-operator|start-replica|stop-replica|restart-apiserver|restart-etcd" >&2
    exit 2
    ;;
esac
