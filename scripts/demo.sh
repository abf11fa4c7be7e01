#!/usr/bin/env bash
# make demo: the closed loop on emulated IRIS instances, on this machine only (127.0.0.1).
#   emulate (one instance with a lock table that is too small) -> generate -> publish to a local sink
#   -> the sink's analyser answers with a RemediationCommand -> consume polls it -> remediate
#   (preview with --check --diff, then for real with restart approval) -> the errors stop -> WorkflowTrace.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/build/demo
EMU=$DEMO/emulator
export ANSIBLE_COLLECTIONS_PATH=$ROOT/build/collections
export PATH=$ROOT/.venv/bin:$EMU/bin:$PATH
export IRISEMU_REGISTRY=$EMU/registry
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=1
export ANSIBLE_PYTHON_INTERPRETER=$ROOT/.venv/bin/python ANSIBLE_REMOTE_TMP=$DEMO/tmp
export IRISOPS_TRACE_DIR=$DEMO/traces
PYTHON=$ROOT/.venv/bin/python
SECONDS=0

step() { printf '\n\033[1m[%3ss] %s\033[0m\n' "$SECONDS" "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
playbook() { run ansible-playbook -i localhost, -c local "$@"; }

stop_previous_demo() {
  [ -x "$EMU/bin/iris" ] || return 0
  "$EMU/bin/iris" qlist 2>/dev/null | awk -F'^' '$4 ~ /^running/ {print $1}' | while read -r name; do
    "$EMU/bin/iris" force "$name" >/dev/null 2>&1 || true
  done
}

# The activity field of `iris qlist` (running, since <start time>).
iris_since() {
  iris qlist "$1" | cut -d^ -f4
}

# The emulator's Prometheus counter of LOCK TABLE FULL errors since the instance started.
lock_errors_since_start() {
  curl -s "http://127.0.0.1:$web1/api/monitor/metrics" | awk '$1 == "iris_lock_table_full_total" {print $2}'
}

step "Preparing $DEMO (venv: $($PYTHON --version))"
stop_previous_demo
rm -rf "$DEMO" && mkdir -p "$DEMO/tmp" "$DEMO/traces"

step "Starting the local sink + analyser on 127.0.0.1"
$PYTHON scripts/demo_sink.py "$DEMO" "$DEMO/sink.port" > "$DEMO/sink.log" 2>&1 &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true; stop_previous_demo' EXIT
for _ in $(seq 50); do [ -s "$DEMO/sink.port" ] && break; sleep 0.1; done
SINK=http://127.0.0.1:$(cat "$DEMO/sink.port")
echo "sink: $SINK/ingest   commands: $SINK/commands"

step "Emulating two IRIS instances (IRIS with locksiz too small for its workload, IRIS2 healthy)"
ports=$($PYTHON -c 'import socket
s = [socket.socket() for _ in range(4)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r ss1 web1 ss2 web2 <<< "$ports"
cat > "$DEMO/emulate.yml" <<EOF
iris_emulator_prefix: $EMU
iris_emulator_link: ""
iris_emulator_python: $PYTHON
iris_emulator_instances:
  - {name: IRIS, superserver_port: $ss1, web_port: $web1, switches: {fault_interval_seconds: 2}}
  - {name: IRIS2, superserver_port: $ss2, web_port: $web2}
EOF
playbook "$ROOT/playbooks/emulate.yml" -e iris_emulator_hosts=localhost -e "@$DEMO/emulate.yml"
step "An operator's mistake: [config] locksiz lowered to 1 MB on IRIS, then a restart"
cat > "$DEMO/mistake.yml" <<'EOF'
- name: An operator lowers the lock table of IRIS and restarts it
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Lower [config] locksiz to 1 MB
      irisops.iris.cpf: {instance: IRIS, section: config, parameter: locksiz, value: "1048576"}
    - name: Restart IRIS (checking only that it listens; with this lock table it comes up in alert)
      irisops.iris.instance_restart: {instance: IRIS, state: restarted, health_checks: [superserver], stable_seconds: 0}
EOF
playbook "$DEMO/mistake.yml"
run iris qlist
for _ in $(seq 50); do [ "$(lock_errors_since_start)" -ge 2 ] && break; sleep 0.2; done
echo "LOCK TABLE FULL errors since IRIS started: $(lock_errors_since_start)"

step "Generate: a realistic lock-table episode (offline template engine), published to the sink as test data"
playbook "$ROOT/playbooks/generate.yml" -e category=lock -e count=8 -e severity=0-3 -e seed=7 -e output=ndjson \
  -e "dest=$DEMO/generated.ndjson" -e quiet=true -e publish=true -e "endpoint=$SINK/ingest" -e "spool_dir=$DEMO/spool"
head -3 "$DEMO/generated.ndjson"

step "Publish: IRIS's recent severe messages.log entries to the sink (retries, spool, idempotency keys)"
playbook "$ROOT/playbooks/publish.yml" -e instance=IRIS -e min_severity=2 -e "endpoint=$SINK/ingest" \
  -e "spool_dir=$DEMO/spool"
echo "sink received $(wc -l < "$DEMO/received.ndjson") messages; the analyser queued a remediation command"

step "Preview: what the analyser's command would change (--check --diff); nothing is touched"
command=$(find "$DEMO/proposed" -name "*.json" | head -1)
cat "$command"
ANSIBLE_CALLBACKS_ENABLED=irisops.iris.workflow_trace playbook "$ROOT/playbooks/remediate.yml" -e "@$command" --check --diff

step "Remediate without downtime: consume polls the analyser (schema check, dedupe, queue) and applies the command; locksiz is live, so iris merge activates it in the running IRIS: no restart, no approval"
since_before=$(iris_since IRIS)
ANSIBLE_CALLBACKS_ENABLED=irisops.iris.workflow_trace playbook "$ROOT/playbooks/consume.yml" -e "source=$SINK/commands" \
  -e "commands_state_dir=$DEMO/commands-state"

step "Verify: the errors stopped while IRIS kept running"
errors=$(lock_errors_since_start)
sleep 3
run iris qlist
echo "IRIS running since: $since_before -> $(iris_since IRIS)"
echo "LOCK TABLE FULL errors since IRIS started: $errors at the fix, $(lock_errors_since_start) three fault intervals later"
[ "$(iris_since IRIS)" = "$since_before" ] || { echo "IRIS was restarted" >&2; exit 1; }
[ "$(lock_errors_since_start)" = "$errors" ] || { echo "the fault is still there" >&2; exit 1; }

step "Beside it, a change IRIS reads only at start: [config] gmheap on IRIS2 (approved restart, health checks)"
$PYTHON - "$ROOT/examples/commands/fault-gmheap-too-small.json" "$DEMO/gmheap-iris2.json" <<'EOF'
import json, sys
command = json.load(open(sys.argv[1]))
command.update(command_id="demo-gmheap-iris2", instance="IRIS2")
json.dump(command, open(sys.argv[2], "w"))
EOF
since_before=$(iris_since IRIS2)
ANSIBLE_CALLBACKS_ENABLED=irisops.iris.workflow_trace playbook "$ROOT/playbooks/remediate.yml" \
  -e "@$DEMO/gmheap-iris2.json" -e approve_restart=true
echo "IRIS2 running since: $since_before -> $(iris_since IRIS2)"

step "WorkflowTrace"
trace=$(find "$DEMO/traces" -name "*.json" -printf "%T@ %p\n" | sort -n | tail -1 | cut -d" " -f2-)
$PYTHON - "$trace" <<'EOF'
import json, sys
trace = json.load(open(sys.argv[1]))
print("trace %s  overall_status=%s  file=%s" % (trace["trace_id"], trace["overall_status"], sys.argv[1]))
for number, step in enumerate(trace["steps_executed"], 1):
    print("  %d. %-20s %-8s %s" % (number, step["tool"], step["status"],
                                  "; ".join("%s %s -> %s" % (c["target"], c.get("old_value"), c.get("new_value"))
                                            for c in step.get("changes", []))))
EOF
step "Done in ${SECONDS}s"
