#!/usr/bin/env bash
# Shared by provisioning/install.sh (production), provisioning/dev-deps.sh (tests)
# and the Dockerfile: installs Debian packages only when they are missing, so a
# second run changes nothing. Source it, then call ensure_debian_packages PKG...

# Prints the packages among "$@" that dpkg does not report as installed.
missing_debian_packages() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || printf '%s\n' "$pkg"
  done
}

# Installs the missing ones with apt-get (needs root); fails loudly otherwise.
ensure_debian_packages() {
  local missing
  missing=$(missing_debian_packages "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Paquets Debian manquants (root requis pour les installer) : $(echo $missing)" >&2
    return 1
  fi
  echo "Installing Debian packages: $(echo $missing)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Debian's maintainer scripts would try to start services (caddy, ssh) at install;
  # tests and install.sh start what they need themselves.
  local had_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    had_policy=1
  fi
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
  local rc=$?
  [ "$had_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}
