#!/usr/bin/env bash
# Regenerates healthy.log and broken.log (CRI log format, which kwok's log server
# requires) from the real Odoo log samples in shared/testdata/odoo-logs/samples.txt.
# Usage: hack/kwok/logs/generate.sh [path/to/samples.txt]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S=${1:-$HERE/../../../../shared/testdata/odoo-logs/samples.txt}
[[ -f $S ]] || { echo "samples not found: $S" >&2; exit 1; }

# Lines of sample "## N." between the BEGIN/END markers, verbatim.
sample() { awk -v n="## $1." 'index($0,n)==1{f=1;next} f&&/^-----BEGIN-----$/{p=1;next} p&&/^-----END-----$/{exit} p' "$S"; }
# "<RFC3339Nano> <stream> F <line>", 10 ms apart so --since/--tail behave.
cri() {
  local stream=$1 i=0 line
  while IFS= read -r line; do
    printf '2026-01-01T00:00:%02d.%06d000Z %s F %s\n' $((i / 100)) $(((i % 100) * 10000)) "$stream" "$line"
    i=$((i + 1))
  done
}
# Odoo 18 startup banner in the canonical layout (odoo/netsvc.py); Odoo logs to stderr.
banner() {
  cat <<'EOF'
2026-01-01 00:00:00,101 1 INFO ? odoo: Odoo version 18.0-20260101 
2026-01-01 00:00:00,101 1 INFO ? odoo: Using configuration file at /etc/odoo/odoo.conf 
2026-01-01 00:00:00,101 1 INFO ? odoo: addons paths: ['/usr/lib/python3/dist-packages/odoo/addons', '/var/lib/odoo/addons/18.0', '/mnt/extra-addons'] 
2026-01-01 00:00:00,102 1 INFO ? odoo: database: odoo@127.0.0.1:5432 
EOF
}

{
  banner
  cat <<'EOF'
2026-01-01 00:00:00,412 1 INFO ? odoo.addons.base.models.ir_actions_report: Will use the Wkhtmltopdf binary at /usr/local/bin/wkhtmltopdf 
2026-01-01 00:00:00,583 1 INFO ? odoo.service.server: HTTP service (werkzeug) running on 0.0.0.0:8069 
2026-01-01 00:00:00,601 1 INFO odoo odoo.modules.loading: loading 1 modules... 
2026-01-01 00:00:00,611 1 INFO odoo odoo.modules.loading: 1 modules loaded in 0.01s, 0 queries (+0 extra) 
2026-01-01 00:00:00,702 1 INFO odoo odoo.modules.loading: loading 48 modules... 
2026-01-01 00:00:01,015 1 INFO odoo odoo.modules.loading: 48 modules loaded in 0.31s, 0 queries (+0 extra) 
2026-01-01 00:00:01,120 1 INFO odoo odoo.modules.loading: Modules loaded. 
2026-01-01 00:00:01,125 1 INFO odoo odoo.modules.registry: Registry loaded in 0.531s 
EOF
} | cri stderr >"$HERE/healthy.log"

# Failure: server-wide module load failure (5), failed registry load (3) and the
# CRITICAL "Failed to initialize database" traceback (24); the pod then exits 255.
{ banner; sample 5; sample 3; sample 24; } | cri stderr >"$HERE/broken.log"
