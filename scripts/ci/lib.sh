# shellcheck shell=bash
#
# Shared helpers for the CI provisioning scripts in scripts/ci/ (start-*.sh, stop-*.sh)
# and for .ci/run. Source it; it defines functions only and sets no shell options.
#
# Conventions for a service script pair (postgres today; kafka, spark later):
#   scripts/ci/start-<svc>.sh  logs to stderr and prints only `export NAME='value'` lines
#                              on stdout, so `eval "$(scripts/ci/start-<svc>.sh)"` works;
#                              it cleans up after itself if it fails half-way.
#   scripts/ci/stop-<svc>.sh   reads those exported variables (or takes the temp dir as $1),
#                              stops the service and removes its temp dir; a no-op if nothing runs.

ci_log() { printf '%s\n' "$*" >&2; }

ci_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# ci_as_root CMD...: run CMD as root (directly, or through sudo for a developer).
ci_as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    ci_die "need root to run: $* (not root and no sudo)"
  fi
}

# ci_apt_install PKG...: install Debian packages non-interactively. `apt-get update` runs at
# most once per process, and only when the package lists are missing or older than an hour
# (or when an install against the existing lists fails).
_ci_apt_updated=""
_ci_apt_update() {
  ci_log "   apt-get update"
  ci_as_root apt-get update -q </dev/null >&2
  _ci_apt_updated=1
}
ci_apt_install() {
  if [[ -z $_ci_apt_updated && -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 -print -quit 2>/dev/null) ]]; then
    _ci_apt_update
  fi
  ci_log "   apt-get install $*"
  if ! ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >&2; then
    [[ -z $_ci_apt_updated ]] || return 1
    _ci_apt_update
    ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >&2
  fi
}

# ci_port_busy PORT: true if something accepts TCP connections on 127.0.0.1:PORT
# or any process listens on PORT (per `ss`, when available).
ci_port_busy() {
  local port=$1
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
    return 0
  fi
  (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# ci_free_port START [TRIES]: print the first port >= START that is not busy.
ci_free_port() {
  local port=$1 tries=${2:-200}
  while ((tries-- > 0)); do
    if ! ci_port_busy "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
    port=$((port + 1))
  done
  ci_die "no free TCP port found from $1"
}

# ci_export NAME VALUE: print `export NAME='VALUE'`, quoted for eval by sh/bash/zsh.
ci_export() {
  local value=${2//\'/\'\\\'\'}
  printf "export %s='%s'\n" "$1" "$value"
}
