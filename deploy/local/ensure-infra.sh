#!/usr/bin/env bash
# Makes sure Redis, MariaDB and NATS (with JetStream) answer at the configured URLs.
#
# Used by `./smsfleet up`, `./smsfleet test` and CI. Works on a fresh Debian machine with only Node
# (installs the Debian packages when run as root), on a machine where the servers are installed but
# stopped (starts them with data under $SMSFLEET_STATE_DIR), and where they already run (then it
# only probes the three ports and returns, well under a second).
#
# Env: REDIS_URL, DATABASE_URL, NATS_URL, SMSFLEET_STATE_DIR. Exit 1 with a message on failure.
set -euo pipefail

REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
DATABASE_URL=${DATABASE_URL:-mysql://root@127.0.0.1:3306/smsfleet}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
STATE=${SMSFLEET_STATE_DIR:-${HOME:-/root}/.local/state/smsfleet}
WAIT_SECONDS=${SMSFLEET_INFRA_WAIT_SECONDS:-30}

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# parse_url URL DEFAULT_PORT -> sets U_HOST U_PORT U_USER U_PASS U_PATH
parse_url() {
  local url=$1 rest auth=''
  rest=${url#*://}
  U_PATH=''
  if [[ $rest == */* ]]; then
    U_PATH=${rest#*/}
    rest=${rest%%/*}
  fi
  U_PATH=${U_PATH%%\?*}
  rest=${rest%%\?*}
  if [[ $rest == *@* ]]; then
    auth=${rest%@*}
    rest=${rest##*@}
  fi
  U_USER=${auth%%:*}
  U_PASS=''
  [[ $auth == *:* ]] && U_PASS=${auth#*:}
  if [[ $rest == \[* ]]; then # [ipv6]:port
    U_HOST=${rest#[}
    U_HOST=${U_HOST%%]*}
    U_PORT=${rest#*]}
    U_PORT=${U_PORT#:}
  else
    U_HOST=${rest%%:*}
    U_PORT=''
    [[ $rest == *:* ]] && U_PORT=${rest##*:}
  fi
  [[ -n $U_HOST ]] || U_HOST=127.0.0.1
  [[ -n $U_PORT ]] || U_PORT=$2
  [[ $U_PORT =~ ^[0-9]+$ ]] || die "bad port in $url"
}

is_local() {
  case $1 in
    127.* | localhost | ::1 | 0.0.0.0) return 0 ;;
    *) return 1 ;;
  esac
}

# tcp_open HOST PORT: one connect attempt, 1 s at most.
tcp_open() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# nats_info HOST PORT: prints the server's INFO line (sent on connect).
nats_info() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"; IFS= read -r line <&3; printf "%s\n" "$line"' _ "$1" "$2" 2>/dev/null
}

wait_port() { # NAME HOST PORT LOGFILE
  local deadline=$((SECONDS + WAIT_SECONDS))
  until tcp_open "$2" "$3"; do
    if ((SECONDS >= deadline)); then
      [[ -n ${4:-} && -f $4 ]] && tail -n 20 "$4" >&2
      die "$1 did not come up on $2:$3 within ${WAIT_SECONDS}s${4:+ (log: $4)}"
    fi
    sleep 0.2
  done
}

retry() { # retries while dpkg/apt is busy with another install
  local i
  for i in 1 2 3 4 5 6; do
    "$@" && return 0
    ((i < 6)) || break
    warn "'$*' failed (attempt $i); retrying in 10 s (dpkg lock held?)"
    sleep 10
  done
  return 1
}

APT_UPDATED=0
apt_install() {
  ((${#@} > 0)) || return 0
  say "installing: $*"
  if ((APT_UPDATED == 0)); then
    retry apt-get -o DPkg::Lock::Timeout=120 -qq update || die "apt-get update failed"
    APT_UPDATED=1
  fi
  retry env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -qq install -y \
    --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}

MARIADBD=/usr/sbin/mariadbd
[[ -x $MARIADBD ]] || MARIADBD=$(command -v mariadbd || command -v mysqld || echo /usr/sbin/mariadbd)

# ---- 1. probe ----------------------------------------------------------------------------------
parse_url "$REDIS_URL" 6379
REDIS_HOST=$U_HOST REDIS_PORT=$U_PORT
parse_url "$NATS_URL" 4222
NATS_HOST=$U_HOST NATS_PORT=$U_PORT
parse_url "$DATABASE_URL" 3306
DB_HOST=$U_HOST DB_PORT=$U_PORT DB_USER=${U_USER:-root} DB_PASS=$U_PASS DB_NAME=$U_PATH

declare -A TODO=() # service -> 1 when it must be started here
check_nats_jetstream() {
  local info
  info=$(nats_info "$NATS_HOST" "$NATS_PORT" || true)
  if [[ $info == INFO* && $info != *'"jetstream":true'* ]]; then
    die "nats at $NATS_HOST:$NATS_PORT runs without JetStream: restart it with -js -sd <dir>"
  fi
}

for svc in redis mysql nats; do
  case $svc in
    redis) host=$REDIS_HOST port=$REDIS_PORT var=REDIS_URL ;;
    mysql) host=$DB_HOST port=$DB_PORT var=DATABASE_URL ;;
    nats) host=$NATS_HOST port=$NATS_PORT var=NATS_URL ;;
  esac
  if tcp_open "$host" "$port"; then
    [[ $svc == nats ]] && check_nats_jetstream
    say "$svc: ok ($host:$port)"
  elif is_local "$host"; then
    TODO[$svc]=1
  else
    die "$svc: nothing answers at $host:$port ($var); it is not a local host, so start it there or fix $var"
  fi
done

# docker-compose validates docker-compose.yml in the test suite.
NEED_PKGS=()
if ! command -v docker-compose >/dev/null 2>&1; then
  if ((IS_ROOT)); then NEED_PKGS+=(docker-compose); else warn "docker-compose is missing: apt-get install docker-compose (as root)"; fi
fi
# sipp (Debian sip-tester) drives the SIP front in the e2e tests (e2e/src/sip.test.ts).
if ! command -v sipp >/dev/null 2>&1; then
  if ((IS_ROOT)); then NEED_PKGS+=(sip-tester); else warn "sipp is missing: apt-get install sip-tester (as root)"; fi
fi

if ((${#TODO[@]} == 0)) && ((${#NEED_PKGS[@]} == 0)); then
  exit 0
fi

# ---- 2. install what is missing ----------------------------------------------------------------
declare -A BIN=([redis]=redis-server [nats]=nats-server [mysql]=$MARIADBD)
declare -A PKG=([redis]=redis-server [nats]=nats-server [mysql]=mariadb-server)
for svc in "${!TODO[@]}"; do
  if ! command -v "${BIN[$svc]}" >/dev/null 2>&1; then
    if ((IS_ROOT)); then
      NEED_PKGS+=("${PKG[$svc]}")
    else
      die "$svc: ${BIN[$svc]} is not installed; run as root: apt-get install -y ${PKG[$svc]} (or run this script as root)"
    fi
  fi
done
apt_install "${NEED_PKGS[@]}"
[[ -x /usr/sbin/mariadbd ]] && MARIADBD=/usr/sbin/mariadbd

mkdir -p "$STATE"

# A package's postinst may have started its server already: probe again before starting.
for svc in "${!TODO[@]}"; do
  case $svc in
    redis) tcp_open "$REDIS_HOST" "$REDIS_PORT" && unset 'TODO[redis]' && say "redis: ok ($REDIS_HOST:$REDIS_PORT)" ;;
    nats) tcp_open "$NATS_HOST" "$NATS_PORT" && unset 'TODO[nats]' && say "nats: ok ($NATS_HOST:$NATS_PORT)" ;;
    mysql) tcp_open "$DB_HOST" "$DB_PORT" && unset 'TODO[mysql]' && say "mysql: ok ($DB_HOST:$DB_PORT)" ;;
  esac
  true
done

bind_addr() { [[ $1 == ::1 ]] && echo ::1 || echo 127.0.0.1; }

# ---- 3. start ----------------------------------------------------------------------------------
start_redis() {
  mkdir -p "$STATE/redis"
  redis-server --daemonize yes --bind "$(bind_addr "$REDIS_HOST")" --port "$REDIS_PORT" \
    --appendonly yes --dir "$STATE/redis" --pidfile "$STATE/redis-$REDIS_PORT.pid" \
    --logfile "$STATE/redis.log" </dev/null >/dev/null
}

start_nats() {
  mkdir -p "$STATE/nats"
  # setsid + nohup: the server must outlive this script and its terminal.
  setsid nohup nats-server -a "$(bind_addr "$NATS_HOST")" -p "$NATS_PORT" -js -sd "$STATE/nats" \
    -P "$STATE/nats-$NATS_PORT.pid" </dev/null >>"$STATE/nats.log" 2>&1 &
}

MYSQL_SOCKET='' # socket to reach the server we started as root (unix_socket auth fix)
MYSQL_LOG=''
start_mysql() {
  local sys_pid=''
  [[ -f /run/mysqld/mysqld.pid ]] && sys_pid=$(cat /run/mysqld/mysqld.pid 2>/dev/null || true)
  # The system datadir, unless a mariadbd already holds it (e.g. on another port).
  if ((IS_ROOT)) && [[ -d /var/lib/mysql/mysql ]] && ! { [[ -n $sys_pid ]] && kill -0 "$sys_pid" 2>/dev/null; } \
    && id mysql >/dev/null 2>&1; then
    install -d -o mysql -g mysql /run/mysqld /var/log/mysql
    MYSQL_LOG=/var/log/mysql/error.log
    MYSQL_SOCKET=/run/mysqld/mysqld.sock
    start-stop-daemon --start --oknodo --background --pidfile /run/mysqld/mysqld.pid --exec "$MARIADBD" -- \
      --user=mysql --bind-address="$(bind_addr "$DB_HOST")" --port="$DB_PORT" --log-error="$MYSQL_LOG" >/dev/null
    return
  fi

  # A private datadir under $STATE.
  local user datadir=$STATE/mysql
  user=$(id -un)
  if ((IS_ROOT)) && id mysql >/dev/null 2>&1 && runuser -u mysql -- test -x "$STATE" 2>/dev/null; then
    user=mysql
    # mariadbd (as mysql) creates its socket and writes its error log in $STATE.
    chgrp mysql "$STATE" && chmod g+rwx "$STATE"
  elif ((IS_ROOT)); then
    # The mysql user cannot reach $STATE (e.g. under /root): run the server as root.
    user=root
  fi
  MYSQL_LOG=$STATE/mysql.err
  MYSQL_SOCKET=$STATE/mysqld.sock
  if [[ ! -d $datadir/mysql ]]; then
    say "mysql: initialising $datadir"
    mariadb-install-db --no-defaults --user="$user" --datadir="$datadir" --auth-root-authentication-method=normal \
      --skip-test-db >"$STATE/mysql-install.log" 2>&1 || {
      tail -n 20 "$STATE/mysql-install.log" >&2
      die "mysql: mariadb-install-db failed (log: $STATE/mysql-install.log)"
    }
  fi
  touch "$MYSQL_LOG"
  [[ $user != "$(id -un)" ]] && chown "$user" "$MYSQL_LOG"
  setsid nohup "$MARIADBD" --no-defaults --user="$user" --datadir="$datadir" \
    --bind-address="$(bind_addr "$DB_HOST")" --port="$DB_PORT" --socket="$MYSQL_SOCKET" \
    --pid-file="$STATE/mysqld-$DB_PORT.pid" --skip-log-bin --log-error="$MYSQL_LOG" </dev/null >/dev/null 2>&1 &
}

[[ -n ${TODO[redis]:-} ]] && start_redis
[[ -n ${TODO[nats]:-} ]] && start_nats
[[ -n ${TODO[mysql]:-} ]] && start_mysql

# ---- 4. wait and finish ------------------------------------------------------------------------
mysql_client() { # runs SQL as the DATABASE_URL user over TCP
  local args=(--no-defaults --protocol=TCP --connect-timeout=3 -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER")
  [[ -n $DB_PASS ]] && args+=("-p$DB_PASS")
  mariadb "${args[@]}" -e "$1" >/dev/null 2>&1
}

if [[ -n ${TODO[redis]:-} ]]; then
  wait_port redis "$REDIS_HOST" "$REDIS_PORT" "$STATE/redis.log"
  say "redis: started ($REDIS_HOST:$REDIS_PORT, data $STATE/redis)"
fi
if [[ -n ${TODO[nats]:-} ]]; then
  wait_port nats "$NATS_HOST" "$NATS_PORT" "$STATE/nats.log"
  check_nats_jetstream
  say "nats: started ($NATS_HOST:$NATS_PORT, JetStream $STATE/nats)"
fi
if [[ -n ${TODO[mysql]:-} ]]; then
  wait_port mysql "$DB_HOST" "$DB_PORT" "$MYSQL_LOG"
  if command -v mariadb >/dev/null 2>&1; then
    if ! mysql_client 'SELECT 1'; then
      # Debian's packaged root uses unix_socket auth: the fleet connects over TCP without a password.
      if ((IS_ROOT)) && [[ $DB_USER == root && -z $DB_PASS ]]; then
        mariadb --no-defaults -uroot ${MYSQL_SOCKET:+-S "$MYSQL_SOCKET"} \
          -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('')" ||
          die "mysql: could not switch root@localhost to an empty password"
      fi
      mysql_client 'SELECT 1' || die "mysql: $DB_USER cannot log in over TCP at $DB_HOST:$DB_PORT (DATABASE_URL)"
    fi
    if [[ $DB_NAME =~ ^[A-Za-z0-9_]+$ ]]; then
      mysql_client "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`" || warn "mysql: could not create database $DB_NAME"
    fi
  fi
  say "mysql: started ($DB_HOST:$DB_PORT, log $MYSQL_LOG)"
fi
