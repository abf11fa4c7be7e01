#!/usr/bin/env bash
# Test hosts for the SSH/become tests (tests/support/ssh_hosts.py): network namespaces on this machine,
# each with a veth link to the machine, its own sshd, a non-root user with passwordless sudo and a
# Python 3.9 for the target side.
#
#   bash scripts/test-hosts.sh up      # idempotent: creates what is missing, keeps what is there
#   bash scripts/test-hosts.sh down    # stops everything in the namespaces, removes users, links, files
#   bash scripts/test-hosts.sh status
#
# Addresses are 10.231.15.0/24, one /30 per host, used only between this machine and its namespaces
# (no route out of a namespace, no forwarding). Namespaces share the machine's filesystem, so each host
# has its own user and home, and its own directory under $STATE/hosts/<host> for test data.
# Where hosts cannot be made (not root, no namespaces, packages not installable, no Python 3.9) `up`
# writes the reason to $STATE/SKIP, prints it and exits 0: the tests then skip with that reason.
set -euo pipefail

STATE=${IRISOPS_TEST_HOSTS_DIR:-/var/lib/irisops-testhosts}
COUNT=${IRISOPS_TEST_HOSTS:-3}
PREFIX=irisops-th
SUBNET=10.231.15
PACKAGES=(openssh-server iproute2 sudo patchelf)

say() { echo "test-hosts: $*"; }

skip() {
  mkdir -p "$STATE" 2>/dev/null && echo "$*" > "$STATE/SKIP" || true
  say "SKIPPED, the SSH/become tests will skip: $*"
  exit 0
}

host_address() { echo "$SUBNET.$(( 4 * $1 + 2 ))"; }
machine_address() { echo "$SUBNET.$(( 4 * $1 + 1 ))"; }

# Debian packages: apt-get update once, then install what is missing (nothing when all are there).
install_packages() {
  local missing=()
  command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v sudo >/dev/null || missing+=(sudo)
  command -v patchelf >/dev/null || missing+=(patchelf)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || skip "packages ${missing[*]} are missing and apt-get is not available"
  say "installing ${missing[*]} (of ${PACKAGES[*]})"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || skip "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || skip "apt-get install ${missing[*]} failed"
}

# The targets' Python 3.9: pyenv's build, copied (hard links where possible) out of /root, which the
# hosts' users cannot enter; its libpython is found through $ORIGIN instead of the /root path baked in.
provide_python39() {
  local dest=$STATE/python3.9 source=""
  if [ -x "$dest/bin/python3.9" ] && "$dest/bin/python3.9" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))'; then
    return 0
  fi
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*; do
    [ -x "$candidate/bin/python3.9" ] && source=$candidate
  done
  [ -n "$source" ] || skip "no Python 3.9 for the targets (looked for \$PYENV_ROOT/versions/3.9*; install one with pyenv)"
  say "copying the targets' Python 3.9 from $source"
  rm -rf "$dest"
  cp -al "$source" "$dest" 2>/dev/null || cp -a "$source" "$dest"
  # A real copy of the executable (patchelf must not change the original through a hard link).
  rm -f "$dest/bin/python3.9" && cp -p "$source/bin/python3.9" "$dest/bin/python3.9"
  # shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader, not the shell
  patchelf --set-rpath '$ORIGIN/../lib' "$dest/bin/python3.9"
  chmod -R go+rX "$dest"
}

sshd_running() {
  local pidfile=$1
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

up_host() {
  local index=$1 name=$PREFIX$1 ns=$PREFIX$1 user=$PREFIX$1
  local dir=$STATE/hosts/$name address machine
  address=$(host_address "$index")
  machine=$(machine_address "$index")
  mkdir -p "$dir/data"

  ip netns list | grep -qx "$ns\( .*\)\?" || ip netns add "$ns"
  ip -n "$ns" link set lo up
  if ! ip link show "${name}m" >/dev/null 2>&1; then
    ip link add "${name}m" type veth peer name "${name}n"
    ip link set "${name}n" netns "$ns"
  fi
  ip addr replace "$machine/30" dev "${name}m" && ip link set "${name}m" up
  ip -n "$ns" addr replace "$address/30" dev "${name}n" && ip -n "$ns" link set "${name}n" up

  # A user of its own (not locked, so sshd without PAM accepts its key), passwordless sudo.
  id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
  usermod -p '*' "$user"
  mkdir -p "$STATE/authorized_keys"
  cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys/$user"
  chmod 0644 "$STATE/authorized_keys/$user"
  echo "$user ALL=(ALL) NOPASSWD:ALL" > "$STATE/sudoers.tmp"
  visudo -cqf "$STATE/sudoers.tmp" && install -m 0440 "$STATE/sudoers.tmp" "/etc/sudoers.d/$user"
  rm -f "$STATE/sudoers.tmp"

  [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/ssh_host_ed25519_key"
  cat > "$dir/sshd_config" <<EOF
ListenAddress $address
Port 22
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys/%u
AllowUsers $user
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
MaxStartups 50
MaxSessions 50
Subsystem sftp internal-sftp
EOF
  mkdir -p /run/sshd
  if ! sshd_running "$dir/sshd.pid"; then
    ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  fi
  echo "$address $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >> "$STATE/known_hosts.tmp"
  printf '{"name": "%s", "address": "%s", "user": "%s", "dir": "%s"}' "$name" "$address" "$user" "$dir" >> "$STATE/hosts.tmp"
}

write_inventory() {
  local python=$STATE/python3.9/bin/python3.9
  {
    echo "# Written by scripts/test-hosts.sh up"
    echo "[iris_test_hosts]"
    for index in $(seq 1 "$COUNT"); do
      echo "$PREFIX$index ansible_host=$(host_address "$index") ansible_user=$PREFIX$index"
    done
    echo
    echo "[iris_test_hosts:vars]"
    echo "ansible_become=true"
    echo "ansible_python_interpreter=$python"
    echo "ansible_ssh_private_key_file=$STATE/id_ed25519"
    echo "ansible_ssh_common_args='-o UserKnownHostsFile=$STATE/known_hosts -o StrictHostKeyChecking=yes'"
  } > "$STATE/inventory.ini"
  {
    printf '{"python": "%s", "private_key": "%s", "known_hosts": "%s", "hosts": [' \
      "$python" "$STATE/id_ed25519" "$STATE/known_hosts"
    sed 's/}{/}, {/g' "$STATE/hosts.tmp"
    echo ']}'
  } > "$STATE/hosts.json"
  mv "$STATE/known_hosts.tmp" "$STATE/known_hosts"
  rm -f "$STATE/hosts.tmp"
}

cmd_up() {
  [ "$(id -u)" -eq 0 ] || skip "making network namespaces, users and sudo rules needs root (run as root, as CI does)"
  mkdir -p "$STATE" && chmod 0755 "$STATE"
  rm -f "$STATE/SKIP" "$STATE/hosts.tmp" "$STATE/known_hosts.tmp"
  install_packages
  if ! ip netns add irisops-probe 2>/dev/null; then
    skip "network namespaces cannot be created here (ip netns add failed: no CAP_SYS_ADMIN?)"
  fi
  ip netns delete irisops-probe
  provide_python39
  [ -f "$STATE/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C irisops-test-controller -f "$STATE/id_ed25519"
  for index in $(seq 1 "$COUNT"); do up_host "$index"; done
  write_inventory
  for index in $(seq 1 "$COUNT"); do
    local user=$PREFIX$index
    ssh -q -i "$STATE/id_ed25519" -o UserKnownHostsFile="$STATE/known_hosts" -o StrictHostKeyChecking=yes \
      -o BatchMode=yes -o ConnectTimeout=10 "$user@$(host_address "$index")" sudo -n true \
      || { say "$user@$(host_address "$index"): ssh + sudo does not work; see $STATE/hosts/$user/sshd.log" >&2; exit 1; }
  done
  say "$COUNT hosts up (ssh + sudo checked): inventory $STATE/inventory.ini, Python 3.9 from pyenv"
}

cmd_down() {
  [ "$(id -u)" -eq 0 ] || { say "nothing to do (not root)"; return 0; }
  for index in $(seq 1 "$COUNT"); do
    local name=$PREFIX$index
    local -a pids
    if ip netns list | grep -qx "$name\( .*\)\?"; then
      # Only processes started in this host's namespace: its sshd and the emulator daemons the tests started.
      mapfile -t pids < <(ip netns pids "$name" || true)
      [ ${#pids[@]} -eq 0 ] || { kill "${pids[@]}" 2>/dev/null || true; sleep 1; mapfile -t pids < <(ip netns pids "$name" || true); }
      [ ${#pids[@]} -eq 0 ] || kill -9 "${pids[@]}" 2>/dev/null || true
      ip netns delete "$name"
    fi
    ip link delete "${name}m" 2>/dev/null || true
    rm -f "/etc/sudoers.d/$name"
    if id -u "$name" >/dev/null 2>&1; then userdel --remove "$name" 2>/dev/null || userdel "$name"; fi
  done
  rm -rf "$STATE"
  say "hosts removed"
}

cmd_status() {
  if [ -f "$STATE/SKIP" ]; then say "skipped: $(cat "$STATE/SKIP")"; return 0; fi
  [ -f "$STATE/hosts.json" ] || { say "not set up (bash scripts/test-hosts.sh up)"; return 0; }
  for index in $(seq 1 "$COUNT"); do
    local dir=$STATE/hosts/$PREFIX$index
    if sshd_running "$dir/sshd.pid"; then say "$PREFIX$index $(host_address "$index") sshd running"
    else say "$PREFIX$index $(host_address "$index") sshd NOT running"; fi
  done
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
