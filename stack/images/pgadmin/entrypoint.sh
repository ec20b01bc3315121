#!/bin/sh
# First start (empty /var/lib/pgadmin): create pgAdmin's configuration database with the
# administrator PGADMIN_DEFAULT_EMAIL / PGADMIN_DEFAULT_PASSWORD (the upstream image's variables)
# and import the servers of PGADMIN_SERVER_JSON_FILE (default /etc/pgadmin/servers.json) for that
# user. Then serve pgAdmin with gunicorn on :5050, as the upstream image does.
set -eu
: "${PGADMIN_DEFAULT_EMAIL:?set PGADMIN_DEFAULT_EMAIL}"
: "${PGADMIN_DEFAULT_PASSWORD:?set PGADMIN_DEFAULT_PASSWORD}"
SERVERS=${PGADMIN_SERVER_JSON_FILE:-/etc/pgadmin/servers.json}
APP_DIR=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pgadmin4
cd "$APP_DIR"
if [ ! -f /var/lib/pgadmin/pgadmin4.db ]; then
  PGADMIN_SETUP_EMAIL=$PGADMIN_DEFAULT_EMAIL PGADMIN_SETUP_PASSWORD=$PGADMIN_DEFAULT_PASSWORD \
    python3 setup.py setup-db
  if [ -f "$SERVERS" ]; then
    python3 setup.py load-servers "$SERVERS" --user "$PGADMIN_DEFAULT_EMAIL"
  fi
fi
exec gunicorn --bind 0.0.0.0:5050 --workers 1 --threads 25 --timeout 300 \
  --limit-request-line 8190 --access-logfile - --chdir "$APP_DIR" pgAdmin4:app
