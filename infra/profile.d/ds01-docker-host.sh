# /etc/profile.d/ds01-docker-host.sh — installed by DS01.
# Points every user's docker CLI, docker compose, dev containers and the ds01 CLI at their own DS01
# gateway socket, which ds01d creates for each registered user (owned by them, mode 0600). root keeps
# the daemon's own socket. A user who already set DOCKER_HOST keeps it (only their socket answers).
if [ "$(id -u)" -ne 0 ] && [ -z "${DOCKER_HOST:-}" ]; then
  DOCKER_HOST="unix:///run/ds01/users/$(id -un)/docker.sock"
  export DOCKER_HOST
fi
