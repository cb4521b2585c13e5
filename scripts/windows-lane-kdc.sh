# Sourced by scripts/windows-lane.sh: a throwaway MIT KDC on loopback for Wine's Kerberos provider,
# which dlopens the host's libkrb5 and reads KRB5_CONFIG / KRB5_KTNAME / KRB5CCNAME like any MIT
# program. Everything lives under $KRB (in the lane's temp dir), the acceptor's replay cache included:
# the lane reads and writes nothing in /etc (Debian's krb5 packages write their default
# /etc/krb5.conf and /etc/krb5kdc/kdc.conf when installed; KRB5_CONFIG and KRB5_KDC_PROFILE point
# past them), and the KDC is stopped by the PID it was started with.
KRB_REALM=EXAMPLE.TEST
KRB_USER=alice
KRB_PASSWORD='Kerb3ros-Horse'
KRB_SERVICE=HTTP/localhost
KDC_PID=

# Two distinct ports nothing listens on right now (held together while chosen, so they differ). A race
# with another program is possible but harmless: the KDC then fails to bind and the lane stops with
# its log.
free_ports() {
  node -e '
    const net = require("net");
    const a = net.createServer().listen(0, "127.0.0.1", () => {
      const b = net.createServer().listen(0, "127.0.0.1", () => {
        console.log(a.address().port, b.address().port);
        a.close();
        b.close();
      });
    });'
}

# Runs a KDC admin command with its output in $KRB/setup.log; on failure the lane stops with that log.
krb_admin() {
  "$@" >>"$KRB/setup.log" 2>&1 || {
    echo "windows-lane: $1 failed setting up the KDC; its log:" >&2
    cat "$KRB/setup.log" >&2
    exit 1
  }
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
  read -r port kdc_port_free < <(free_ports)
  write_krb5_conf "$KRB/krb5.conf" "$port"
  # The "KDC stopped" case: the same realm, its KDC on a port where nothing listens.
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
  krb_admin kdb5_util create -s -r "$KRB_REALM" -P "$(head -c 24 /dev/urandom | base64)"
  krb_admin kadmin.local -q "addprinc -pw $KRB_PASSWORD $KRB_USER"
  krb_admin kadmin.local -q "addprinc -randkey $KRB_SERVICE"
  krb_admin kadmin.local -q "ktadd -k $KRB/service.keytab $KRB_SERVICE"
  # A server keytab that holds some other service's key, not $KRB_SERVICE's.
  krb_admin kadmin.local -q "addprinc -randkey HTTP/elsewhere"
  krb_admin kadmin.local -q "ktadd -k $KRB/other.keytab HTTP/elsewhere"
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
