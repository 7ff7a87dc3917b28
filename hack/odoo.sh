#!/usr/bin/env bash
# Real Odoo 18.0 for the sandbox and the tests, run on the host with Debian's
# /usr/bin/python3 (hack/sandbox-jobplayer starts it for pods of the `odoo`
# image repository).
#
# Usage: hack/odoo.sh install|dir
#   install  apt-installs Odoo's Debian Python dependencies (when one is
#            missing; needs root then) and unpacks Odoo 18.0 once into the
#            cache; idempotent, ~0.1 s when done. Prints the Odoo directory.
#   dir      prints the Odoo directory (holds odoo-bin) without installing
#
# Where Odoo comes from, first found wins:
#   ODOO_TARBALL (default <repo>/../shared/odoo/odoo-18.0.tar.gz: the copy CI
#   puts beside the clone; for a git worktree, the same beside its main
#   checkout), else `git clone --depth 1 --branch 18.0
#   https://github.com/odoo/odoo`.
# env: ODOO_DIR  where Odoo goes (default ${ODOO_OPERATOR_CACHE:-~/.cache/odoo-operator}/odoo/18.0)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ODOO_OPERATOR_CACHE:-$HOME/.cache/odoo-operator}
ODOO_DIR=${ODOO_DIR:-$CACHE/odoo/18.0}
if [[ -z ${ODOO_TARBALL:-} ]]; then
  ODOO_TARBALL=$ROOT/../shared/odoo/odoo-18.0.tar.gz
  # In a git worktree, the shared folder is beside the main checkout.
  common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  if [[ ! -f $ODOO_TARBALL && -n $common ]]; then
    ODOO_TARBALL=$(dirname "$common")/../shared/odoo/odoo-18.0.tar.gz
  fi
fi
# Odoo 18.0's Python dependencies as Debian packages (its debian/control).
DEBS=(python3-asn1crypto python3-babel python3-cbor2 python3-chardet python3-dateutil
  python3-decorator python3-docutils python3-freezegun python3-geoip2 python3-pil
  python3-jinja2 python3-libsass python3-lxml python3-num2words python3-ofxparse
  python3-openpyxl python3-passlib python3-polib python3-psutil python3-psycopg2
  python3-openssl python3-pypdf2 python3-rjsmin python3-qrcode python3-renderpm
  python3-reportlab python3-requests python3-stdnum python3-tz python3-vobject
  python3-werkzeug python3-xlsxwriter python3-xlrd python3-zeep python3-gevent
  python3-greenlet)

log() { echo "odoo.sh: $*" >&2; }
die() { log "$*"; exit 1; }

install_debs() {
  local missing=() p installed
  # dpkg-query exits 1 when it knows none of a name (never installed): on a
  # fresh machine that is most of them, and it must not end the script.
  installed=$({ dpkg-query -W -f='${Package} ${Status}\n' "${DEBS[@]}" 2>/dev/null || true; } | sed -n 's/ install ok installed$//p')
  for p in "${DEBS[@]}"; do
    grep -qx "$p" <<<"$installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages ${missing[*]}; run as root or: apt-get install ${missing[*]}"
  log "installing ${#missing[@]} Debian Python packages with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends --no-upgrade "${DEBS[@]}" >&2
}

install_odoo() {
  [[ -f $ODOO_DIR/odoo-bin ]] && return 0
  tmp=""
  mkdir -p "$(dirname "$ODOO_DIR")"
  tmp=$(mktemp -d "$(dirname "$ODOO_DIR")/.unpack.XXXXXX")
  trap 'rm -rf "${tmp:-}"' EXIT
  if [[ -f $ODOO_TARBALL ]]; then
    log "unpacking $ODOO_TARBALL"
    tar -xzf "$ODOO_TARBALL" -C "$tmp"
    mv "$tmp/odoo-18.0" "$tmp/odoo"
  else
    log "no $ODOO_TARBALL; cloning Odoo 18.0 from GitHub"
    git clone -q --depth 1 --branch 18.0 https://github.com/odoo/odoo "$tmp/odoo"
  fi
  [[ -f $tmp/odoo/odoo-bin ]] || die "no odoo-bin in what was unpacked"
  # Renamed into place last, so an interrupted install is redone.
  rm -rf "$ODOO_DIR"
  mv "$tmp/odoo" "$ODOO_DIR"
  rm -rf "$tmp"
}

case ${1:-} in
  install)
    install_debs
    install_odoo
    echo "$ODOO_DIR"
    ;;
  dir) echo "$ODOO_DIR" ;;
  *)
    echo "usage: $0 install|dir" >&2
    exit 2
    ;;
esac
