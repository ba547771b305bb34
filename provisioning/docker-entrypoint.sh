#!/usr/bin/env bash
# Container start: first-run initialisation by install.sh (secrets, recipients, Caddy and
# app settings, database; idempotent, so later starts change nothing), then the supervisor.
# Settings come from the environment (docker run -e …):
#   OFFICINE_SITE (required), OFFICINE_TLS (internal | acme:EMAIL | cert:CERT,KEY),
#   OFFICINE_VAULT_RECIPIENT / OFFICINE_DRILL_RECIPIENT (age1…), OFFICINE_ADMIN_EMAIL
set -euo pipefail
: "${OFFICINE_SITE:?set OFFICINE_SITE to the name of the appliance}"
args=(--site "$OFFICINE_SITE" --tls "${OFFICINE_TLS:-internal}" --no-start --min-ram-mb 0 --min-disk-mb 0
  --http-port "${OFFICINE_HTTP_PORT:-8080}" --https-port "${OFFICINE_HTTPS_PORT:-8443}"
  --app-port "${OFFICINE_APP_PORT:-8081}" --pg-port "${OFFICINE_PG_PORT:-5432}")
[ -n "${OFFICINE_VAULT_RECIPIENT:-}" ] && args+=(--vault-recipient "$OFFICINE_VAULT_RECIPIENT")
[ -n "${OFFICINE_DRILL_RECIPIENT:-}" ] && args+=(--drill-recipient "$OFFICINE_DRILL_RECIPIENT")
[ -n "${OFFICINE_ADMIN_EMAIL:-}" ] && args+=(--admin-email "$OFFICINE_ADMIN_EMAIL")
/opt/officine/current/provisioning/install.sh "${args[@]}"
exec /opt/officine/current/provisioning/officine-services.sh run
