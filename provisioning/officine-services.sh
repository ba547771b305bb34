#!/usr/bin/env bash
# Runs the appliance's processes without systemd: for Docker (the image's small
# supervisor: `run`) and for hosts or tests without systemd (`start`/`stop`).
# Each process runs as its own unprivileged user; none listens beyond loopback but Caddy.
#
#   officine-services.sh [--root DIR] start|stop|restart|status [postgresql|app|scheduler|caddy]...
#   officine-services.sh [--root DIR] run        # foreground: start all, stop all on TERM/INT or when one dies
#
# Settings come from DIR/etc/officine/install.env, written by provisioning/install.sh.
set -euo pipefail

ROOT=/
if [ "${1:-}" = "--root" ]; then ROOT=$2; shift 2; fi
ROOT=${ROOT%/}
ACTION=${1:-}
shift || true
ALL=(postgresql app scheduler caddy)
SERVICES=("$@")
[ ${#SERVICES[@]} -eq 0 ] && SERVICES=("${ALL[@]}")

INSTALL_ENV="$ROOT/etc/officine/install.env"
[ -r "$INSTALL_ENV" ] || { echo "officine-services: $INSTALL_ENV introuvable (install.sh n'a pas été lancé ?)" >&2; exit 2; }
# shellcheck disable=SC1090
. "$INSTALL_ENV"

RUN_DIR="$ROOT/run/officine"
LOG_DIR="$ROOT/var/log/officine"
CURRENT="$ROOT/opt/officine/current"
# Node as the release ships it (runtime/bin/node), never the host's directly.
NODE="$CURRENT/provisioning/officine-node"
PGDATA="$ROOT/var/lib/officine-postgresql"
# PostgreSQL's archive_command (officine-wal-spool) copies segments here; the scheduler ships them.
WAL_SPOOL="$ROOT/var/lib/officine-wal-spool"
mkdir -p "$RUN_DIR"

# drop_to USER [CAPS...]: sets DROP to the prefix that runs a command as USER (when we are
# root and USER is set), keeping only the listed ambient capabilities; empty otherwise.
drop_to() {
  DROP=()
  local user=$1; shift
  if [ -n "$user" ] && [ "$(id -u)" -eq 0 ] && [ "$user" != root ]; then
    DROP=(setpriv --reuid="$user" --regid="$user" --init-groups "$@" --)
  fi
}
as() { local user=$1; shift; drop_to "$user" --no-new-privs; "${DROP[@]}" "$@"; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

pg_ctl_() { as "$OFFICINE_PG_USER" "$OFFICINE_PG_BIN/pg_ctl" -D "$PGDATA" "$@"; }

start_one() {
  case $1 in
    postgresql)
      if pg_ctl_ status >/dev/null 2>&1; then return 0; fi
      # as install.sh makes it (postgres, group of the scheduler's user, setgid 2770): without
      # it every archive_command fails and pg_wal grows
      if [ ! -d "$WAL_SPOOL" ]; then
        if [ "$(id -u)" -eq 0 ]; then install -d -m 2770 -o "$OFFICINE_PG_USER" -g "$OFFICINE_SERVICE_USER" "$WAL_SPOOL"; else mkdir -m 2770 -p "$WAL_SPOOL"; fi
      fi
      pg_ctl_ -l "$PGDATA/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$OFFICINE_PG_PORT -c unix_socket_directories=$ROOT/run/officine-postgresql" start >/dev/null
      ;;
    app|scheduler)
      local pidf="$RUN_DIR/$1.pid" sub=serve
      [ "$1" = scheduler ] && sub=scheduler
      pid_alive "$pidf" && return 0
      if [ "$1" = scheduler ] && ! "$NODE" "$CURRENT/dist/appliance/src/cli/main.js" help scheduler >/dev/null 2>&1; then
        echo "officine-services: cette version n'a pas encore de planificateur (appliance scheduler) : ignoré" >&2
        return 0
      fi
      # setsid: its own session, so stopping the supervisor's terminal does not kill it
      drop_to "$OFFICINE_SERVICE_USER" --no-new-privs
      setsid "${DROP[@]}" env OFFICINE_ENV_FILE="$ROOT/etc/officine/appliance.env" \
        "$NODE" "$CURRENT/dist/appliance/src/cli/main.js" "$sub" >>"$LOG_DIR/$1.log" 2>&1 </dev/null &
      echo $! >"$pidf"
      ;;
    caddy)
      local pidf="$RUN_DIR/caddy.pid"
      pid_alive "$pidf" && return 0
      # only the capability to bind 80/443, nothing else
      drop_to "$OFFICINE_CADDY_USER" --inh-caps=+net_bind_service --ambient-caps=+net_bind_service
      # same state layout as Debian's caddy.service (HOME=/var/lib/caddy)
      setsid "${DROP[@]}" env -u XDG_DATA_HOME -u XDG_CONFIG_HOME HOME="$ROOT/var/lib/caddy" \
        caddy run --config "$CURRENT/Caddyfile" --adapter caddyfile --envfile "$ROOT/etc/caddy/officine.env" >>"$LOG_DIR/caddy.log" 2>&1 </dev/null &
      echo $! >"$pidf"
      ;;
    *) echo "officine-services: service inconnu : $1" >&2; return 2 ;;
  esac
}

stop_one() {
  case $1 in
    postgresql)
      pg_ctl_ status >/dev/null 2>&1 && pg_ctl_ -m fast -w -t 60 stop >/dev/null
      return 0
      ;;
    *)
      local pidf="$RUN_DIR/$1.pid" pid i
      pid_alive "$pidf" || { rm -f "$pidf"; return 0; }
      pid=$(cat "$pidf")
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      rm -f "$pidf"
      ;;
  esac
}

status_one() {
  case $1 in
    postgresql) pg_ctl_ status >/dev/null 2>&1 ;;
    *) pid_alive "$RUN_DIR/$1.pid" ;;
  esac
}

reverse() { local i; for ((i=$#; i>0; i--)); do printf '%s\n' "${!i}"; done; }

case $ACTION in
  start) for s in "${SERVICES[@]}"; do start_one "$s"; done ;;
  stop) for s in $(reverse "${SERVICES[@]}"); do stop_one "$s"; done ;;
  restart) for s in $(reverse "${SERVICES[@]}"); do stop_one "$s"; done; for s in "${SERVICES[@]}"; do start_one "$s"; done ;;
  status)
    rc=0
    for s in "${SERVICES[@]}"; do
      if status_one "$s"; then echo "$s: actif"; else echo "$s: arrêté"; rc=3; fi
    done
    exit $rc
    ;;
  run)
    for s in "${ALL[@]}"; do start_one "$s"; done
    trap 'for s in $(reverse "${ALL[@]}"); do stop_one "$s"; done; exit 0' TERM INT
    # a dead process ends the container: Docker's restart policy brings everything back
    while sleep 5; do
      for s in app caddy; do status_one "$s" || { echo "officine-services: $s s'est arrêté" >&2; for x in $(reverse "${ALL[@]}"); do stop_one "$x"; done; exit 1; }; done
    done
    ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
