# Sourced by the README's commands: makes sure Node.js 24 and the project's
# dependencies are present, installing what is missing, then puts them on PATH.
# The system Node.js is used when it is new enough; otherwise Node 24 comes
# from the npm registry's `node` package into .tools/node (no other download).

DS01_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DS01_NODE_MAJOR=24

ds01_log() { printf '\033[1mds01\033[0m %s\n' "$*" >&2; }

ds01_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ds01_ensure_system_tools() {
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      ds01_log "installing nodejs and npm from Debian (needed once, to fetch Node $DS01_NODE_MAJOR)"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      ds01_log "npm is missing: install Node.js and npm (any version), then run this again"; return 1
    fi
  fi
}

ds01_ensure_node() {
  local tools="$DS01_ROOT/.tools/node"
  if command -v node >/dev/null 2>&1 && [ "$(ds01_node_major node)" -ge "$DS01_NODE_MAJOR" ]; then
    return 0
  fi
  if [ ! -x "$tools/node_modules/.bin/node" ] || [ "$(ds01_node_major "$tools/node_modules/.bin/node")" -lt "$DS01_NODE_MAJOR" ]; then
    ds01_ensure_system_tools || return 1
    ds01_log "system Node.js is $(node --version 2>/dev/null || echo absent); installing Node $DS01_NODE_MAJOR into .tools/node"
    mkdir -p "$tools"
    (cd "$tools" && [ -f package.json ] || echo '{"private":true}' > "$tools/package.json")
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "node@$DS01_NODE_MAJOR" >/dev/null || return 1
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
}

ds01_ensure_deps() {
  local stamp="$DS01_ROOT/node_modules/.ds01-lock-hash"
  local want; want="$(sha256sum "$DS01_ROOT/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    ds01_log "installing dependencies (npm ci)"
    (cd "$DS01_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    echo "$want" > "$stamp"
  fi
}

ds01_bootstrap() {
  ds01_ensure_node && ds01_ensure_deps
}
