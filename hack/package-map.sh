#!/usr/bin/env bash
# package-map.sh prints the package map (Go lines per package: non-test and
# test, for every package `go list` knows, e2e and scale tests included) and
# the OdooInstance reconciler's method count (methods with receiver
# *Reconciler in internal/controller/odooinstance, and over how many files).
# Run from anywhere in the checkout; measures the working tree.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
module=$(go list -m)

lines() { if [ $# -eq 0 ]; then echo 0; else cat "$@" | wc -l; fi; }

printf '%-58s %8s %8s\n' package lines tests
total=0 ttotal=0
while read -r dir pkg; do
	shopt -s nullglob
	all=("$dir"/*.go) tests=("$dir"/*_test.go)
	shopt -u nullglob
	src=()
	for f in "${all[@]}"; do [[ $f == *_test.go ]] || src+=("$f"); done
	n=$(lines "${src[@]}") t=$(lines "${tests[@]}")
	total=$((total + n)) ttotal=$((ttotal + t))
	printf '%-58s %8d %8d\n' "${pkg#"$module"/}" "$n" "$t"
done < <(go list -e -tags e2e,scale -f '{{.Dir}} {{.ImportPath}}' ./... | sort -k2)
printf '%-58s %8d %8d\n' TOTAL "$total" "$ttotal"

echo
files=$(grep -lE '^func \([a-z]+ \*Reconciler\)' internal/controller/odooinstance/*.go | grep -vc '_test\.go$' || true)
methods=$(grep -hE '^func \([a-z]+ \*Reconciler\)' $(ls internal/controller/odooinstance/*.go | grep -v '_test\.go$') | wc -l)
echo "OdooInstance reconciler (internal/controller/odooinstance, receiver *Reconciler): $methods methods over $files files"
