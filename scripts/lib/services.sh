# Sourced by scripts/test.sh: makes sure the real services the test suites drive are present and running.
#
#   ds01_services_up   installs what is missing (apt, as root), starts the ONE dedicated test dockerd on its
#                      own socket, builds the local busybox image once, and exports DS01_TEST_DOCKER_HOST
#                      and DS01_TEST_IMAGE for the suites; starts the ONE throwaway test PostgreSQL cluster
#                      (its own data dir and socket, never the machine's default cluster) and exports
#                      DS01_TEST_POSTGRES_URL.
#
# The test dockerd never touches the host's own Docker (/var/run/docker.sock): it has its own socket, data
# root, exec root and pid file, no iptables rules and no bridge (no network is reachable here anyway), and
# the vfs storage driver, which works inside any container or VM without overlay support.

DS01_TEST_RUN_DIR="${DS01_TEST_RUN_DIR:-/run/ds01-test}"
DS01_TEST_DATA_DIR="${DS01_TEST_DATA_DIR:-/var/lib/ds01-test}"
DS01_TEST_SOCKET="$DS01_TEST_RUN_DIR/docker.sock"
DS01_TEST_DOCKERD_LOG="$DS01_TEST_DATA_DIR/dockerd.log"
DS01_TEST_IMAGE_NAME="ds01-test/busybox:latest"
# Bump when the image recipe below changes: an image with another recipe label is rebuilt.
DS01_TEST_IMAGE_RECIPE=2
# Bump when the test dockerd's flags or environment below change: a running one of another recipe is
# restarted (its containers and images stay; it is this project's own daemon).
DS01_TEST_DOCKERD_RECIPE=2
DS01_TEST_DOCKERD_RECIPE_FILE="$DS01_TEST_RUN_DIR/dockerd.recipe"
# The stand-in for the NVIDIA Container Toolkit's hook (test/fixtures/nvidia-toolkit): on the test
# dockerd's PATH it makes `--gpus` containers startable; what each was given is in .../requests/<id>.
DS01_TEST_NVIDIA_TOOLKIT="$DS01_TEST_RUN_DIR/nvidia-toolkit"
DS01_SERVICES_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Debian package → a command it provides (checked with `command -v` before anything is installed).
DS01_TEST_PACKAGES=(
  "docker.io:dockerd"
  "docker-compose:docker-compose"
  "busybox-static:busybox"
  "prometheus:prometheus"
  "prometheus-alertmanager:prometheus-alertmanager"
  "prometheus-node-exporter:prometheus-node-exporter"
)

ds01_svc_log() { printf '\033[1mds01-services\033[0m %s\n' "$*" >&2; }

ds01_is_root() { [ "$(id -u)" = 0 ]; }

# Installs the Debian packages whose command is missing; runs `apt-get update` only when something is.
ds01_services_install() {
  local missing=() entry
  for entry in "${DS01_TEST_PACKAGES[@]}"; do
    command -v "${entry#*:}" >/dev/null 2>&1 || missing+=("${entry%%:*}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! ds01_is_root || ! command -v apt-get >/dev/null 2>&1; then
    ds01_svc_log "missing packages: ${missing[*]} — install them (as root: apt-get install ${missing[*]}); suites that need them will say so"
    return 0
  fi
  ds01_svc_log "installing ${missing[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ds01_test_docker() { docker --host "unix://$DS01_TEST_SOCKET" "$@"; }

ds01_test_dockerd_answers() { ds01_test_docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Stops a test dockerd started from an older recipe, so that the one started next has today's flags.
ds01_test_dockerd_stop_if_stale() {
  ds01_test_dockerd_answers || return 0
  [ "$(cat "$DS01_TEST_DOCKERD_RECIPE_FILE" 2>/dev/null)" = "$DS01_TEST_DOCKERD_RECIPE" ] && return 0
  ds01_is_root || return 0
  local pid; pid="$(cat "$DS01_TEST_RUN_DIR/dockerd.pid" 2>/dev/null)" || return 0
  ds01_svc_log "the test dockerd runs an older recipe: restarting it"
  kill "$pid" 2>/dev/null || return 0
  local i
  for i in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  ds01_svc_log "the old test dockerd (pid $pid) did not stop within 60 s"
}

# Starts the dedicated test dockerd unless one already answers on its socket.
ds01_test_dockerd_start() {
  ds01_test_dockerd_stop_if_stale
  if ds01_is_root; then
    mkdir -p "$DS01_TEST_NVIDIA_TOOLKIT/bin" "$DS01_TEST_NVIDIA_TOOLKIT/requests"
    cp "$DS01_SERVICES_LIB_DIR/../../test/fixtures/nvidia-toolkit/nvidia-container-runtime-hook" "$DS01_TEST_NVIDIA_TOOLKIT/bin/"
  fi
  if ds01_test_dockerd_answers; then
    ds01_svc_log "test dockerd already running on $DS01_TEST_SOCKET"
    return 0
  fi
  if ! ds01_is_root; then
    ds01_svc_log "no test dockerd on $DS01_TEST_SOCKET and not root: the docker suites will fail or skip." \
      "Run 'sudo scripts/test.sh' once to start it (or start it yourself, see scripts/lib/services.sh)."
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    ds01_svc_log "dockerd is not installed (apt-get install docker.io): the docker suites will fail or skip"
    return 0
  fi
  mkdir -p "$DS01_TEST_RUN_DIR" "$DS01_TEST_DATA_DIR/docker" "$DS01_TEST_RUN_DIR/exec"
  local pidfile="$DS01_TEST_RUN_DIR/dockerd.pid"
  # A stale pid file from a killed daemon makes dockerd refuse to start.
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
  # Every container a suite ever made leaves a network sandbox that dockerd removes one by one (~0.25 s
  # each) when it starts again: after a thousand-container benchmark that is minutes. This daemon has no
  # networks of its own (--bridge=none), so its network state can go.
  rm -rf "$DS01_TEST_DATA_DIR/docker/network"
  echo "$DS01_TEST_DOCKERD_RECIPE" >"$DS01_TEST_DOCKERD_RECIPE_FILE"
  ds01_svc_log "starting the test dockerd on $DS01_TEST_SOCKET (log: $DS01_TEST_DOCKERD_LOG)"
  # setsid: the daemon outlives this script and is shared by later runs; it is not a child of vitest.
  PATH="$DS01_TEST_NVIDIA_TOOLKIT/bin:$PATH" setsid dockerd \
    --host "unix://$DS01_TEST_SOCKET" \
    --data-root "$DS01_TEST_DATA_DIR/docker" \
    --exec-root "$DS01_TEST_RUN_DIR/exec" \
    --pidfile "$pidfile" \
    --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    >>"$DS01_TEST_DOCKERD_LOG" 2>&1 </dev/null &
  local i
  for i in $(seq 1 360); do
    ds01_test_dockerd_answers && { ds01_svc_log "test dockerd is up"; return 0; }
    [ $((i % 60)) -eq 0 ] && ds01_svc_log "still waiting for the test dockerd ($((i / 2)) s): $(tail -n 1 "$DS01_TEST_DOCKERD_LOG" | cut -c1-160)"
    sleep 0.5
  done
  ds01_svc_log "the test dockerd did not answer within 180 s; last lines of $DS01_TEST_DOCKERD_LOG:"
  tail -n 20 "$DS01_TEST_DOCKERD_LOG" >&2
  return 1
}

# Makes the local image ds01-test/busybox:latest from Debian's busybox-static (no registry is reachable).
ds01_test_image_build() {
  ds01_test_dockerd_answers || return 0
  local have
  have="$(ds01_test_docker image inspect --format '{{index .Config.Labels "test.ds01.image-recipe"}}' "$DS01_TEST_IMAGE_NAME" 2>/dev/null)"
  [ "$have" = "$DS01_TEST_IMAGE_RECIPE" ] && return 0
  local busybox; busybox="$(command -v busybox)" || { ds01_svc_log "busybox is missing: cannot build $DS01_TEST_IMAGE_NAME"; return 1; }
  local root; root="$(mktemp -d)"
  chmod 755 "$root" # mktemp makes it 0700: containers running as a non-root uid could not reach /bin
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root" "$root/proc" "$root/sys" "$root/dev"
  cp "$busybox" "$root/bin/busybox"
  local applet
  # Every applet the static busybox has, as a symlink (sh, sleep, cat, top, ...).
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  ds01_svc_log "building $DS01_TEST_IMAGE_NAME from $busybox"
  tar -C "$root" -c . | ds01_test_docker import \
    --change 'CMD ["sh"]' --change 'ENV PATH=/bin' \
    --change "LABEL test.ds01.image-recipe=$DS01_TEST_IMAGE_RECIPE" \
    - "$DS01_TEST_IMAGE_NAME" >/dev/null
  local rc=$?
  rm -rf "$root"
  # The image an older recipe made is now untagged: drop it (only dangling images of the test dockerd).
  [ $rc = 0 ] && ds01_test_docker image prune -f >/dev/null 2>&1
  return $rc
}

# The throwaway test PostgreSQL cluster: initdb into its own data dir, listening only on a unix socket in its
# own folder (no TCP port to collide with anything; 54329 only names the socket file), trust auth for the
# local socket. Debian's cluster tools (pg_ctlcluster, the `main` cluster on 5432) are never used.
DS01_TEST_POSTGRES_PORT="${DS01_TEST_POSTGRES_PORT:-54329}"
DS01_TEST_POSTGRES_DATA="$DS01_TEST_DATA_DIR/postgres"
DS01_TEST_POSTGRES_SOCKET_DIR="$DS01_TEST_RUN_DIR/postgres"
DS01_TEST_POSTGRES_LOG="$DS01_TEST_DATA_DIR/postgres.log"

# The newest installed server's bin folder (Debian keeps them in /usr/lib/postgresql/<major>/bin, off PATH).
ds01_postgres_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

# Runs a PostgreSQL tool as the postgres user (initdb and the server refuse to run as root).
ds01_as_postgres() {
  if ds01_is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

ds01_test_postgres_answers() {
  local bin; bin="$(ds01_postgres_bin)" || return 1
  "$bin/pg_isready" -q -h "$DS01_TEST_POSTGRES_SOCKET_DIR" -p "$DS01_TEST_POSTGRES_PORT" >/dev/null 2>&1
}

ds01_test_postgres_start() {
  local bin
  if ! bin="$(ds01_postgres_bin)"; then
    if ds01_is_root && command -v apt-get >/dev/null 2>&1; then
      ds01_svc_log "installing postgresql from Debian (the test cluster is a throwaway one of its own)"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    fi
    bin="$(ds01_postgres_bin)" || {
      ds01_svc_log "PostgreSQL is not installed (apt-get install postgresql): the PostgreSQL suites will fail or skip"
      return 0
    }
  fi
  if ds01_test_postgres_answers; then
    ds01_svc_log "test PostgreSQL already running in $DS01_TEST_POSTGRES_SOCKET_DIR"
    return 0
  fi
  if ds01_is_root; then
    mkdir -p "$DS01_TEST_POSTGRES_DATA" "$DS01_TEST_POSTGRES_SOCKET_DIR"
    touch "$DS01_TEST_POSTGRES_LOG"
    chown postgres: "$DS01_TEST_POSTGRES_DATA" "$DS01_TEST_POSTGRES_SOCKET_DIR" "$DS01_TEST_POSTGRES_LOG"
    chmod 700 "$DS01_TEST_POSTGRES_DATA"
  else
    mkdir -p "$DS01_TEST_POSTGRES_DATA" "$DS01_TEST_POSTGRES_SOCKET_DIR" || return 0
  fi
  if [ ! -f "$DS01_TEST_POSTGRES_DATA/PG_VERSION" ]; then
    ds01_svc_log "creating the test PostgreSQL cluster in $DS01_TEST_POSTGRES_DATA"
    ds01_as_postgres "$bin/initdb" -D "$DS01_TEST_POSTGRES_DATA" -U postgres --auth=trust \
      --encoding=UTF8 --no-locale >>"$DS01_TEST_POSTGRES_LOG" 2>&1 || {
      ds01_svc_log "initdb failed; last lines of $DS01_TEST_POSTGRES_LOG:"; tail -n 20 "$DS01_TEST_POSTGRES_LOG" >&2
      return 1
    }
  fi
  ds01_svc_log "starting the test PostgreSQL in $DS01_TEST_POSTGRES_SOCKET_DIR (log: $DS01_TEST_POSTGRES_LOG)"
  # Many suites open pools side by side: more connections than the default 100.
  ds01_as_postgres "$bin/pg_ctl" start -w -t 60 -D "$DS01_TEST_POSTGRES_DATA" -l "$DS01_TEST_POSTGRES_LOG" \
    -o "-p $DS01_TEST_POSTGRES_PORT -k $DS01_TEST_POSTGRES_SOCKET_DIR -c listen_addresses='' -c max_connections=300" \
    >/dev/null || {
    ds01_svc_log "the test PostgreSQL did not start; last lines of $DS01_TEST_POSTGRES_LOG:"
    tail -n 20 "$DS01_TEST_POSTGRES_LOG" >&2
    return 1
  }
}

ds01_services_up() {
  ds01_services_install || ds01_svc_log "installing packages failed; continuing with what is there"
  ds01_test_dockerd_start || true
  ds01_test_postgres_start || true
  export DS01_TEST_POSTGRES_URL="postgres://postgres@localhost/postgres?host=$DS01_TEST_POSTGRES_SOCKET_DIR&port=$DS01_TEST_POSTGRES_PORT"
  ds01_test_image_build || ds01_svc_log "could not build $DS01_TEST_IMAGE_NAME: the docker suites will fail"
  export DS01_TEST_DOCKER_HOST="unix://$DS01_TEST_SOCKET"
  export DS01_TEST_IMAGE="$DS01_TEST_IMAGE_NAME"
  export DS01_TEST_NVIDIA_REQUESTS="$DS01_TEST_NVIDIA_TOOLKIT/requests"
  # One small record per GPU container the suites started; a day is longer than any run that reads them.
  find "$DS01_TEST_NVIDIA_REQUESTS" -type f -mmin +1440 -delete 2>/dev/null || true
}
