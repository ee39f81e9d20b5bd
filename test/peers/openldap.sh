#!/usr/bin/env bash
# openldap.sh — a throw-away OpenLDAP (Debian slapd) on loopback for Lock's tests.
#
#   openldap.sh start   # new state dir: TLS certificates, config, start, load test/fixtures/ldap/openldap.ldif
#   openldap.sh stop    # stop the instance of the same state dir
#
# Settings (environment): OPENLDAP_DIR (state dir, default ${TMPDIR:-/tmp}/lock-peers/openldap),
#   OPENLDAP_HOST (127.0.0.1), OPENLDAP_PORT (3890, StartTLS), OPENLDAP_LDAPS_PORT (6360),
#   OPENLDAP_DEBUG (slapd -d level, default "none"; the log is $OPENLDAP_DIR/slapd.log),
#   OPENLDAP_OWNER_PID (when set, slapd is stopped once that process is gone, even if it was killed).
# Packages come from test/peers/install.sh (slapd ldap-utils openssl). Needs no root: ports > 1024.
# `start` prints KEY='value' lines for the tests. Nothing is written outside OPENLDAP_DIR.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURE="$HERE/../fixtures/ldap/openldap.ldif"
DIR=${OPENLDAP_DIR:-${TMPDIR:-/tmp}/lock-peers/openldap}
HOST=${OPENLDAP_HOST:-127.0.0.1}
PORT=${OPENLDAP_PORT:-3890}
LDAPS_PORT=${OPENLDAP_LDAPS_PORT:-6360}
DEBUG_LEVEL=${OPENLDAP_DEBUG:-none}

BASE_DN="dc=example,dc=org"
ADMIN_DN="cn=admin,$BASE_DN"
ADMIN_PW="admin-secret"
SVC_DN="cn=svc-oidc,ou=services,$BASE_DN"
SVC_PW="svc-secret"

SLAPD=/usr/sbin/slapd
PIDFILE="$DIR/slapd.pid"
URL="ldap://$HOST:$PORT"
LDAPS_URL="ldaps://$HOST:$LDAPS_PORT"

log() { echo "[openldap] $*" >&2; }

running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid; pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$SLAPD" ]] && echo "$pid"
}

do_stop() {
  local pid
  if pid=$(running_pid); then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then log "slapd $pid did not stop, SIGKILL"; kill -KILL "$pid"; fi
  fi
  rm -f "$PIDFILE"
}

make_tls() {
  local t="$DIR/tls"; mkdir -p "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=Lock Test LDAP CA" \
    -keyout "$t/ca.key" -out "$t/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > "$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 3650 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
  chmod 600 "$t/server.key" "$t/ca.key"
}

write_config_ldif() {
  cat > "$DIR/config.ldif" <<CONFIG
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $PIDFILE
olcArgsFile: $DIR/slapd.args
olcTLSCACertificateFile: $DIR/tls/ca.crt
olcTLSCertificateFile: $DIR/tls/server.crt
olcTLSCertificateKeyFile: $DIR/tls/server.key
olcTLSProtocolMin: 3.3

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500
olcAccess: {0}to dn.base="" by * read
olcAccess: {1}to dn.base="cn=Subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $BASE_DN
olcRootDN: $ADMIN_DN
olcRootPW: $ADMIN_PW
olcDbDirectory: $DIR/data
olcDbMaxSize: 104857600
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn,memberUid eq
olcDbIndex: member,memberOf eq
olcDbIndex: entryUUID eq
olcLimits: {0}dn.exact="$SVC_DN" size=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to attrs=pwdAccountLockedTime,pwdFailureTime,pwdHistory by dn.exact="$SVC_DN" read by * none
olcAccess: {2}to * by dn.exact="$SVC_DN" read by self read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member

dn: olcOverlay={2}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {2}ppolicy
olcPPolicyDefault: cn=default,ou=policies,$BASE_DN
CONFIG
}

wait_ready() {
  for _ in $(seq 1 200); do
    if ldapsearch -x -H "$URL" -s base -b "" namingContexts >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$1" 2>/dev/null; then log "slapd exited; log:"; tail -40 "$DIR/slapd.log" >&2; return 1; fi
    sleep 0.05
  done
  log "slapd not ready after 10s"; tail -40 "$DIR/slapd.log" >&2; return 1
}

print_env() { # KEY='value' lines
  local kv
  for kv in \
    "LOCK_TEST_OPENLDAP_URL=$URL" "LOCK_TEST_OPENLDAP_LDAPS_URL=$LDAPS_URL" \
    "LOCK_TEST_OPENLDAP_BASE_DN=$BASE_DN" \
    "LOCK_TEST_OPENLDAP_BIND_DN=$SVC_DN" "LOCK_TEST_OPENLDAP_BIND_PASSWORD=$SVC_PW" \
    "LOCK_TEST_OPENLDAP_ADMIN_DN=$ADMIN_DN" "LOCK_TEST_OPENLDAP_ADMIN_PASSWORD=$ADMIN_PW" \
    "LOCK_TEST_OPENLDAP_CA_FILE=$DIR/tls/ca.crt"; do
    printf "%s='%s'\n" "${kv%%=*}" "${kv#*=}"
  done
}

do_start() {
  [[ -x $SLAPD && -x /usr/bin/ldapsearch ]] || { log "slapd/ldap-utils missing: run test/peers/install.sh as root"; exit 1; }
  do_stop
  [[ -n $DIR && $DIR != / ]] || exit 1
  rm -rf "$DIR"; mkdir -p "$DIR/slapd.d" "$DIR/data"; chmod 700 "$DIR"
  make_tls
  write_config_ldif
  slapadd -n 0 -F "$DIR/slapd.d" -l "$DIR/config.ldif" >"$DIR/slapadd.log" 2>&1 \
    || { cat "$DIR/slapadd.log" >&2; exit 1; }
  # -d keeps slapd in the foreground (its log goes to a file); setsid detaches it from our session.
  setsid "$SLAPD" -d "$DEBUG_LEVEL" -F "$DIR/slapd.d" -h "$URL/ $LDAPS_URL/" </dev/null >"$DIR/slapd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  wait_ready "$pid" || { do_stop; exit 1; }
  if [[ -n ${OPENLDAP_OWNER_PID:-} ]]; then # a killed test run must not leave slapd behind
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done; kill -TERM "$2" 2>/dev/null' \
      _ "$OPENLDAP_OWNER_PID" "$pid" </dev/null >/dev/null 2>&1 &
  fi
  # Loaded online, not with slapadd: slapadd bypasses the memberof overlay.
  ldapadd -x -H "$URL" -D "$ADMIN_DN" -w "$ADMIN_PW" -f "$FIXTURE" >"$DIR/ldapadd.log" 2>&1 \
    || { cat "$DIR/ldapadd.log" >&2; do_stop; exit 1; }
  print_env | tee "$DIR/env"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
