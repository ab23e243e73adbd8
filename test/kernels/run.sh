#!/usr/bin/env bash
# Kernel matrix (issue #4): boots each kernel of test/kernels/kernels.conf under QEMU and runs the
# real capture there in kprobe and fentry mode (test/kernels/scenario.ts), because the machines
# that run CI have no kprobes and refuse fentry. Prints one table row per kernel and mode; exits
# non-zero when any kernel or mode fails, or when a kernel cannot be fetched or booted.
#
#   test/kernels/run.sh [SUITE...]        (default: every kernel in kernels.conf)
#
# Needs: a built checkout (npm run build), and on the host qemu-system-x86 busybox-static cpio, cc
# with static glibc, node 20 and libbpf1 (all installed by .ci/setup). Root only for the default
# cache directory. Settings (environment):
#   KERNEL_CACHE          kernel images and private apt state (/var/cache/wazuh-bpf-agent/kernels)
#   KERNEL_MIRROR         Debian mirror (default: the first one this machine's apt sources use)
#   KERNEL_INDEX_MAX_AGE  refresh the suites' package indexes when older than this many hours (24)
#   GUEST_TIMEOUT         seconds one boot may take before it counts as hung (900)
#   GUEST_MEM             guest memory (2G)
#   QEMU_ACCEL            tcg (default: CI has no /dev/kvm); kvm where available is much faster
#   KEEP_LOGS=1           keep the run directory (console logs, initramfs) even when all passed
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${KERNEL_CACHE:-/var/cache/wazuh-bpf-agent/kernels}
index_max_age=${KERNEL_INDEX_MAX_AGE:-24}
guest_timeout=${GUEST_TIMEOUT:-900}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

say() { printf '[kernels %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- preconditions: fail with the fix rather than half-way through a boot ----------------------
for tool in qemu-system-x86_64 cpio gzip cc node apt-get apt-cache dpkg-deb flock timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install qemu-system-x86 busybox-static cpio build-essential)"
done
busybox=$(command -v busybox || true)
# busybox runs before anything else in the guest: only the static build will do (ldd fails on it)
[[ -n $busybox ]] && ! ldd "$busybox" >/dev/null 2>&1 || die "no static busybox (apt-get install busybox-static)"
libbpf=/usr/lib/x86_64-linux-gnu/libbpf.so.1
[[ -e $libbpf ]] || die "no $libbpf (apt-get install libbpf1)"
for f in dist/bpf/fim.bpf.o dist/test/kernels/scenario.js dist/test/kernels/report.js dist/test/support/fim-sequence.js; do
  [[ -f $root/$f ]] || die "$f missing: run npm run build first"
done

# ---- which kernels: kernels.conf, optionally narrowed to the suites given on the command line --
suites=() metas=() unlink_args=() rename_abis=()
while read -r suite meta unlink_arg rename_abi _; do
  [[ -z $suite || $suite == \#* ]] && continue
  if (($# > 0)); then
    wanted=0
    for s in "$@"; do [[ $s == "$suite" ]] && wanted=1; done
    ((wanted)) || continue
  fi
  [[ $unlink_arg =~ ^[23]$ && $rename_abi =~ ^(renamedata|args)$ ]] || die "kernels.conf: $suite: UNLINK_ARG must be 2 or 3, RENAME_ABI renamedata or args"
  suites+=("$suite") metas+=("$meta") unlink_args+=("$unlink_arg") rename_abis+=("$rename_abi")
done < "$here/kernels.conf"
((${#suites[@]} > 0)) || die "no kernel selected (suites in kernels.conf: $(awk '!/^#/ && NF {printf "%s ", $1}' "$here/kernels.conf"))"

mkdir -p "$cache"
run=$(mktemp -d "${TMPDIR:-/tmp}/wba-kernels.XXXXXX")
cleanup() {
  local rc=$?
  if ((rc == 0)) && [[ ${KEEP_LOGS:-0} != 1 ]]; then rm -rf "$run"; else say "run directory kept: $run"; fi
}
trap cleanup EXIT

# ---- 1. kernel images from Debian's archive, through a private apt configuration ---------------
# One apt state per suite under the cache (its own sources, lists, status and caches): the
# system's sources, lists and package caches are never read for this or written. The host's
# apt.conf.d still applies (proxies, Check-Valid-Until).

mirror() {
  if [[ -n ${KERNEL_MIRROR:-} ]]; then echo "$KERNEL_MIRROR"; return; fi
  local uri
  # deb822 sources (Debian 12's default), then one-line sources: the first non-security URI
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' || true)
  [[ -n $uri ]] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { if ($i !~ /security/) { print $i; exit } break } }' || true)
  [[ -n $uri ]] || die "no Debian mirror in /etc/apt/sources.list{,.d}; set KERNEL_MIRROR"
  echo "$uri"
}

apt_conf() { # SUITE -> path of the suite's private apt.conf (rewritten each run: cheap, never stale)
  local d=$cache/apt/$1
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/empty.d"
  if [[ $(cat "$d/mirror" 2>/dev/null) != "$MIRROR" ]]; then
    rm -f "$d/updated" # another mirror: its indexes must be fetched
    echo "$MIRROR" > "$d/mirror"
  fi
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$MIRROR" "$1" > "$d/sources.list"
  : > "$d/status" # no installed packages: resolution must not depend on this host's
  cat > "$d/apt.conf" <<EOF
Dir::Etc::sourcelist "$d/sources.list";
Dir::Etc::sourceparts "$d/empty.d";
Dir::Etc::preferences "$d/empty.d/preferences";
Dir::Etc::preferencesparts "$d/empty.d";
Dir::State::lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
EOF
  echo "$d/apt.conf"
}

apt_update() { # SUITE: fetch the suite's package index
  local conf d=$cache/apt/$1
  conf=$(apt_conf "$1")
  say "$1: apt-get update ($MIRROR)"
  apt-get -qq -c "$conf" update && touch "$d/updated"
}

index_fresh() { # SUITE: indexes present and younger than KERNEL_INDEX_MAX_AGE hours
  local stamp=$cache/apt/$1/updated
  [[ -f $stamp ]] && (($(date +%s) - $(stat -c %Y "$stamp") < index_max_age * 3600))
}

resolve_image() { # SUITE PACKAGE -> the linux-image-<abi>-<flavour> package to boot
  if [[ $2 =~ ^linux-image-[0-9] ]]; then echo "$2"; return; fi
  local conf
  conf=$(apt_conf "$1")
  # "Depends: linux-image-6.1.0-47-cloud-amd64 (= 6.1.180-1)" -> linux-image-6.1.0-47-cloud-amd64
  apt-cache -c "$conf" show --no-all-versions "$2" 2>/dev/null |
    sed -n 's/^Depends: //p' | tr ',|' '\n\n' | awk '{ print $1 }' | grep -m1 '^linux-image-[0-9]' || true
}

fetch_image() { # SUITE PACKAGE -> directory holding vmlinuz (cached)
  local dest=$cache/images/$2 tmp conf
  if [[ -f $dest/vmlinuz ]]; then echo "$dest"; return 0; fi
  conf=$(apt_conf "$1")
  tmp=$(mktemp -d "$cache/fetch.XXXXXX")
  # apt downloads as _apt when run as root: let it write here (else it warns and downloads as root)
  if ((EUID == 0)) && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
  if ! (cd "$tmp" && apt-get -qq -c "$conf" download "$2" >&2); then
    rm -rf "$tmp"
    return 1
  fi
  # only the kernel image and its config: the modules are not needed (no module is loaded)
  mkdir "$tmp/x"
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' './boot/config-*'
  mkdir -p "$cache/images"
  rm -rf "$dest.part" && mkdir "$dest.part"
  mv "$tmp"/x/boot/vmlinuz-* "$dest.part/vmlinuz"
  mv "$tmp"/x/boot/config-* "$dest.part/config"
  echo "$2" > "$dest.part/package"
  rm -rf "$tmp" "$dest" && mv "$dest.part" "$dest"
  echo "$dest"
}

MIRROR=$(mirror)
t_fetch=$(now)
exec 9> "$cache/.lock"
flock 9 # two runs sharing the cache must not update the same lists at once
packages=() images=()
for i in "${!suites[@]}"; do
  suite=${suites[$i]} meta=${metas[$i]}
  if ! index_fresh "$suite"; then
    # offline with cached indexes: go on with them (the fetch below retries an update anyway)
    apt_update "$suite" || [[ -f $cache/apt/$suite/updated ]] || die "$suite: apt-get update failed and no cached index"
  fi
  pkg=$(resolve_image "$suite" "$meta")
  if [[ -z $pkg ]]; then
    apt_update "$suite" || true
    pkg=$(resolve_image "$suite" "$meta")
  fi
  [[ -n $pkg ]] || die "$suite: $meta names no linux-image-<abi> package in its Depends"
  if ! dir=$(fetch_image "$suite" "$pkg"); then
    # the ABI left the archive since the index was fetched: refresh, resolve again, retry once
    say "$suite: downloading $pkg failed; refreshing the index"
    apt_update "$suite" || die "$suite: apt-get update failed"
    pkg=$(resolve_image "$suite" "$meta")
    [[ -n $pkg ]] || die "$suite: $meta names no linux-image-<abi> package in its Depends"
    dir=$(fetch_image "$suite" "$pkg") || die "$suite: cannot download $pkg"
  fi
  say "$suite: $pkg ($(du -h "$dir/vmlinuz" | cut -f1) vmlinuz)"
  touch "$dir" # last use, for the pruning below
  packages+=("$pkg") images+=("$dir")
done
# ABIs that left the archive stay cached until unused for 30 days; partial downloads of killed runs go
find "$cache/images" -mindepth 1 -maxdepth 1 -type d -mtime +30 -exec rm -rf {} + 2>/dev/null || true
find "$cache" -mindepth 1 -maxdepth 1 -name 'fetch.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
flock -u 9
fetch_seconds=$(since "$t_fetch")

# ---- 2. one initramfs for every kernel: busybox, node, libbpf, the built project, the helper ---
t_initrd=$(now)
stage=$run/root
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,app} "$stage/sys/fs/bpf"
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
  [[ $applet == busybox ]] || ln -sf busybox "$stage/bin/$applet"
done
cp "$(readlink -f "$(command -v node)")" "$stage/bin/node"
# static: one file, no shared-library lookup in the guest (liburing is not needed either)
cc -static -O2 -Wall -Wextra -Werror -o "$stage/bin/uring-unlink" "$here/uring-unlink.c"

koffi_node=$root/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node
[[ -f $koffi_node ]] || die "no $koffi_node (npm ci)"
# the shared libraries of node, libbpf (libelf, libz) and koffi's addon, at their host paths
libs=$(for bin in "$(command -v node)" "$libbpf" "$koffi_node"; do ldd "$bin"; done | grep -o '/[^ ]*' | sort -u)
for f in $libs "$libbpf"*; do
  mkdir -p "$stage$(dirname "$f")"
  cp -L "$f" "$stage$f"
done

# The app: compiled JavaScript of src/, the scenario and its operation sequence, the BPF object, and the one runtime
# package the capture imports (koffi; winston is only reached through src/log.ts's createLogger,
# which the scenario does not import). koffi: its JS and the glibc x86-64 addon only, not the
# C++ sources or the other platforms' builds.
app=$stage/app
(cd "$root" && find dist/src -name '*.js' -print0 | cpio -0 -pdm --quiet "$app")
mkdir -p "$app/dist/bpf" "$app/dist/test/kernels" "$app/dist/test/support"
cp "$root/dist/bpf/fim.bpf.o" "$app/dist/bpf/"
cp "$root/dist/test/kernels/scenario.js" "$app/dist/test/kernels/"
# the operation sequence the e2e test also runs
cp "$root/dist/test/support/fim-sequence.js" "$app/dist/test/support/"
echo '{ "type": "module" }' > "$app/package.json"
(cd "$root" && find node_modules/koffi \( -path '*/doc' -o -path '*/vendor' -o -path '*/lib/native' \) -prune -o \
  -type f \( -name '*.js' -o -name '*.cjs' -o -name 'package.json' \) -print0 | cpio -0 -pdm --quiet "$app")
(cd "$root" && find node_modules/@koromix/koffi-linux-x64 -type f \( -name '*.js' -o -name 'package.json' -o -path '*/linux_x64/koffi.node' \) -print0 |
  cpio -0 -pdm --quiet "$app")
# every module the scenario imports must resolve inside the staged tree (host node, same tree)
(cd "$app" && node dist/test/kernels/scenario.js --imports-only) || die "the staged app is incomplete (see above)"

cat > "$stage/init" <<'INIT'
#!/bin/sh
# PID 1 in the guest: mount what the capture needs, run the scenario, power off.
echo "GUEST-INIT"
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
# kernel messages must not cut through the result line on the shared serial console
echo 1 > /proc/sys/kernel/printk
export PATH=/bin HOME=/tmp
cd /app
node dist/test/kernels/scenario.js
rc=$?
# what the kernel said meanwhile (warnings, BPF, io_uring), after the result, for the log
dmesg | grep -iE 'warn|bug|oops|bpf|io_uring|trace' | tail -40 | sed 's/^/DMESG /'
echo "GUEST-EXIT $rc"
poweroff -f
INIT
chmod +x "$stage/init"
(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1 > "$run/initrd.gz")
say "initramfs: $(du -h "$run/initrd.gz" | cut -f1) in $(since "$t_initrd") s"

# ---- 3. boot each kernel; the scenario prints one KMATRIX line, report.ts makes the table ------
: > "$run/runs.jsonl"
for i in "${!suites[@]}"; do
  suite=${suites[$i]} pkg=${packages[$i]} log=$run/$suite.console
  for attempt in 1 2; do
    say "$suite: booting $pkg"
    t_boot=$(now)
    qemu_rc=0
    # stdin from /dev/null: -nographic would otherwise take over the terminal (or CI's stdin);
    # -nic none: no network card, so no iPXE option ROM to wait for
    timeout "$guest_timeout" qemu-system-x86_64 -accel "${QEMU_ACCEL:-tcg}" -cpu max -smp 2 -m "${GUEST_MEM:-2G}" \
      -nographic -no-reboot -nic none -kernel "${images[$i]}/vmlinuz" -initrd "$run/initrd.gz" \
      -append "console=ttyS0 quiet panic=-1 wba_package=$pkg wba_unlink_arg=${unlink_args[$i]} wba_rename_abi=${rename_abis[$i]}" \
      < /dev/null > "$log" 2>&1 || qemu_rc=$?
    seconds=$(since "$t_boot")
    # A kernel that dies before running our init (seen once: an int3 oops in sched_clock_cpu while
    # 6.12 booted under TCG) says nothing about the capture: boot it once more. Anything that
    # happens after init counts.
    grep -q GUEST-INIT "$log" && break
    cp "$log" "$log.boot$attempt"
    say "$suite: the kernel did not reach init (console kept as $log.boot$attempt; attempt $attempt of 2)"
  done
  if ((qemu_rc == 124)); then say "$suite: no power-off within $guest_timeout s: killed"; fi
  say "$suite: guest done in $seconds s (qemu exit $qemu_rc)"
  printf '{"suite":"%s","package":"%s","expectUnlinkArg":%s,"expectRenameAbi":"%s","bootSeconds":%s,"qemuExit":%s,"console":"%s"}\n' \
    "$suite" "$pkg" "${unlink_args[$i]}" "${rename_abis[$i]}" "$seconds" "$qemu_rc" "$log" >> "$run/runs.jsonl"
done

say "kernels fetched in $fetch_seconds s"
node "$root/dist/test/kernels/report.js" "$run/runs.jsonl"
