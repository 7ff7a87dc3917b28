#!/usr/bin/env bash
# Scrapes the sandbox operator's metrics endpoint every INTERVAL seconds for
# DURATION seconds into DIR/<unix-ms>.prom, the input of dashboard-render.
# Usage: eval "$(hack/sandbox.sh env)"; hack/dashboard-render/scrape.sh DIR [DURATION] [INTERVAL]
set -euo pipefail
dir=$1 duration=${2:-900} interval=${3:-15}
url=${SANDBOX_OPERATOR_METRICS_URL:?run eval "\$(hack/sandbox.sh env)" first}
mkdir -p "$dir"
end=$((SECONDS + duration))
while ((SECONDS < end)); do
  ts=$(date +%s%3N)
  curl -fsS --max-time 10 "$url" >"$dir/$ts.prom.tmp" && mv "$dir/$ts.prom.tmp" "$dir/$ts.prom" || rm -f "$dir/$ts.prom.tmp"
  sleep "$interval"
done
