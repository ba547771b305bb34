#!/usr/bin/env bash
# Officine Appliance — installation on Debian 12 (idempotent: a second run changes nothing).
#
#   provisioning/install.sh [options]
#
# Run it from a built release (an unpacked bundle, or a checkout after `npm ci && npm run build`).
# A bundle ships its Node 20 (runtime/bin/node): the host then needs no Node at all.
# Options:
#   --root DIR             install under DIR instead of / (scratch root for tests; no systemd then)
#   --dry-run              print what would be done, change nothing
#   --site NAME            public or LAN name of the appliance            [hostname -f]
#   --tls MODE             internal | acme:EMAIL | cert:CERT.pem,KEY.pem   [internal]
#                            internal: LAN, Caddy's local CA; acme: public name, Let's Encrypt;
#                            cert: the groupement's own certificate
#   --http-port N / --https-port N   Caddy's ports                        [80 / 443]
#   --bind ADDR            Caddy's listen address (empty: all)            []
#   --caddy-admin ADDR|off Caddy admin API                                [localhost:2019]
#   --app-port N           the app, on 127.0.0.1                           [8080]
#   --pg-port N            PostgreSQL, on 127.0.0.1                        [5432]
#   --vault-recipient AGE1 / --drill-recipient AGE1
#                          public age recipients for backups; generated when absent
#                          (the private key is printed ONCE, never stored here)
#   --admin-email EMAIL    first super-admin (password, TOTP QR code and recovery codes shown once)
#   --release-keys FILE    pinned release public keys (from release-keys.mjs keygen)
#   --no-start             do not start the services
#   --docker-build         image build: packages, users, release only (first-run init at container start)
#   --min-ram-mb N / --min-disk-mb N   pre-check thresholds                [2048 / 5120]
#   -h | --help
set -euo pipefail
umask 022

SRC=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/debian-packages.sh
. "$SRC/provisioning/lib/debian-packages.sh"

ROOT=/ DRY=0 SITE="" TLS=internal HTTP_PORT=80 HTTPS_PORT=443 BIND="" CADDY_ADMIN=localhost:2019
APP_PORT=8080 PG_PORT=5432 VAULT="" DRILL="" ADMIN_EMAIL="" RELEASE_KEYS="" START=1 DOCKER_BUILD=0
MIN_RAM_MB=2048 MIN_DISK_MB=5120
while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$2; shift ;;
    --dry-run) DRY=1 ;;
    --site) SITE=$2; shift ;;
    --tls) TLS=$2; shift ;;
    --http-port) HTTP_PORT=$2; shift ;;
    --https-port) HTTPS_PORT=$2; shift ;;
    --bind) BIND=$2; shift ;;
    --caddy-admin) CADDY_ADMIN=$2; shift ;;
    --app-port) APP_PORT=$2; shift ;;
    --pg-port) PG_PORT=$2; shift ;;
    --vault-recipient) VAULT=$2; shift ;;
    --drill-recipient) DRILL=$2; shift ;;
    --admin-email) ADMIN_EMAIL=$2; shift ;;
    --release-keys) RELEASE_KEYS=$2; shift ;;
    --no-start) START=0 ;;
    --docker-build) DOCKER_BUILD=1; START=0 ;;
    --min-ram-mb) MIN_RAM_MB=$2; shift ;;
    --min-disk-mb) MIN_DISK_MB=$2; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "Option inconnue : $1 (voir --help)" >&2; exit 2 ;;
  esac
  shift
done
ROOT=$(realpath -m "$ROOT"); R=${ROOT%/}   # "" for /, so "$R/etc" is /etc
[ -n "$SITE" ] || SITE=$(hostname -f 2>/dev/null || hostname)

CHANGES=0
say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() { printf 'ERREUR : %s\n' "$*" >&2; exit 1; }
changed() { CHANGES=$((CHANGES + 1)); say "  + $*"; }
# run CMD...: executes, or only prints it with --dry-run.
run() { if [ "$DRY" = 1 ]; then say "  [dry-run] $*"; else "$@"; fi; }

# put_file PATH MODE OWNER:GROUP: writes stdin to PATH only when content, mode or owner differ.
put_file() {
  local path=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c '%a %U:%G' "$path")" = "${mode#0} $owner" ]; then
    rm -f "$tmp"; return 0
  fi
  if [ "$DRY" = 1 ]; then say "  [dry-run] écrire $path ($mode $owner)"; rm -f "$tmp"; return 0; fi
  install -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$tmp" "$path"
  rm -f "$tmp"
  changed "$path"
}

# ensure_dir PATH MODE OWNER:GROUP
ensure_dir() {
  local path=$1 mode=$2 owner=$3
  if [ -d "$path" ] && [ "$(stat -c '%a %U:%G' "$path")" = "${mode#0} $owner" ]; then return 0; fi
  if [ "$DRY" = 1 ]; then say "  [dry-run] répertoire $path ($mode $owner)"; return 0; fi
  install -d -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$path"
  changed "$path/"
}

# new_secret NAME: creates a 0600 secret owned by officine once; never rewrites it.
new_secret() {
  local name=$1 path="$R/etc/officine/secrets/$1"; shift
  [ -s "$path" ] && return 0
  if [ "$DRY" = 1 ]; then say "  [dry-run] générer le secret $name (0600)"; return 0; fi
  ( umask 077; "$@" >"$path.tmp" ) && chown officine:officine "$path.tmp" && chmod 0600 "$path.tmp" && mv "$path.tmp" "$path"
  changed "secret $name"
}

systemd_mode() { [ -z "$R" ] && [ -d /run/systemd/system ]; }
services() { "$R/opt/officine/current/provisioning/officine-services.sh" --root "${R:-/}" "$@"; }

# ---------------------------------------------------------------- pre-checks
step "Vérifications préalables"
[ "$(id -u)" -eq 0 ] || die "lancez install.sh en root (sudo)."
# shellcheck disable=SC1091
. /etc/os-release
[ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ] || die "Debian 12 requis (système détecté : ${PRETTY_NAME:-inconnu})."
ram_mb=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
[ "$ram_mb" -ge "$MIN_RAM_MB" ] || die "mémoire insuffisante : ${ram_mb} Mo, ${MIN_RAM_MB} Mo requis."
disk_probe=$R/; while [ ! -d "$disk_probe" ]; do disk_probe=$(dirname "$disk_probe"); done
disk_mb=$(df -Pm "$disk_probe" | awk 'NR==2 {print $4}')
[ "$disk_mb" -ge "$MIN_DISK_MB" ] || die "disque insuffisant sous $disk_probe : ${disk_mb} Mo libres, ${MIN_DISK_MB} Mo requis."
# Node: a release bundle ships the Node 20 it was built and tested with (runtime/bin/node),
# so the host's Node does not matter; a development checkout uses the host's, 20 or later.
# Every Node this script and the installed services start goes through the release's
# launcher (provisioning/officine-node), which makes the same choice.
if [ -e "$SRC/runtime/bin/node" ]; then
  node_version=$("$SRC/runtime/bin/node" --version 2>/dev/null) \
    || die "le Node.js fourni avec le paquet ($SRC/runtime/bin/node) ne démarre pas sur cette machine : paquet incomplet ou prévu pour une autre architecture que celle-ci ($(uname -m))."
  NODE_ORIGIN="fourni avec le paquet"
else
  command -v node >/dev/null || die "Node.js 20 introuvable : Debian 12 ne fournit que Node 18. Installez depuis un paquet de version (il contient son propre Node 20, rien à installer), ou installez Node 20 (paquet nodejs 20 de NodeSource ou de votre dépôt interne) puis relancez."
  node_version=$(node --version)
  NODE_ORIGIN="du système, version de développement"
fi
node_major=${node_version#v}; node_major=${node_major%%.*}
[ "${node_major:-0}" -ge 20 ] 2>/dev/null || die "Node.js $node_version trouvé ($NODE_ORIGIN), 20 ou plus requis (Debian 12 ne fournit que Node 18) : installez depuis un paquet de version (il contient son propre Node 20), ou installez Node 20 puis relancez."
[ -x "$SRC/provisioning/officine-node" ] || die "$SRC/provisioning/officine-node manquant ou non exécutable : paquet de version incomplet."
NODE="$SRC/provisioning/officine-node"
[ -f "$SRC/dist/appliance/src/cli/main.js" ] && [ -d "$SRC/node_modules" ] || die "$SRC n'est pas une version construite : lancez « npm ci && npm run build » d'abord, ou utilisez un paquet de version."
VERSION=$("$NODE" -p "require('$SRC/package.json').version")
# A port is fine when free, or when held by this installation's own running service.
port_ok() {
  local port=$1 svc=$2
  ss -Hltn "sport = :$port" | grep -q . || ss -Hlun "sport = :$port" | grep -q . || return 0
  if [ -f "$R/etc/officine/install.env" ] && [ -x "$R/opt/officine/current/provisioning/officine-services.sh" ]; then
    services status "$svc" >/dev/null 2>&1 && return 0
  fi
  return 1
}
if [ "$DOCKER_BUILD" = 0 ]; then
  for spec in "$HTTP_PORT:caddy" "$HTTPS_PORT:caddy" "$APP_PORT:app" "$PG_PORT:postgresql"; do
    port_ok "${spec%%:*}" "${spec#*:}" || die "le port ${spec%%:*} (${spec#*:}) est déjà utilisé par un autre programme."
  done
fi
say "  Debian 12, ${ram_mb} Mo de RAM, ${disk_mb} Mo libres, Node $node_version ($NODE_ORIGIN), version $VERSION à installer."

# ---------------------------------------------------------------- packages
step "Paquets Debian (PostgreSQL, Caddy, age, zstd)"
missing=$(missing_debian_packages postgresql caddy age zstd openssl ca-certificates iproute2 util-linux)
if [ -n "$missing" ]; then
  if [ "$DRY" = 1 ]; then say "  [dry-run] apt-get install $missing"; else ensure_debian_packages $missing; changed "paquets $missing"; fi
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PG_BIN" ] || [ "$DRY" = 1 ] || die "binaires PostgreSQL introuvables sous /usr/lib/postgresql."

# ---------------------------------------------------------------- users and directories
step "Utilisateurs système et arborescence"
for u in officine officine-agent; do
  if ! id "$u" >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$u"
    [ "$DRY" = 1 ] || changed "utilisateur $u"
  fi
done
OWN=officine:officine
id officine >/dev/null 2>&1 || OWN=root:root   # dry-run on a fresh machine
if [ -n "$R" ]; then ensure_dir "$R" 0755 root:root; fi
for d in opt opt/officine opt/officine/releases etc var var/lib var/log run; do ensure_dir "$R/$d" 0755 root:root; done
ensure_dir "$R/etc/officine" 0750 "root:${OWN#*:}"
ensure_dir "$R/etc/officine/secrets" 0700 "$OWN"
ensure_dir "$R/var/lib/officine" 0750 "$OWN"
ensure_dir "$R/var/log/officine" 0750 "$OWN"
ensure_dir "$R/etc/officine-agent" 0750 root:officine-agent 2>/dev/null || true

# ---------------------------------------------------------------- release
step "Version $VERSION sous $R/opt/officine"
REL="$R/opt/officine/releases/$VERSION"
if [ ! -d "$REL" ]; then
  run "$NODE" "$SRC/provisioning/stage-release.mjs" "$REL"
  [ "$DRY" = 1 ] || changed "version $VERSION installée"
fi
if [ "$(readlink "$R/opt/officine/current" 2>/dev/null)" != "releases/$VERSION" ]; then
  if [ -L "$R/opt/officine/current" ] || [ ! -e "$R/opt/officine/current" ]; then
    run ln -sfn "releases/$VERSION" "$R/opt/officine/current"
    [ "$DRY" = 1 ] || changed "current -> releases/$VERSION"
  fi
fi
if [ -n "$RELEASE_KEYS" ]; then
  put_file "$R/etc/officine/release-keys.json" 0640 "root:${OWN#*:}" <"$RELEASE_KEYS"
elif [ -f "$SRC/provisioning/release-keys.json" ]; then
  put_file "$R/etc/officine/release-keys.json" 0640 "root:${OWN#*:}" <"$SRC/provisioning/release-keys.json"
fi

if [ "$DOCKER_BUILD" = 1 ]; then
  say "Image : paquets, utilisateurs et version en place ; l'initialisation se fait au premier démarrage du conteneur."
  exit 0
fi

# ---------------------------------------------------------------- secrets
step "Secrets (0600, propriétaire officine)"
new_secret jwt-signing-key sh -c 'head -c 32 /dev/urandom | base64'
new_secret data-key sh -c 'head -c 32 /dev/urandom | base64'
new_secret db-password sh -c 'head -c 24 /dev/urandom | base64 | tr -d "/+="'
new_secret appliance-x25519.pem openssl genpkey -algorithm X25519
new_secret appliance-ed25519.pem openssl genpkey -algorithm ED25519

# ---------------------------------------------------------------- backup recipients
step "Destinataires des sauvegardes (clés publiques age)"
RECIPIENTS="$R/etc/officine/backup-recipients.txt"
if [ ! -s "$RECIPIENTS" ]; then
  # recipient ROLE GIVEN: prints the public recipient; generates a pair when none given and
  # prints the private key once (to the terminal only) for offline storage.
  recipient() {
    local role=$1 given=$2 answer keys
    if [ -z "$given" ] && [ -t 0 ] && [ "$DRY" = 0 ]; then
      read -r -p "  Destinataire age « $role » (age1…, vide pour en générer un) : " answer </dev/tty || true
      given=$answer
    fi
    if [ -n "$given" ]; then
      [[ "$given" =~ ^age1[02-9ac-hj-np-z]{58}$ ]] || die "destinataire $role invalide : $given"
      printf '%s\n' "$given"; return
    fi
    keys=$(age-keygen 2>/dev/null)
    # stderr, not stdout: stdout is the captured public recipient, and nothing writes the
    # private key to a file
    {
      printf '\n  ┌── CLÉ PRIVÉE DE SAUVEGARDE « %s » — affichée UNE SEULE FOIS ──\n' "$role"
      printf '  │ Copiez-la hors ligne (coffre, papier). Elle n’est conservée nulle part ici ;\n'
      printf '  │ sans elle, les sauvegardes chiffrées pour « %s » sont illisibles.\n' "$role"
      printf '  │ %s\n' "$(printf '%s\n' "$keys" | grep '^AGE-SECRET-KEY-')"
      printf '  └──\n'
    } >&2
    printf '%s\n' "$keys" | grep '^# public key: ' | sed 's/^# public key: //'
  }
  if [ "$DRY" = 1 ]; then
    say "  [dry-run] destinataires vault et drill (fournis ou générés)"
  else
    v=$(recipient vault "$VAULT"); d=$(recipient drill "$DRILL")
    put_file "$RECIPIENTS" 0640 "root:${OWN#*:}" < <(printf '# vault (hors ligne)\n%s\n# drill (hôte de restauration isolé)\n%s\n' "$v" "$d")
  fi
fi

# ---------------------------------------------------------------- configuration
step "Configuration ($R/etc/officine)"
case $TLS in
  internal) CADDY_TLS=internal ;;
  acme:*@*) CADDY_TLS=${TLS#acme:} ;;
  cert:*,*) c=${TLS#cert:}; CADDY_TLS="${c%%,*} ${c#*,}"
            [ -r "${c%%,*}" ] && [ -r "${c#*,}" ] || die "certificat ou clé illisible : $c" ;;
  *) die "--tls attend internal, acme:EMAIL ou cert:CERT,KEY (reçu : $TLS)" ;;
esac
PUBLIC_URL="https://$SITE$([ "$HTTPS_PORT" = 443 ] || printf ':%s' "$HTTPS_PORT")"
DB_PASSWORD=$([ "$DRY" = 1 ] && [ ! -f "$R/etc/officine/secrets/db-password" ] && echo DRYRUN || cat "$R/etc/officine/secrets/db-password")
WAL_SPOOL="$R/var/lib/officine-wal-spool"
if systemd_mode; then
  SVC_LINES="SERVICE_MANAGER=systemd"
else
  SVC_LINES="SERVICE_MANAGER=command
SERVICE_STOP_COMMAND=$R/opt/officine/current/provisioning/officine-services.sh --root ${R:-/} stop app scheduler
SERVICE_START_COMMAND=$R/opt/officine/current/provisioning/officine-services.sh --root ${R:-/} start app scheduler"
fi
put_file "$R/etc/officine/appliance.env" 0640 "root:${OWN#*:}" <<EOF
# Written by provisioning/install.sh — settings of appliance/src/config/config.schema.ts.
NODE_ENV=production
HOST=127.0.0.1
PORT=$APP_PORT
PUBLIC_URL=$PUBLIC_URL
DATABASE_URL=postgres://officine:$DB_PASSWORD@127.0.0.1:$PG_PORT/officine
DATA_DIR=$R/var/lib/officine
SECRETS_DIR=$R/etc/officine/secrets
INSTALL_DIR=$R/opt/officine
RELEASE_KEYS_FILE=$R/etc/officine/release-keys.json
BACKUP_RECIPIENTS_FILE=$RECIPIENTS
TRUSTED_PROXIES=127.0.0.1,::1
LOG_DIR=$R/var/log/officine
BACKUP_WAL_SPOOL_DIR=$WAL_SPOOL
$SVC_LINES
EOF
ensure_dir "$R/etc/caddy" 0755 root:root
put_file "$R/etc/caddy/officine.env" 0644 root:root <<EOF
# Written by provisioning/install.sh — placeholders of the Caddyfile.
OFFICINE_SITE=$SITE
OFFICINE_TLS=$CADDY_TLS
OFFICINE_UPSTREAM=127.0.0.1:$APP_PORT
OFFICINE_BIND=$BIND
OFFICINE_HTTP_PORT=$HTTP_PORT
OFFICINE_HTTPS_PORT=$HTTPS_PORT
OFFICINE_CADDY_ADMIN=$CADDY_ADMIN
EOF
put_file "$R/etc/officine/postgresql.env" 0644 root:root <<EOF
OFFICINE_PG_PORT=$PG_PORT
EOF
put_file "$R/etc/officine/install.env" 0644 root:root <<EOF
# Written by provisioning/install.sh; read by provisioning/officine-services.sh.
OFFICINE_SERVICE_USER=officine
OFFICINE_CADDY_USER=caddy
OFFICINE_PG_USER=postgres
OFFICINE_PG_BIN=$PG_BIN
OFFICINE_PG_PORT=$PG_PORT
EOF
ensure_dir "$R/var/lib/caddy" 0700 caddy:caddy

# WAL archiving (RPO ≤ 5 min): PostgreSQL's archive_command is the release's
# provisioning/officine-wal-spool (POSIX sh, no Node, no network): it copies each segment
# into the spool; the scheduler (group officine) seals and ships it with the targets of
# appliance.env. Setgid directory: spooled files get the officine group.
PG_OWN=postgres:postgres
id postgres >/dev/null 2>&1 || PG_OWN=root:root   # dry-run on a fresh machine
ensure_dir "$WAL_SPOOL" 2770 "${PG_OWN%:*}:${OWN#*:}"
# The postgresql.conf fragment, rendered by the release's own code (archive_timeout =
# BACKUP_WAL_ARCHIVE_TIMEOUT, at most 300 s; jit off for MemoryDenyWriteExecute). The
# archive_command is the current release's spool script.
PG_WAL_CONF=$("$NODE" "$SRC/dist/appliance/src/cli/main.js" --env-file "$([ -f "$R/etc/officine/appliance.env" ] && echo "$R/etc/officine/appliance.env" || echo /dev/null)" \
  wal postgres-conf --cli "$R/opt/officine/current/dist/appliance/src/cli/main.js" --spool-dir "$WAL_SPOOL") \
  || die "configuration PostgreSQL de l'archivage des WAL impossible à produire."

# ---------------------------------------------------------------- PostgreSQL
step "PostgreSQL (grappe dédiée, 127.0.0.1:$PG_PORT)"
PGDATA="$R/var/lib/officine-postgresql"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  ensure_dir "$PGDATA" 0700 postgres:postgres
  run runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA" --encoding=UTF8 --no-locale --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  [ "$DRY" = 1 ] || changed "grappe PostgreSQL initialisée"
fi
ensure_dir "$R/run/officine-postgresql" 0755 postgres:postgres
if [ "$DRY" = 1 ]; then
  say "  [dry-run] $PGDATA/officine.conf (inclus par postgresql.conf) :"
  printf '%s\n' "$PG_WAL_CONF" | sed 's/^/    /'
fi
PG_CONF_CHANGES=$CHANGES
put_file "$PGDATA/officine.conf" 0600 "$PG_OWN" <<<"$PG_WAL_CONF"
if [ "$DRY" = 0 ] && ! grep -qx "include_if_exists = 'officine.conf'" "$PGDATA/postgresql.conf"; then
  printf "\n# Officine Appliance (provisioning/install.sh)\ninclude_if_exists = 'officine.conf'\n" >>"$PGDATA/postgresql.conf"
  changed "$PGDATA/postgresql.conf inclut officine.conf"
fi
PG_CONF_CHANGED=$((CHANGES - PG_CONF_CHANGES))
if [ "$DRY" = 0 ]; then
  pg_was_up=0
  if systemd_mode; then systemctl is-active --quiet officine-postgresql && pg_was_up=1; else services status postgresql >/dev/null 2>&1 && pg_was_up=1; fi
  if systemd_mode; then
    install -m 0644 "$SRC/systemd/officine-postgresql.service" /etc/systemd/system/ && systemctl daemon-reload && systemctl start officine-postgresql
  else
    services start postgresql
  fi
  psql_() { runuser -u postgres -- "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$R/run/officine-postgresql" -p "$PG_PORT" -d postgres "$@"; }
  if [ "$pg_was_up" = 1 ] && [ "$PG_CONF_CHANGED" -gt 0 ]; then
    # archive_command and archive_timeout take effect on reload; archive_mode only on restart
    psql_ -tAc "SELECT pg_reload_conf()" >/dev/null
    [ "$(psql_ -tAc "SHOW archive_mode")" = on ] || say "  ! redémarrez PostgreSQL (officine-postgresql) pour activer archive_mode."
  fi
  if [ "$(psql_ -tAc "SELECT 1 FROM pg_roles WHERE rolname='officine'")" != 1 ]; then
    psql_ -c "CREATE ROLE officine LOGIN PASSWORD '$DB_PASSWORD'" && changed "rôle PostgreSQL officine"
  fi
  # pg_basebackup (nightly base backup for point-in-time restore) needs REPLICATION
  if [ "$(psql_ -tAc "SELECT rolreplication FROM pg_roles WHERE rolname='officine'")" != t ]; then
    psql_ -c "ALTER ROLE officine REPLICATION" && changed "rôle officine : REPLICATION (base physique)"
  fi
  if [ "$(psql_ -tAc "SELECT 1 FROM pg_database WHERE datname='officine'")" != 1 ]; then
    psql_ -c "CREATE DATABASE officine OWNER officine ENCODING 'UTF8' TEMPLATE template0" && changed "base officine"
  fi
  out=$(runuser -u officine -- env OFFICINE_ENV_FILE="$R/etc/officine/appliance.env" "$R/opt/officine/current/provisioning/officine-node" "$R/opt/officine/current/dist/appliance/src/cli/main.js" migrate)
  case $out in *Appliquées*) changed "migrations : $(printf '%s' "$out" | grep -c '^  ')";; esac
else
  say "  [dry-run] démarrer PostgreSQL, créer le rôle et la base officine, appliquer les migrations"
fi

# Before the spool, PostgreSQL ran the appliance with its own copy of the backup settings
# and secrets (/etc/officine-wal): the reloaded archive_command no longer reads them, and
# postgres must not hold backup credentials. The shipper uses appliance.env's targets.
if [ -e "$R/etc/officine-wal" ]; then
  run rm -rf "$R/etc/officine-wal"
  [ "$DRY" = 1 ] || changed "$R/etc/officine-wal supprimé (l'archivage des WAL n'a plus d'identifiants côté PostgreSQL)"
fi

# ---------------------------------------------------------------- first super-admin
step "Premier super-administrateur"
ADMIN_MARK="$R/var/lib/officine/.first-admin"
if [ -f "$ADMIN_MARK" ]; then
  say "  déjà créé ($(cat "$ADMIN_MARK"))."
elif [ -z "$ADMIN_EMAIL" ]; then
  say "  aucun --admin-email : créez-le plus tard avec « appliance users create » (voir INSTALL.md)."
elif [ "$DRY" = 1 ]; then
  say "  [dry-run] appliance users create --role super_admin --email $ADMIN_EMAIL --enrol-totp (mot de passe, QR code TOTP, URI otpauth et 10 codes de secours affichés une fois ; la première connexion exige un code)"
else
  # Initial password generated here and shown once. TOTP is enrolled now by the console
  # (--enrol-totp: same service and sealing as the web enrolment) and is active at once:
  # the QR code, otpauth URI and recovery codes go to the terminal only (stderr, like the
  # other once-shown secrets), and the first sign-in must give a code, which confirms it.
  pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$pw" | runuser -u officine -- env OFFICINE_ENV_FILE="$R/etc/officine/appliance.env" \
    "$R/opt/officine/current/provisioning/officine-node" "$R/opt/officine/current/dist/appliance/src/cli/main.js" users create --email "$ADMIN_EMAIL" \
    --name "Super-administrateur" --role super_admin --activate --password-stdin --enrol-totp >&2
  put_file "$ADMIN_MARK" 0600 "$OWN" < <(printf '%s\n' "$ADMIN_EMAIL")
  {
    printf '\n  ┌── PREMIER SUPER-ADMINISTRATEUR — mot de passe affiché UNE SEULE FOIS ──\n'
    printf '  │ Identifiant : %s\n  │ Mot de passe : %s\n' "$ADMIN_EMAIL" "$pw"
    printf '  │ Connexion sur %s/ avec ce mot de passe et un code de l’application\n' "$PUBLIC_URL"
    printf '  │ d’authentification (QR code ci-dessus), puis changez le mot de passe.\n  └──\n'
  } >&2
fi

# ---------------------------------------------------------------- services
step "Services"
if systemd_mode; then
  for u in officine-appliance officine-scheduler officine-upgrade; do
    put_file "/etc/systemd/system/$u.service" 0644 root:root <"$SRC/systemd/$u.service"
  done
  # upgrades requested from the admin page are applied by this root path unit
  put_file /etc/systemd/system/officine-upgrade.path 0644 root:root <"$SRC/systemd/officine-upgrade.path"
  ensure_dir /etc/systemd/system/caddy.service.d 0755 root:root
  put_file /etc/systemd/system/caddy.service.d/officine.conf 0644 root:root <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/caddy run --environ --config /opt/officine/current/Caddyfile --adapter caddyfile --envfile /etc/caddy/officine.env
ExecReload=
ExecReload=/usr/bin/caddy reload --config /opt/officine/current/Caddyfile --adapter caddyfile --force
EOF
  run systemctl daemon-reload
  for u in officine-postgresql officine-appliance officine-scheduler officine-upgrade.path caddy; do
    if ! systemctl is-enabled --quiet "$u"; then run systemctl enable "$u"; changed "unité $u activée"; fi
    if [ "$START" = 1 ] && ! systemctl is-active --quiet "$u"; then run systemctl start "$u"; fi
  done
elif [ "$START" = 1 ]; then
  say "  pas de systemd : démarrage par provisioning/officine-services.sh"
  run services start
else
  say "  --no-start : services non démarrés."
fi

step "Terminé"
say "  Adresse : $PUBLIC_URL/"
if [ "$TLS" = internal ]; then say "  Certificat interne : distribuez aux postes la racine $R/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"; fi
say "  Modifications : $CHANGES"
