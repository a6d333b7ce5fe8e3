#!/usr/bin/env bash
# Entry point of the compose `db` service (runs as root inside the postgres:15 image).
#
# PostgreSQL refuses a TLS key that others can read or that it does not own, and a key
# bind-mounted from the host rarely has the right owner. Copy the pair to a private
# folder owned by the server's user, then hand over to the image's own entrypoint with
# TLS on and the Flourish pg_hba.conf.
set -euo pipefail
certs=/etc/flourish/certs
private=/var/lib/postgresql/tls
for f in server.crt server.key; do
  if [ ! -s "$certs/$f" ]; then
    echo "start-db.sh: $certs/$f is missing: put server.crt and server.key in FLOURISH_CERT_DIR" >&2
    exit 1
  fi
done
install -d -o postgres -g postgres -m 0700 "$private"
install -o postgres -g postgres -m 0644 "$certs/server.crt" "$private/server.crt"
install -o postgres -g postgres -m 0600 "$certs/server.key" "$private/server.key"
exec docker-entrypoint.sh postgres \
  -c ssl=on \
  -c "ssl_cert_file=$private/server.crt" \
  -c "ssl_key_file=$private/server.key" \
  -c hba_file=/etc/flourish/pg_hba.conf
