#!/usr/bin/env bash
# samba-ad.sh — a throw-away Samba Active Directory DC on loopback for Lock's tests.
#
#   samba-ad.sh start HOLDER_PID   # start (or join) the machine's test DC; prints KEY='value' lines
#   samba-ad.sh stop HOLDER_PID    # leave it; the last holder stops it
#
# Samba's LDAP ports are fixed (389/636, no smb.conf option moves them), so there is one test DC per
# machine, bound to `lo` only, shared by the `npm test` runs that overlap: each run is a holder (its
# pid in $SAMBA_DIR/holders) and the last one out stops the DC. Tests never change the fixture users;
# they add and delete users of their own. The provisioned domain (≈20 s) is kept as a template under
# $SAMBA_CACHE, keyed by this script and test/fixtures/ldap/samba-ad.json, so later starts only unpack
# it and start samba. Needs root (ports < 1024); packages come from test/peers/install.sh.
# Settings: SAMBA_DIR (${TMPDIR:-/tmp}/lock-peers/samba-ad), SAMBA_CACHE (${TMPDIR:-/tmp}/lock-peers/cache),
#   SAMBA_DEBUG (log level, 0; the log is $SAMBA_DIR/log/samba.log).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURE="$HERE/../fixtures/ldap/samba-ad.json"
ROOT=${TMPDIR:-/tmp}/lock-peers
DIR=${SAMBA_DIR:-$ROOT/samba-ad}
CACHE=${SAMBA_CACHE:-$ROOT/cache}
DEBUG_LEVEL=${SAMBA_DEBUG:-0}
LOCKFILE="$ROOT/samba-ad.lock"

REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
BASE_DN="DC=example,DC=test"
ADMIN_PW='Adm1n-Passw0rd!'
SVC_DN="CN=svc-oidc,OU=Service Accounts,$BASE_DN"
SVC_PW='Svc-Passw0rd!'
URL="ldap://127.0.0.1:389"
LDAPS_URL="ldaps://127.0.0.1:636"
CONF="$DIR/etc/smb.conf"
PIDFILE="$DIR/samba.pid"
PYTHON=/usr/bin/python3 # samba's python modules are Debian's python's, not another python3 on PATH

log() { echo "[samba-ad] $*" >&2; }

running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid; pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == /usr/sbin/samba ]] && echo "$pid"
}

live_holders() {
  local file pid
  for file in "$DIR"/holders/*; do
    [[ -e $file ]] || continue
    pid=${file##*/}
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; else rm -f "$file"; fi
  done
}

group_members() { # our samba processes: the process group setsid made (pgid = root pid)
  local p
  for p in $(pgrep -g "$1" 2>/dev/null); do
    case $(readlink "/proc/$p/exe" 2>/dev/null) in /usr/sbin/samba | /usr/sbin/smbd | /usr/sbin/winbindd) echo "$p" ;; esac
  done
}

stop_samba() {
  [[ -f $PIDFILE ]] || return 0
  local pid p; pid=$(cat "$PIDFILE")
  # No graceful shutdown (it takes seconds): the state is thrown away, every start unpacks the template.
  for p in $(group_members "$pid"); do kill -KILL "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do [[ -z $(group_members "$pid") ]] && break; sleep 0.1; done
  rm -f "$PIDFILE"
  log "stopped samba pid $pid"
}

make_tls() { # our own CA, with 127.0.0.1 in the certificate (samba's own has no IP SAN)
  local t="$DIR/tls"; mkdir -p "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=Lock Test AD CA" \
    -keyout "$t/ca.key" -out "$t/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=dc1.example.test" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:dc1.example.test,DNS:localhost,IP:127.0.0.1,IP:::1" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > "$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 3650 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
  chmod 600 "$t/server.key" "$t/ca.key" # samba refuses a key file that others can read
}

load_directory() { # one python process for the whole fixture: samba-tool per user would take ~1 s each
  "$PYTHON" - "$CONF" "$FIXTURE" >>"$DIR/log/load.log" 2>&1 <<'PY' || { log "loading the fixture failed:"; tail -20 "$DIR/log/load.log" >&2; return 1; }
import json, sys, time
import ldb, samba
from samba.auth import system_session
from samba.netcmd.pso import make_pso_ldb_msg
from samba.param import LoadParm
from samba.samdb import SamDB

lp = LoadParm(); lp.load(sys.argv[1])
data = json.load(open(sys.argv[2], encoding='utf-8'))
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = db.domain_dn()
for ou in data['ous']:
    db.create_ou(f'OU={ou},{base}')
svc = data['serviceAccount']
db.newuser(svc['username'], svc['password'], userou=f"OU={svc['ou']}", useusernameascn=True)
db.setexpiry(f"(sAMAccountName={svc['username']})", 0, no_expiry_req=True)
for user in data['users']:
    name = user['username']
    db.newuser(name, user['password'], userou='OU=People', useusernameascn=None, givenname=user['given'], surname=user['surname'],
               mailaddress=f'{name}@example.test', department=user.get('department'),
               force_password_change_at_next_login_req=user.get('status') == 'mustChange')
    found = f'(sAMAccountName={name})'
    if 'cn' in user:  # newuser does not escape the RDN: rename to the wanted (escaped) one
        old = db.search(base, expression=found, attrs=[])[0].dn
        new = ldb.Dn(db, f'OU=People,{base}')
        new.add_child(ldb.Dn(db, 'CN=placeholder'))
        new.set_component(0, 'CN', user['cn'])
        db.rename(old, new)
    status = user.get('status')
    if status == 'disabled':
        db.disable_account(found)
    elif status == 'expired':
        db.setexpiry(found, -3600)
    elif status == 'locked':  # a password policy of its own that locks after 2 failures
        dn = db.search(base, expression=found, attrs=[])[0].dn
        pso = f'CN=lock-after-2,CN=Password Settings Container,CN=System,{base}'
        db.add(make_pso_ldb_msg(sys.stdout, db, pso, create=True, precedence=1, complexity='off',
                                store_plaintext='off', history_length=0, min_pwd_length=0, min_pwd_age=0,
                                max_pwd_age=0, lockout_duration=99999, lockout_threshold=2,
                                reset_lockout_after=99999))
        m = ldb.Message(ldb.Dn(db, pso))
        m['msDS-PSOAppliesTo'] = ldb.MessageElement(str(dn), ldb.FLAG_MOD_ADD, 'msDS-PSOAppliesTo')
        db.modify(m)
for group in data['groups']:
    db.newgroup(group['name'], groupou='OU=Groups')
for group in data['groups']:
    db.add_remove_group_members(group['name'], group['members'], add_members_operation=True)
PY
}

provision() {
  rm -rf "$DIR"; mkdir -p "$DIR/run" "$DIR/log" "$DIR/holders"; chmod 700 "$DIR"
  make_tls
  # Every path samba would put under /var/lib/samba, /run/samba, /var/log/samba goes into $DIR.
  # dns backend NONE: no DNS server (port 53) and no DNS zone.
  "$PYTHON" /usr/bin/samba-tool domain provision --realm="$REALM" --domain="$DOMAIN" --server-role=dc \
    --dns-backend=NONE --adminpass="$ADMIN_PW" --host-name=DC1 --host-ip=127.0.0.1 \
    --use-rfc2307 --targetdir="$DIR" \
    --option="interfaces = lo" --option="bind interfaces only = yes" \
    --option="server services = ldap" \
    --option="tls enabled = yes" --option="tls keyfile = $DIR/tls/server.key" \
    --option="tls certfile = $DIR/tls/server.crt" --option="tls cafile = $DIR/tls/ca.crt" \
    --option="pid directory = $DIR/run" --option="ncalrpc dir = $DIR/run/ncalrpc" \
    --option="winbindd socket directory = $DIR/run/winbindd" \
    --option="ntp signd socket directory = $DIR/run/ntp_signd" \
    --option="log file = $DIR/log/%m.log" --option="prefork children = 2" \
    >"$DIR/log/provision.log" 2>&1 || { tail -30 "$DIR/log/provision.log" >&2; return 1; }
  # Simple binds on plain ldap:// are refused by default (strongerAuthRequired); tests use both
  # plain and TLS. provision drops this option when given with --option, so add it to [global].
  sed -i 's/^\[global\]$/[global]\n\tldap server require strong auth = no/' "$CONF"
  load_directory
}

wait_ready() {
  for _ in $(seq 1 300); do
    if ldapsearch -x -H "$URL" -D "$SVC_DN" -w "$SVC_PW" -s base -b "$BASE_DN" dn >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$1" 2>/dev/null; then log "samba exited; log:"; tail -40 "$DIR/log/samba.log" >&2; return 1; fi
    sleep 0.1
  done
  log "samba not ready after 30s"; tail -40 "$DIR/log/samba.log" >&2; return 1
}

lock_locked_users() { # two wrong passwords lock each fixture user whose status is "locked"
  local user
  for user in $("$PYTHON" -c 'import json,sys; print(" ".join(u["username"] for u in json.load(open(sys.argv[1]))["users"] if u.get("status") == "locked"))' "$FIXTURE"); do
    for _ in 1 2 3; do ldapsearch -x -H "$URL" -D "$user@example.test" -w 'not-the-password' -s base -b '' >/dev/null 2>&1 || true; done
  done
}

print_env() { # KEY='value' lines
  local kv
  for kv in \
    "LOCK_TEST_AD_URL=$URL" "LOCK_TEST_AD_LDAPS_URL=$LDAPS_URL" "LOCK_TEST_AD_BASE_DN=$BASE_DN" \
    "LOCK_TEST_AD_BIND_DN=$SVC_DN" "LOCK_TEST_AD_BIND_PASSWORD=$SVC_PW" \
    "LOCK_TEST_AD_ADMIN_DN=CN=Administrator,CN=Users,$BASE_DN" "LOCK_TEST_AD_ADMIN_PASSWORD=$ADMIN_PW" \
    "LOCK_TEST_AD_CA_FILE=$DIR/tls/ca.crt"; do
    printf "%s='%s'\n" "${kv%%=*}" "${kv#*=}"
  done
}

canonical_fixture() { # the template's key ignores how the JSON is formatted
  "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$FIXTURE"
}

do_start() {
  local holder=$1 t0=$SECONDS
  [[ $(id -u) == 0 ]] || { log "must run as root (samba's LDAP ports are 389/636)"; exit 1; }
  command -v samba >/dev/null && [[ -d /usr/share/samba/setup ]] && command -v ldapsearch >/dev/null \
    || { log "samba-ad-dc/ldap-utils missing: run test/peers/install.sh as root"; exit 1; }
  local key; key=$(cat "$0" <(canonical_fixture) <(samba -V) | sha256sum | cut -c1-16)
  if running_pid >/dev/null && [[ $(cat "$DIR/key" 2>/dev/null) == "$key" ]] && wait_ready "$(running_pid)"; then
    log "joining the running DC (holders: $(live_holders | tr '\n' ' '))"
  else
    local others; others=$(live_holders || true)
    if running_pid >/dev/null && [[ -n $others ]]; then
      log "a test DC of another fixture version is in use by pid(s) $others; try again when they finish"; exit 1
    fi
    stop_samba
    local template="$CACHE/samba-ad-$key.tar"
    if [[ -f $template ]]; then
      rm -rf "$DIR"; mkdir -p "$DIR"; tar -xf "$template" -C "$DIR"
    else
      log "provisioning the test domain (once per fixture version)"
      provision
      mkdir -p "$CACHE"; rm -f "$CACHE"/samba-ad-*.tar
      tar -cf "$template.tmp" -C "$DIR" . && mv "$template.tmp" "$template"
    fi
    # -F: foreground (we background it); --no-process-group + setsid: one process group to stop.
    setsid /usr/sbin/samba -F --no-process-group --debug-stdout -d "$DEBUG_LEVEL" -s "$CONF" \
      </dev/null >"$DIR/log/samba.log" 2>&1 9>&- &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    wait_ready "$pid" || { stop_samba; exit 1; }
    lock_locked_users
    echo "$key" >"$DIR/key"
  fi
  mkdir -p "$DIR/holders"; touch "$DIR/holders/$holder"
  # A holder that is killed cannot call stop: this watcher does it for it.
  setsid bash "$0" watch "$holder" </dev/null >/dev/null 2>&1 9>&- &
  log "ready in $((SECONDS - t0))s"
  print_env
}

do_stop() {
  local holder=$1
  rm -f "$DIR/holders/$holder"
  if [[ -z $(live_holders) ]]; then stop_samba; else log "still in use by $(live_holders | tr '\n' ' ')"; fi
}

[[ $# == 2 && $2 =~ ^[0-9]+$ ]] || { echo "usage: $0 start|stop HOLDER_PID" >&2; exit 2; }
if [[ $1 == watch ]]; then
  while kill -0 "$2" 2>/dev/null; do sleep 2; done
  exec bash "$0" stop "$2"
fi
mkdir -p "$ROOT"
exec 9>"$LOCKFILE"
flock -w 120 9 || { log "could not take $LOCKFILE within 120 s"; exit 1; }
case "$1" in
  start) do_start "$2" ;;
  stop) do_stop "$2" ;;
  *) echo "usage: $0 start|stop HOLDER_PID" >&2; exit 2 ;;
esac
