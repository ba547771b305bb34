#!/usr/bin/env bash
# Installs the Debian packages the test suites need, when missing (run by `npm test`).
# Every suite uses the real tool: no suite skips in CI because a tool is absent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/debian-packages.sh
. "$here/lib/debian-packages.sh"

TEST_PACKAGES=(
  caddy            # TLS front (Caddyfile tests)
  age              # backup interop with the age CLI
  zstd             # backup compression interop
  postgresql-client # pg_dump / pg_restore (same major as the embedded server)
  openssh-server   # real SFTP server for the NAS target
  openssh-client
  oathtool         # independent TOTP codes
  chromium         # browser tests via playwright-core
  testssl.sh       # TLS scan of the Caddy front
  tmux             # console menu tests
  curl
  ca-certificates
  openssl
  procps
  time             # GNU time: wall time and peak RSS in bench:backup
  wrk              # bench:http load generator (a C process of its own, not JS in the bench)
  unzip            # the invoice archive export is checked with unzip + sha256sum -c
  git              # a fresh clone needs it; some tests read the tree
  postgresql       # install.sh test: the production PostgreSQL server (Debian 12: 15)
  systemd          # systemd-analyze security --offline (works without a running systemd)
  iproute2         # ss: install.sh port pre-checks
  util-linux       # setpriv, runuser: services started as their own users without systemd
)

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${TEST_PACKAGES[@]}"; exit 0; fi
ensure_debian_packages "${TEST_PACKAGES[@]}"
