#!/usr/bin/env bash
# Provision one VM of the mesos_wm Vagrant cluster (see README.md in this folder).
#
# Usage:
#   provision.sh master          as root inside the master VM: ZooKeeper, mesos-master, mesos_wm
#   provision.sh agent           as root inside an agent VM: mesos-agent, mesos_wm (the executor)
#   provision.sh flags ROLE      print the flags the ROLE daemon is started with, one per line,
#                                and change nothing (the tests compare them with the docs)
#
# Running it again is safe: packages are installed only when missing, files are rewritten
# only when their content changes, and a daemon is restarted only when its unit changed.
#
# Environment (the Vagrantfile sets it per VM):
#   MESOS_WM_MASTER_IP        private address of the master VM        (default 192.168.56.10)
#   MESOS_WM_NODE_IP          private address of this VM              (default the master's)
#   MESOS_WM_RACK             `rack` attribute of this agent          (default r1)
#   MESOS_WM_AGENT_RESOURCES  resources this agent offers   (default cpus:2;mem:1536;disk:10000;ports:[31000-32000])
#   MESOS_WM_DOCKER           auto | 1 | 0: docker containerizer      (default auto)
#   MESOS_WM_PROJECT          the synced project folder               (default /mesos_wm)
#   MESOS_WM_AVENTER_REPO     AVENTER apt repository base             (default below)
set -euo pipefail

readonly MASTER_IP="${MESOS_WM_MASTER_IP:-192.168.56.10}"
readonly NODE_IP="${MESOS_WM_NODE_IP:-${MASTER_IP}}"
readonly RACK="${MESOS_WM_RACK:-r1}"
readonly AGENT_RESOURCES="${MESOS_WM_AGENT_RESOURCES:-cpus:2;mem:1536;disk:10000;ports:[31000-32000]}"
readonly DOCKER="${MESOS_WM_DOCKER:-auto}"
readonly PROJECT="${MESOS_WM_PROJECT:-/mesos_wm}"
readonly AVENTER_REPO="${MESOS_WM_AVENTER_REPO:-https://rpm.aventer.biz/Ubuntu}"
readonly AVENTER_KEY_URL="https://www.aventer.biz/assets/support_aventer.asc"
readonly AVENTER_KEY=/etc/apt/keyrings/support_aventer.asc
readonly VENV=/opt/mesos-wm
readonly ZK_URL="zk://${MASTER_IP}:2181/mesos"

log() { printf '==> %s\n' "$*"; }
die() { printf 'provision.sh: %s\n' "$*" >&2; exit 1; }

use_docker() {
  case "${DOCKER}" in
    1) return 0 ;;
    0) return 1 ;;
    auto) command -v docker >/dev/null 2>&1 ;;
    *) die "MESOS_WM_DOCKER=${DOCKER}: expected auto, 1 or 0" ;;
  esac
}

master_flags() {
  printf '%s\n' \
    "--zk=${ZK_URL}" \
    "--quorum=1" \
    "--work_dir=/var/lib/mesos/master" \
    "--ip=${NODE_IP}" \
    "--advertise_ip=${NODE_IP}" \
    "--hostname=${NODE_IP}" \
    "--cluster=mesos-wm-vagrant"
}

agent_flags() {
  local containerizers=mesos
  if use_docker; then containerizers=mesos,docker; fi
  printf '%s\n' \
    "--master=${ZK_URL}" \
    "--work_dir=/var/lib/mesos/agent" \
    "--containerizers=${containerizers}" \
    "--resources=${AGENT_RESOURCES}" \
    "--attributes=rack:${RACK}" \
    "--ip=${NODE_IP}" \
    "--advertise_ip=${NODE_IP}" \
    "--hostname=${NODE_IP}" \
    "--launcher=posix" \
    "--isolation=posix/cpu,posix/mem" \
    "--systemd_enable_support=false" \
    "--executor_registration_timeout=5mins" \
    "--switch_user=false"
}

# Write stdin to $1 only if the content differs; status 0 when the file changed.
install_if_changed() {
  local target=$1 tmp
  tmp="$(mktemp)"
  cat >"${tmp}"
  if [[ -f "${target}" ]] && cmp -s "${tmp}" "${target}"; then
    rm -f "${tmp}"
    return 1
  fi
  install -D -m 0644 "${tmp}" "${target}"
  rm -f "${tmp}"
}

APT_UPDATED=0

apt_update() {
  apt-get update
  APT_UPDATED=1
}

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null)" == "install ok installed" ]] \
      || missing+=("${pkg}")
  done
  if ((${#missing[@]})); then
    ((APT_UPDATED)) || apt_update
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# AVENTER's repository serves aventer-mesos; it is pinned low so that every other package
# (ZooKeeper, Python, docker.io) still comes from Ubuntu.
setup_aventer_repo() {
  local codename origin changed=1
  origin="${AVENTER_REPO#*://}"
  origin="${origin%%/*}"
  # shellcheck source=/dev/null
  codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME}")"
  [[ -n "${codename}" ]] || die "cannot read VERSION_CODENAME from /etc/os-release"
  apt_install ca-certificates curl
  if [[ ! -s "${AVENTER_KEY}" ]]; then
    log "fetching AVENTER's signing key"
    install -d -m 0755 /etc/apt/keyrings
    curl -fsSL "${AVENTER_KEY_URL}" -o "${AVENTER_KEY}.tmp"
    mv "${AVENTER_KEY}.tmp" "${AVENTER_KEY}"
    changed=0
  fi
  install_if_changed /etc/apt/sources.list.d/aventer-mesos.list <<EOF && changed=0
deb [signed-by=${AVENTER_KEY}] ${AVENTER_REPO}/${codename} ${codename} main
EOF
  install_if_changed /etc/apt/preferences.d/aventer-mesos <<EOF && changed=0
Package: *
Pin: origin ${origin}
Pin-Priority: 100

Package: aventer-mesos
Pin: origin ${origin}
Pin-Priority: 990
EOF
  if ((changed == 0)); then
    apt_update
  fi
}

# Install aventer-mesos and stop the packaged daemons this VM must not run. The package holds
# both daemons and may start its own units on install; the unit of the daemon this VM does
# run is replaced by ours (a unit in /etc wins over one in /lib).
install_mesos() {
  local unwanted unit
  setup_aventer_repo
  apt_install aventer-mesos
  case "$1" in
    master) unwanted=(mesos-agent mesos-slave) ;;
    agent) unwanted=(mesos-master mesos-slave) ;;
  esac
  for unit in "${unwanted[@]}"; do
    if systemctl cat "${unit}.service" >/dev/null 2>&1; then
      systemctl disable --now "${unit}.service" >/dev/null 2>&1 || true
    fi
  done
  command -v "mesos-$1" >/dev/null || die "aventer-mesos installed no mesos-$1 binary"
  "mesos-$1" --help >/dev/null || die "mesos-$1 does not start; see the output above"
}

# Write and (re)start a systemd unit running BINARY with the flags printed by FLAGS_FN.
write_unit() {
  local name=$1 binary=$2 flags_fn=$3 description=$4 after=$5 path flag exec_line
  path="$(command -v "${binary}")" || die "${binary} not found"
  exec_line="ExecStart=${path}"
  while IFS= read -r flag; do
    exec_line+=" \"${flag}\""
  done < <("${flags_fn}")
  if install_if_changed "/etc/systemd/system/${name}.service" <<EOF
[Unit]
Description=${description} (mesos_wm Vagrant cluster)
Wants=network-online.target ${after}
After=network-online.target ${after}

[Service]
${exec_line}
Restart=always
RestartSec=5
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
EOF
  then
    systemctl daemon-reload
    systemctl enable "${name}.service"
    systemctl restart "${name}.service"
  else
    systemctl enable --now "${name}.service"
  fi
}

install_zookeeper() {
  if apt-cache show zookeeperd >/dev/null 2>&1; then
    apt_install zookeeperd
  else
    apt_install zookeeper
  fi
  systemctl cat zookeeper.service >/dev/null 2>&1 \
    || die "no zookeeper.service after installing ZooKeeper; install one by hand"
  local cfg=/etc/zookeeper/conf/zoo.cfg
  if [[ -f "${cfg}" ]] && ! grep -q '^admin.enableServer=' "${cfg}"; then
    echo 'admin.enableServer=false' >>"${cfg}"
    systemctl restart zookeeper.service
  fi
  systemctl enable --now zookeeper.service
  wait_for_port 127.0.0.1 2181 "ZooKeeper"
}

wait_for_port() {
  local host=$1 port=$2 what=$3 i
  for ((i = 0; i < 60; i++)); do
    if (exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null; then
      return 0
    fi
    sleep 2
  done
  die "${what} is not listening on ${host}:${port} after 120 s (journalctl -u ${what,,})"
}

# Python 3.11+ and mesos_wm from the synced project folder, in one virtualenv at the same
# path on every VM, so an executor command naming ${VENV}/bin/python works on any agent.
install_mesos_wm() {
  apt_install python3 python3-venv
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "mesos_wm needs Python 3.11+; use an Ubuntu 24.04 box (MESOS_WM_BOX)"
  [[ -f "${PROJECT}/setup.cfg" ]] || die "project folder ${PROJECT} is not synced"
  [[ -x "${VENV}/bin/python" ]] || python3 -m venv "${VENV}"
  # Build from a copy, so that nothing is written into the synced folder on the host.
  local src
  src="$(mktemp -d)"
  tar -C "${PROJECT}" --exclude=./.git --exclude=./.venv --exclude=./vagrant/.vagrant -cf - . \
    | tar -C "${src}" -xf -
  log "installing mesos_wm from ${PROJECT} into ${VENV}"
  "${VENV}/bin/pip" install --quiet --disable-pip-version-check "${src}"
  rm -rf "${src}"
  ln -sfn "${VENV}/bin/mesos-wm" /usr/local/bin/mesos-wm
}

# SQLite (WAL) needs file locking and shared memory that VirtualBox shared folders do not
# provide reliably, so the queue of a framework run on the master VM lives on the VM's disk.
configure_queue_location() {
  install -d -m 1777 /var/lib/mesos-wm
  install_if_changed /etc/profile.d/mesos-wm.sh <<'EOF' || true
# mesos_wm Vagrant cluster: keep the queue on this VM's disk, not in the shared folder.
export MESOS_WM_QUEUE="${MESOS_WM_QUEUE:-sqlite:////var/lib/mesos-wm/queue.db}"
EOF
}

provision_master() {
  install_zookeeper
  install_mesos master
  install -d -m 0755 /var/lib/mesos/master
  write_unit mesos-master mesos-master master_flags "Mesos master" zookeeper.service
  wait_for_port "${NODE_IP}" 5050 "mesos-master"
  install_mesos_wm
  configure_queue_location
  log "master ready: web UI http://${NODE_IP}:5050, ZooKeeper ${ZK_URL}"
}

provision_agent() {
  if [[ "${DOCKER}" == 1 ]]; then
    apt_install docker.io
    systemctl enable --now docker.service
  fi
  install_mesos agent
  install -d -m 0755 /var/lib/mesos/agent
  write_unit mesos-agent mesos-agent agent_flags "Mesos agent" ""
  wait_for_port "${NODE_IP}" 5051 "mesos-agent"
  install_mesos_wm
  log "agent ready at ${NODE_IP}:5051 (rack ${RACK}, resources ${AGENT_RESOURCES})"
}

# Refuse to touch a machine that is not one of the cluster's VMs.
check_host() {
  [[ "${EUID}" -eq 0 ]] || die "run as root (Vagrant's shell provisioner does)"
  [[ -d /run/systemd/system ]] || die "systemd is not running here"
  ip -o -4 addr show | grep -qF " ${NODE_IP}/" \
    || die "${NODE_IP} is not an address of this machine; run this inside the cluster's VMs"
}

main() {
  case "${1:-}" in
    flags)
      case "${2:-}" in
        master) master_flags ;;
        agent) agent_flags ;;
        *) die "usage: provision.sh flags master|agent" ;;
      esac
      ;;
    master | agent)
      check_host
      "provision_$1"
      ;;
    *) die "usage: provision.sh master|agent|flags ROLE" ;;
  esac
}

main "$@"
