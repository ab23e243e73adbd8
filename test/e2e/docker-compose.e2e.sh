#!/usr/bin/env bash
# End to end through docker-compose.yml: builds the agent image, starts the real Wazuh manager and
# the agent, creates then deletes a file in the watched host directory, and waits until the
# manager's alerts.json holds rule 554 (added) and then rule 553 (deleted, with who-data) from
# this agent for that file. Skips (exit 0) where Docker cannot be used.
#
# Runs as its own compose project with its own volumes and no fixed host ports, so it neither
# touches a quick-start stack nor collides with a manager already listening on 1514/1515.
#   E2E_PROJECT (wazuh-bpf-agent-e2e)  E2E_KEEP=1: leave the stack up afterwards
#   E2E_UP_TIMEOUT (1800 s: image pulls and the agent's build)  E2E_WAIT_TIMEOUT (300 s per wait)
set -euo pipefail
cd "$(dirname "$0")/../.."

WATCHED=/var/tmp/wazuh-bpf-agent/watched # docker/agent/ossec.conf and docker-compose.yml
ALERTS=/var/ossec/logs/alerts/alerts.json
PROJECT="${E2E_PROJECT:-wazuh-bpf-agent-e2e}"
UP_TIMEOUT="${E2E_UP_TIMEOUT:-1800}"
WAIT_TIMEOUT="${E2E_WAIT_TIMEOUT:-300}"
export WAZUH_AGENT_NAME="${WAZUH_AGENT_NAME:-wazuh-bpf-agent-e2e}"
export WAZUH_EVENTS_PORT="" WAZUH_ENROLLMENT_PORT="" # any free host port

say() { echo "docker-compose e2e: $*"; }
fail() {
  echo "docker-compose e2e: FAIL: $*" >&2
  exit 1
}

if ! command -v docker >/dev/null 2>&1; then
  echo "SKIP: docker is not available here (no docker command on PATH)"
  exit 0
fi
if ! info_err="$(docker info 2>&1 >/dev/null)"; then
  echo "SKIP: docker is not available here (docker info: $(grep -m1 -iE 'error|cannot|denied' <<<"$info_err" || echo "${info_err%%$'\n'*}"))"
  exit 0
fi

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  fail "Docker works here but Compose does not: install the docker compose plugin (or docker-compose)"
fi
compose() { "${COMPOSE[@]}" -p "$PROJECT" -f docker-compose.yml "$@"; }

# Runs "$@" every 2 s until it succeeds or $1 seconds have passed (a deadline against hangs).
wait_for() {
  local what="$1" timeout="$2" deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || fail "no $what within ${timeout} s"
    sleep 2
  done
}

finish() {
  local rc=$?
  if ((rc != 0)); then
    echo "--- last agent log lines" >&2
    compose logs --no-color --tail=40 agent >&2 || true
    echo "--- last manager log lines" >&2
    compose logs --no-color --tail=40 wazuh.manager >&2 || true
  fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    say "left running (E2E_KEEP=1); stop with: ${COMPOSE[*]} -p $PROJECT down -v"
  else
    compose down -v --remove-orphans >/dev/null 2>&1 || true
  fi
}

mkdir -p "$WATCHED" || fail "cannot create the watched directory $WATCHED"
[ -w "$WATCHED" ] || fail "$WATCHED is not writable by $(id -un) (created by Docker as root?)"
FILE="$WATCHED/e2e-$$-$(date +%s).txt"

say "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || echo "version unknown")), project $PROJECT"
compose down -v --remove-orphans >/dev/null 2>&1 || true # what a killed earlier run left
trap finish EXIT
say "building the agent image and starting the manager and the agent (up to ${UP_TIMEOUT} s)"
timeout "$UP_TIMEOUT" "${COMPOSE[@]}" -p "$PROJECT" -f docker-compose.yml up -d --build ||
  fail "docker compose up did not succeed within ${UP_TIMEOUT} s"

# No `grep -q` after a pipe here: it may stop reading early, and the writer's SIGPIPE would fail
# the pipeline under pipefail.
agent_active() {
  compose exec -T wazuh.manager /var/ossec/bin/agent_control -ls 2>/dev/null |
    grep -E "^[0-9]+,${WAZUH_AGENT_NAME},[^,]*,Active,$" >/dev/null
}
wait_for "agent '$WAZUH_AGENT_NAME' enrolled and Active at the manager" "$WAIT_TIMEOUT" agent_active
say "agent '$WAZUH_AGENT_NAME' is enrolled and connected"

# The file must be created after the first scan and with capture running, so that its deletion
# is a real-time event and not something a later scan finds.
agent_log_has() { compose logs --no-color agent 2>/dev/null | grep -F -- "$1" >/dev/null; }
wait_for "first FIM scan" "$WAIT_TIMEOUT" agent_log_has 'File integrity monitoring scan ended'
wait_for "real-time capture" "$WAIT_TIMEOUT" agent_log_has 'Real-time capture mode: '
say "$(compose logs --no-color agent | grep -o 'Real-time capture mode: .*' | sed -n 1p)"

# Prints the alerts.json line with rule $1 from this agent for $FILE; fails when there is none.
# alerts.json holds one unformatted JSON object a line; its "rule" object starts with level,
# description and id, none of which holds braces.
alert_for() {
  local lines
  lines="$(compose exec -T wazuh.manager grep -F "\"path\":\"$FILE\"" "$ALERTS" 2>/dev/null || true)"
  lines="$(grep -E "\"rule\":\\{[^{}]*\"id\":\"$1\"" <<<"$lines" |
    grep -E "\"agent\":\\{\"id\":\"[0-9]+\",\"name\":\"${WAZUH_AGENT_NAME}\"" || true)"
  [ -n "$lines" ] && printf '%s\n' "${lines%%$'\n'*}"
}

echo created >"$FILE"
wait_for "rule 554 (file added) for $FILE" "$WAIT_TIMEOUT" alert_for 554 >/dev/null
say "rule 554 (added) for $FILE"

rm "$FILE"
wait_for "rule 553 (file deleted) for $FILE" "$WAIT_TIMEOUT" alert_for 553 >/dev/null
deleted="$(alert_for 553)"
grep -q '"mode":"whodata"' <<<"$deleted" ||
  fail "rule 553 came without who-data (the agent fell back from eBPF capture): $deleted"
say "rule 553 (deleted, who-data) for $FILE: $(grep -o '"audit":{.*' <<<"$deleted" | cut -c1-400)"
say "1 passed, 0 failed"
