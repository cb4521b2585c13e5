# Sourced by scripts/windows-lane.sh: a throwaway MIT KDC on loopback for Wine's Kerberos provider,
# which dlopens the host's libkrb5 and reads KRB5_CONFIG / KRB5_KTNAME / KRB5CCNAME like any MIT
# program. Everything lives under $KRB (in the lane's temp dir): nothing in /etc is read or written,
# and the KDC is stopped by the PID it was started with.
KRB_REALM=EXAMPLE.TEST
KRB_USER=alice
KRB_PASSWORD='Kerb3ros-Horse'
KRB_SERVICE=HTTP/localhost
KDC_PID=

# A port nothing listens on right now. A race with another program is possible but harmless: the KDC
# then fails to bind and the lane stops with its log.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# krb5.conf for a realm whose KDC is at 127.0.0.1:$2, written to $1. No DNS: Wine's provider would
# otherwise look the realm up, and a canonicalized "localhost" would not match the service principal.
write_krb5_conf() {
  cat >"$1" <<EOF
[libdefaults]
  default_realm = $KRB_REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  ignore_acceptor_hostname = false
[realms]
  $KRB_REALM = {
    kdc = 127.0.0.1:$2
  }
[domain_realm]
  localhost = $KRB_REALM
EOF
}

start_kdc() {
  local port kdc_port_free
  mkdir -p "$KRB"
  port=$(free_port)
  write_krb5_conf "$KRB/krb5.conf" "$port"
  # The "KDC stopped" case: the same realm, its KDC on a port where nothing listens.
  kdc_port_free=$(free_port)
  write_krb5_conf "$KRB/krb5-no-kdc.conf" "$kdc_port_free"
  cat >"$KRB/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port
[realms]
  $KRB_REALM = {
    database_name = $KRB/principal
    key_stash_file = $KRB/stash
    acl_file = $KRB/kadm5.acl
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port
  }
[logging]
  kdc = FILE:$KRB/kdc.log
  admin_server = FILE:$KRB/kadmin.log
  default = FILE:$KRB/krb5.log
EOF
  export KRB5_CONFIG=$KRB/krb5.conf KRB5_KDC_PROFILE=$KRB/kdc.conf KRB5CCNAME=MEMORY:lane
  kdb5_util create -s -r "$KRB_REALM" -P "$(head -c 24 /dev/urandom | base64)" >"$KRB/kdb5_util.log" 2>&1
  kadmin.local -q "addprinc -pw $KRB_PASSWORD $KRB_USER" >"$KRB/kadmin.log" 2>&1
  kadmin.local -q "addprinc -randkey $KRB_SERVICE" >>"$KRB/kadmin.log" 2>&1
  kadmin.local -q "ktadd -k $KRB/service.keytab $KRB_SERVICE" >>"$KRB/kadmin.log" 2>&1
  # A server keytab that holds some other service's key, not $KRB_SERVICE's.
  kadmin.local -q "addprinc -randkey HTTP/elsewhere" >>"$KRB/kadmin.log" 2>&1
  kadmin.local -q "ktadd -k $KRB/other.keytab HTTP/elsewhere" >>"$KRB/kadmin.log" 2>&1
  krb5kdc -n -P "$KRB/kdc.pid" >>"$KRB/kdc.log" 2>&1 &
  KDC_PID=$!
  for _ in $(seq 50); do
    printf '%s\n' "$KRB_PASSWORD" | kinit "$KRB_USER" >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! printf '%s\n' "$KRB_PASSWORD" | kinit "$KRB_USER" >/dev/null 2>&1; then
    echo "windows-lane: the KDC does not issue tickets for $KRB_USER@$KRB_REALM; its logs:" >&2
    cat "$KRB"/*.log >&2 2>/dev/null
    exit 1
  fi
  unset KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME
}

# Only the KDC this lane started: its command line names the lane's pid file (a PID read late may
# have been reused).
stop_kdc() {
  [ -n "$KDC_PID" ] && tr '\0' ' ' 2>/dev/null <"/proc/$KDC_PID/cmdline" | grep -qF -- "$KRB/kdc.pid" || return 0
  kill "$KDC_PID" 2>/dev/null
  wait "$KDC_PID" 2>/dev/null
}
