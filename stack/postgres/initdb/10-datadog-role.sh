#!/bin/sh
# The Datadog agent's PostgreSQL check connects as `datadog` with pg_monitor (read-only
# statistics); created at first start when DD_POSTGRES_PASSWORD is given to the postgres service.
# Counted in the connection headroom of stack/environments.yaml.
set -eu
if [ -n "${DD_POSTGRES_PASSWORD:-}" ]; then
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v password="$DD_POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE datadog WITH LOGIN PASSWORD :'password';
GRANT pg_monitor TO datadog;
SQL
fi
