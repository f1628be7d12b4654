#!/bin/sh
# Creates a certificate authority and node certificates for TLS between
# grove nodes (grove serve --cluster-port / grove node --join with
# --tls-cert, --tls-key, --tls-ca). For tests and trials: the keys are not
# protected by a passphrase. For production, use your own CA.
#
#   scripts/make-test-ca.sh DIR [--ca NAME] NODE...
#
# Writes DIR/NAME.pem and DIR/NAME.key (the CA; NAME defaults to "ca") and,
# for every NODE, DIR/NODE.pem and DIR/NODE.key signed by that CA, valid for
# 30 days, with NODE, localhost and 127.0.0.1 as subject alternative names.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR [--ca NAME] NODE..." >&2
  exit 2
fi
dir=$1
shift
ca=ca
if [ "$1" = "--ca" ]; then
  ca=$2
  shift 2
fi
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/$ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=grove test CA $ca" -keyout "$dir/$ca.key" -out "$dir/$ca.pem" 2>/dev/null
fi
for node in "$@"; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$node" \
    -keyout "$dir/$node.key" -out "$dir/$node.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$node" \
    >"$dir/$node.ext"
  openssl x509 -req -in "$dir/$node.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" -CAcreateserial -days 30 \
    -extfile "$dir/$node.ext" -out "$dir/$node.pem" 2>/dev/null
  rm -f "$dir/$node.csr" "$dir/$node.ext"
done
echo "$dir: CA $ca.pem; nodes: $*"
