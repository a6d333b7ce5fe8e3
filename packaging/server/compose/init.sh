#!/bin/sh
# The compose `init` job (runs in the flourish image, as its `flourish` user), once per
# `docker compose up` and after every upgrade; every step is idempotent:
#   1. `flourish server init`: the schema to the newest revision, the group roles, the seed;
#   2. the service's own database login, flourish_svc (a member of flourish_service: it
#      owns nothing and may only switch a request to the teacher it signs in).
# FLOURISH_DATABASE_URL (the administrator) and PGPASSWORD come from docker-compose.yml.
set -eu
flourish server init
FLOURISH_PASSWORD="$SERVICE_DB_PASSWORD" flourish server add-service-login --login flourish_svc
