// What the running kernel is and what it offers the capture: the real argument layout of the VFS
// functions the kprobe/fentry programs read (from BTF, because vendors backport signature
// changes; the release number only when BTF is missing), and static checks of each attach
// mechanism. The checks are preconditions, not verdicts: the loader decides by loading.
// Resolution and parsing are pure; the probe* / read* / ensure* functions do the I/O.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Btf, parseBtf } from './btf.js';

const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const TRACEFS = '/sys/kernel/tracing';
/** Tracing under debugfs: tracefs automounted there (4.1+), or debugfs itself before 4.1. */
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';
/** The kprobe PMU (Linux 4.17, CONFIG_KPROBE_EVENTS): libbpf attaches kprobes through it with perf_event_open. */
const KPROBE_PMU_TYPE = '/sys/bus/event_source/devices/kprobe/type';
const SECURITYFS = '/sys/kernel/security';

export interface KernelRelease {
  major: number;
  minor: number;
  patch: number;
}

/** Probe outcome: `ok` and, either way, why. */
export interface Probe {
  ok: boolean;
  reason: string;
}

export type ChoiceSource = 'override' | 'btf' | 'release';

/** Which argument (1-based) of a VFS function is its `struct dentry *`, and how we know. */
export interface ArgChoice {
  index: number;
  source: ChoiceSource;
  detail: string;
}

export type RenameAbi = 'renamedata' | 'args';

export interface RenameChoice {
  /** `vfs_rename(struct renamedata *)` (5.12+) or the six arguments `(old_dir, old_dentry, new_dir, new_dentry, ...)`. */
  abi: RenameAbi;
  source: ChoiceSource;
  detail: string;
}

export interface LayoutInput {
  /** The running kernel's BTF; undefined when it has none. */
  btf?: Btf;
  /** `uname -r`. */
  release: string;
}

/** `6.1.0-47-cloud-amd64`, `6.12.117+deb13-cloud-amd64`, `4.18.0-553.el8_10.x86_64`, `6.18.44-fc-v782`, `6.1`. */
export function parseKernelRelease(release: string): KernelRelease {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) throw new Error(`cannot read a kernel version from release '${release}'`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

function atLeast(r: KernelRelease, major: number, minor: number): boolean {
  return r.major > major || (r.major === major && r.minor >= minor);
}

function releaseRule(release: string, major: number, minor: number): { since: boolean; detail: string } {
  const r = parseKernelRelease(release);
  const since = atLeast(r, major, minor);
  return { since, detail: `release ${r.major}.${r.minor}.${r.patch} ${since ? '>=' : '<'} ${major}.${minor}` };
}

/** The VFS functions hooked by their dentry argument (kprobe/fentry), by hook name. */
export type DentryHook = 'unlink' | 'create' | 'setattr' | 'link' | 'symlink' | 'mkdir' | 'rmdir';

interface DentryRule {
  func: string;
  /** The dentry the hook reads when the function takes two (vfs_link: the new one, last). */
  which: 'first' | 'last';
  /** 1-based index before Linux 5.12 and since (the same for a function that never changed). */
  before: number;
  since: number;
}

/**
 * Linux 5.12 ("namei: prepare for idmapped mounts") put a `struct user_namespace *` first in
 * each of these, moving the dentry one place right; 6.3 ("fs: port vfs_*() helpers to struct
 * mnt_idmap") made it a `struct mnt_idmap *`, the dentry staying where it was.
 */
export const DENTRY_RULES: Record<DentryHook, DentryRule> = {
  unlink: { func: 'vfs_unlink', which: 'first', before: 2, since: 3 },
  create: { func: 'vfs_create', which: 'first', before: 2, since: 3 },
  setattr: { func: 'notify_change', which: 'first', before: 1, since: 2 },
  link: { func: 'vfs_link', which: 'last', before: 3, since: 4 },
  symlink: { func: 'vfs_symlink', which: 'first', before: 2, since: 3 },
  mkdir: { func: 'vfs_mkdir', which: 'first', before: 2, since: 3 },
  // a probe on vfs_rmdir never fires for rmdir(2) on Debian's 5.10 (the kernel matrix): its LSM hook is where every rmdir passes
  rmdir: { func: 'security_inode_rmdir', which: 'first', before: 2, since: 2 },
};

/**
 * The argument a wrong layout would read instead: the other era's, or for a function that never
 * changed, the one before its dentry (the kernel matrix's negative controls load with it).
 */
export function otherDentryArg(hook: DentryHook, right: number): number {
  const rule = DENTRY_RULES[hook];
  if (rule.before !== rule.since) return right === rule.before ? rule.since : rule.before;
  return right - 1;
}

/** The dentry argument of a hooked function: from BTF, else from the release; `override` wins. */
export function resolveDentryArg(hook: DentryHook, o: LayoutInput & { override?: number }): ArgChoice {
  const rule = DENTRY_RULES[hook];
  if (o.override !== undefined) return { index: o.override, source: 'override', detail: `set explicitly to ${o.override}` };
  const notes: string[] = [];
  const f = o.btf?.findFunc(rule.func);
  if (f) {
    const all = o.btf!.pointerParamIndices(rule.func, 'dentry') ?? [];
    const index = rule.which === 'first' ? all[0] : all[all.length - 1];
    if (index === rule.before || index === rule.since) return { index, source: 'btf', detail: `BTF: ${f.signature}` };
    notes.push(`BTF: ${f.signature} has no struct dentry * as argument ${rule.before === rule.since ? rule.before : `${rule.before} or ${rule.since}`}`);
  } else if (o.btf) {
    notes.push(`BTF has no ${rule.func}`);
  }
  const r = releaseRule(o.release, 5, 12);
  return { index: r.since ? rule.since : rule.before, source: 'release', detail: [...notes, r.detail].join('; ') };
}

export function resolveUnlinkDentryArg(o: LayoutInput & { override?: number }): ArgChoice {
  return resolveDentryArg('unlink', o);
}

export function resolveCreateDentryArg(o: LayoutInput & { override?: number }): ArgChoice {
  return resolveDentryArg('create', o);
}

/** The hooks whose dentry argument the loader writes into the programs besides vfs_unlink's. */
export const LAYOUT_HOOKS = ['setattr', 'link', 'symlink', 'mkdir', 'rmdir'] as const;
export type LayoutHook = (typeof LAYOUT_HOOKS)[number];

/** Every hooked function's dentry argument on this kernel (BTF, else release). */
export function resolveHookLayout(o: LayoutInput): Record<LayoutHook, ArgChoice> {
  return Object.fromEntries(LAYOUT_HOOKS.map((h) => [h, resolveDentryArg(h, o)])) as Record<LayoutHook, ArgChoice>;
}

/** Linux 5.12 ("namei: introduce struct renamedata") folded vfs_rename's six arguments into one struct. */
export function resolveRenameAbi(o: LayoutInput & { override?: RenameAbi }): RenameChoice {
  if (o.override !== undefined) return { abi: o.override, source: 'override', detail: `set explicitly to ${o.override}` };
  const notes: string[] = [];
  const f = o.btf?.findFunc('vfs_rename');
  if (f) {
    if (o.btf!.pointerParamIndex('vfs_rename', 'renamedata') === 1) return { abi: 'renamedata', source: 'btf', detail: `BTF: ${f.signature}` };
    if (o.btf!.pointerParamIndex('vfs_rename', 'dentry') === 2) return { abi: 'args', source: 'btf', detail: `BTF: ${f.signature}` };
    notes.push(`BTF: ${f.signature} is neither (struct renamedata *) nor (old_dir, old_dentry, ...)`);
  } else if (o.btf) {
    notes.push('BTF has no vfs_rename');
  }
  const rule = releaseRule(o.release, 5, 12);
  return { abi: rule.since ? 'renamedata' : 'args', source: 'release', detail: [...notes, rule.detail].join('; ') };
}

export interface VmlinuxBtf {
  /** Undefined when the file is missing or unreadable (see reason). */
  btf?: Btf;
  path: string;
  sizeBytes?: number;
  parseMs?: number;
  reason: string;
}

/** The kernel's BTF (Linux 5.4+ built with CONFIG_DEBUG_INFO_BTF), parsed. */
export function readVmlinuxBtf(path = VMLINUX_BTF): VmlinuxBtf {
  let blob: Buffer;
  try {
    blob = fs.readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { path, reason: `no ${path}: kernel built without CONFIG_DEBUG_INFO_BTF, or older than 5.4` };
    return { path, reason: `cannot read ${path}: ${err.message}` };
  }
  const start = process.hrtime.bigint();
  try {
    const btf = parseBtf(blob);
    const parseMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { btf, path, sizeBytes: blob.length, parseMs, reason: `${btf.typeCount} types, parsed in ${parseMs.toFixed(1)} ms` };
  } catch (e) {
    return { path, sizeBytes: blob.length, reason: (e as Error).message };
  }
}

/**
 * Whether `p` exists, by stat(2). fs.existsSync asks access(2), which checks with the real uid
 * and, for a non-root user, without capabilities: an agent user holding CAP_DAC_READ_SEARCH
 * would find tracefs (0700 root) empty and take the syscall tracepoints for missing.
 */
export function pathExists(p: string): boolean {
  return statErrorCode(p) === undefined;
}

/** stat(2)'s error code for `p` ('ENOENT', 'EACCES', ...); undefined when it exists. */
function statErrorCode(p: string): string | undefined {
  try {
    fs.statSync(p);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/** tracefs is mounted but this process may not enter it (current kernels mount it 0700 root). */
function tracefsDenied(): Probe | undefined {
  if (statErrorCode(`${TRACEFS}/events`) !== 'EACCES') return undefined;
  return { ok: false, reason: `${TRACEFS} is not accessible (EACCES): tracefs is root-only, so the agent's user needs CAP_DAC_READ_SEARCH` };
}

/** Where tracefs is mounted (its `events` directory is visible), if anywhere we look. */
function tracefsDir(): string | undefined {
  return [TRACEFS, DEBUGFS_TRACING].find((dir) => pathExists(`${dir}/events`));
}

export function probeKprobes(): Probe {
  if (pathExists(KPROBE_PMU_TYPE)) return { ok: true, reason: `kprobe PMU present (${KPROBE_PMU_TYPE})` };
  const tracing = tracefsDir();
  if (tracing && pathExists(`${tracing}/kprobe_events`)) return { ok: true, reason: `legacy ${tracing}/kprobe_events present (no kprobe PMU)` };
  const unchecked = tracing ? '' : `; tracefs ${tracefsDenied() ? 'not accessible' : 'not mounted'}, kprobe_events not checked`;
  return { ok: false, reason: `no kprobe PMU (${KPROBE_PMU_TYPE}): kernel built without CONFIG_KPROBES/CONFIG_KPROBE_EVENTS${unchecked}` };
}

/** First release with BPF trampolines (fentry/fexit) per `uname -m`. */
const TRAMPOLINE_SINCE: Record<string, [number, number]> = {
  x86_64: [5, 5], // "bpf: Introduce BPF trampoline"
  aarch64: [6, 0], // "bpf, arm64: Add bpf trampoline for arm64"
  s390x: [6, 3], // "s390/bpf: Implement arch_prepare_bpf_trampoline()"
};

/**
 * fentry's static preconditions: vmlinux BTF (programs attach by BTF id) and an architecture and
 * release with BPF trampolines. A kernel can still refuse at load (LSM policy, lockdown, missing
 * ftrace direct calls); only loading tells.
 */
export function fentryPreconditions(btfPresent: boolean, release: string, machine: string): Probe {
  if (!btfPresent) return { ok: false, reason: `no vmlinux BTF (${VMLINUX_BTF}) to attach by` };
  const since = TRAMPOLINE_SINCE[machine];
  if (!since) return { ok: false, reason: `no BPF trampoline known for ${machine}` };
  const rule = releaseRule(release, ...since);
  return rule.since
    ? { ok: true, reason: `vmlinux BTF, ${machine} ${rule.detail}; loading decides` }
    : { ok: false, reason: `${machine} ${rule.detail}: no BPF trampolines` };
}

/** The syscall tracepoints the tracepoint mode attaches to (CONFIG_FTRACE_SYSCALLS), where tracefs shows them. */
export function probeTracepoints(): Probe {
  const tracing = tracefsDir();
  if (!tracing) return tracefsDenied() ?? { ok: false, reason: `tracefs is not mounted (ensureTracefs() mounts it at ${TRACEFS})` };
  const tp = `${tracing}/events/syscalls/sys_enter_unlinkat`;
  return pathExists(tp)
    ? { ok: true, reason: `${tp} present` }
    : { ok: false, reason: `no ${tp}: kernel built without CONFIG_FTRACE_SYSCALLS` };
}

/**
 * Mounts tracefs at /sys/kernel/tracing unless it is already there: libbpf and the loader look
 * for tracepoints there first. Needs CAP_SYS_ADMIN, which the agent's minimal capability set
 * leaves out; the mount point exists whenever the kernel has tracefs.
 */
export function ensureTracefs(): Probe & { mounted: boolean } {
  if (pathExists(`${TRACEFS}/events`)) return { ok: true, mounted: false, reason: `tracefs already mounted at ${TRACEFS}` };
  const denied = tracefsDenied();
  if (denied) return { ...denied, mounted: false };
  if (!pathExists(TRACEFS)) return { ok: false, mounted: false, reason: `no ${TRACEFS}: kernel without tracefs (CONFIG_TRACING off, or older than 4.1)` };
  try {
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', TRACEFS], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return {
      ok: false,
      mounted: false,
      reason: `mount -t tracefs tracefs ${TRACEFS} failed: ${stderr || (e as Error).message} (mounting needs CAP_SYS_ADMIN: mount it at boot, as systemd's sys-kernel-tracing.mount does)`,
    };
  }
  return { ok: true, mounted: true, reason: `mounted tracefs at ${TRACEFS}` };
}

/**
 * BPF_MAP_TYPE_RINGBUF (Linux 5.8). BTF tells whether this kernel's
 * `enum bpf_map_type` has it, which also covers backports (RHEL 8's 4.18 has it); the release
 * is the fallback.
 */
export function ringbufSupport(btf: Btf | undefined, release: string): Probe {
  if (btf) {
    const value = btf.enumValue('bpf_map_type', 'BPF_MAP_TYPE_RINGBUF');
    return value !== undefined
      ? { ok: true, reason: `BTF: enum bpf_map_type has BPF_MAP_TYPE_RINGBUF (${value})` }
      : { ok: false, reason: 'BTF: enum bpf_map_type has no BPF_MAP_TYPE_RINGBUF' };
  }
  const rule = releaseRule(release, 5, 8);
  return { ok: rule.since, reason: rule.detail };
}

/** `none [integrity] confidentiality` → 'integrity' (the bracketed, active level). */
export function parseLockdown(text: string): string | undefined {
  return /\[(\w+)\]/.exec(text)?.[1];
}

export interface Lockdown {
  mode?: string;
  reason: string;
}

/**
 * Kernel lockdown (Linux 5.4; reasons in include/linux/security.h, enum lockdown_reason).
 * `integrity` only takes what the capture does not use; `confidentiality` also takes kprobes,
 * tracefs, perf and bpf_probe_read_kernel, i.e. every capture mode.
 */
export function probeLockdown(): Lockdown {
  const file = `${SECURITYFS}/lockdown`;
  // securityfs always has `lsm` (4.15+) once mounted; the bare mount point is an empty directory.
  if (!pathExists(`${SECURITYFS}/lsm`)) return { reason: `securityfs not mounted at ${SECURITYFS}; lockdown unknown` };
  if (!pathExists(file)) return { mode: 'none', reason: `no ${file}: kernel without the lockdown LSM` };
  const mode = parseLockdown(fs.readFileSync(file, 'utf8'));
  const effect: Record<string, string> = {
    none: 'no restriction',
    integrity: 'bpf_probe_write_user and debugfs refused; kernel memory, kprobes and tracefs still usable',
    confidentiality: 'kprobes, tracefs, perf and bpf_probe_read_kernel refused',
  };
  return { mode, reason: mode ? `${mode}: ${effect[mode] ?? 'unknown level'}` : `cannot read ${file}` };
}

/** RLIMIT_MEMLOCK's soft limit in bytes from /proc/<pid>/limits text; undefined when unlimited. */
export function parseMemlockLimit(limits: string): number | undefined {
  const m = /^Max locked memory\s+(\S+)/m.exec(limits);
  if (!m) throw new Error('no "Max locked memory" line in /proc/self/limits');
  return m[1] === 'unlimited' ? undefined : Number(m[1]);
}

/** What the kernel may have refused a BPF load (EPERM) or perf event attach (EACCES) for. */
export interface RefusalFacts {
  /** RLIMIT_MEMLOCK in bytes; undefined when unlimited. */
  memlockBytes: number | undefined;
  /** BPF memory charged to the memory cgroup (5.11+) rather than to RLIMIT_MEMLOCK. */
  memcgAccounting: boolean;
  /** /proc/sys/kernel/perf_event_paranoid. */
  perfEventParanoid: number | undefined;
  capSysAdmin: boolean;
  lockdown: Lockdown;
}

/**
 * The likely cause of a refused load or attach, from what the agent can see. Measured on Debian
 * 11's 5.10 with CAP_BPF+CAP_PERFMON only: every load fails with EPERM under the default 64 KiB
 * RLIMIT_MEMLOCK (libbpf can raise it only with CAP_SYS_RESOURCE); and on Debian's 5.10 and 6.1,
 * whose perf_event_paranoid defaults to 3 (a Debian patch: perf events then need
 * CAP_SYS_ADMIN), kprobe and tracepoint attachment fails with EACCES while fentry works.
 */
export function explainBpfRefusal(reason: string, f: RefusalFacts): string | undefined {
  if (/EPERM/.test(reason)) {
    if (!f.memcgAccounting && f.memlockBytes !== undefined) {
      return `RLIMIT_MEMLOCK is ${f.memlockBytes} bytes and this kernel (before 5.11) charges BPF maps to it: ` +
        'start the agent with LimitMEMLOCK=infinity (systemd) or ulimit -l unlimited, or grant CAP_SYS_RESOURCE';
    }
    return `kernel lockdown: ${f.lockdown.reason}`;
  }
  if (/EACCES/.test(reason) && !f.capSysAdmin && f.perfEventParanoid !== undefined && f.perfEventParanoid > 2) {
    return `kernel.perf_event_paranoid is ${f.perfEventParanoid}: this kernel allows perf events (kprobes, tracepoints) only ` +
      'with CAP_SYS_ADMIN; set it to 2 (sysctl) for CAP_PERFMON to suffice';
  }
  return undefined;
}

/** The facts explainBpfRefusal weighs, read from this process and kernel. */
export function readRefusalFacts(): RefusalFacts {
  const btf = readVmlinuxBtf().btf;
  // libbpf's own test for memcg accounting: the helper that came with it in 5.11
  const memcgAccounting = btf
    ? btf.enumValue('bpf_func_id', 'BPF_FUNC_ktime_get_coarse_ns') !== undefined
    : releaseRule(os.release(), 5, 11).since;
  let perfEventParanoid: number | undefined;
  try {
    perfEventParanoid = Number(fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
  } catch {
    perfEventParanoid = undefined;
  }
  return {
    memlockBytes: parseMemlockLimit(fs.readFileSync('/proc/self/limits', 'utf8')),
    memcgAccounting,
    perfEventParanoid,
    capSysAdmin: probePrivileges().capSysAdmin,
    lockdown: probeLockdown(),
  };
}

/** Active LSMs in order (/sys/kernel/security/lsm, Linux 4.15); [] when securityfs is not mounted. */
export function readLsms(): string[] {
  try {
    return fs.readFileSync(`${SECURITYFS}/lsm`, 'utf8').trim().split(',').filter(Boolean);
  } catch {
    return [];
  }
}

/** A capability the agent uses that the process does not hold, and what is lost without it. */
export interface CapabilityGap {
  capability: string;
  effect: string;
}

export interface Privileges extends Probe {
  root: boolean;
  capSysAdmin: boolean;
  capPerfmon: boolean;
  capBpf: boolean;
  capDacReadSearch: boolean;
  capDacOverride: boolean;
  /** Capabilities the agent would use that are not effective; empty with full root. */
  missing: CapabilityGap[];
}

type CapabilityFlags = Pick<Privileges, 'capSysAdmin' | 'capPerfmon' | 'capBpf' | 'capDacReadSearch' | 'capDacOverride'>;

/** Bit numbers from include/uapi/linux/capability.h. */
const CAPABILITY_BITS: Record<keyof CapabilityFlags, bigint> = {
  capDacOverride: 1n,
  capDacReadSearch: 2n,
  capSysAdmin: 21n,
  capPerfmon: 38n, // Linux 5.8
  capBpf: 39n, // Linux 5.8
};

/** Decodes the CapEff line of /proc/<pid>/status (hex bit mask). */
export function decodeCapabilities(capEffHex: string): CapabilityFlags {
  if (!/^[0-9a-fA-F]{1,16}$/.test(capEffHex)) throw new Error(`CapEff '${capEffHex}' is not a hex mask`);
  const mask = BigInt(`0x${capEffHex}`);
  const entries = Object.entries(CAPABILITY_BITS).map(([flag, bit]) => [flag, ((mask >> bit) & 1n) === 1n]);
  return Object.fromEntries(entries) as CapabilityFlags;
}

const NO_BPF_CAPTURE = 'no eBPF capture: real-time events come from inotify, without who-data';

/**
 * What each capability the agent uses is for, given the ones held. CAP_SYS_ADMIN stands in for
 * CAP_BPF and CAP_PERFMON (and is the only way before Linux 5.8); CAP_DAC_OVERRIDE covers what
 * CAP_DAC_READ_SEARCH is needed for.
 */
export function capabilityGaps(c: CapabilityFlags): CapabilityGap[] {
  const gaps: CapabilityGap[] = [];
  if (!c.capSysAdmin && !c.capBpf) gaps.push({ capability: 'CAP_BPF', effect: NO_BPF_CAPTURE });
  if (!c.capSysAdmin && !c.capPerfmon) gaps.push({ capability: 'CAP_PERFMON', effect: NO_BPF_CAPTURE });
  if (!c.capDacReadSearch && !c.capDacOverride) {
    gaps.push({
      capability: 'CAP_DAC_READ_SEARCH',
      effect: "monitored files the agent's user may not read are not hashed, and a tracefs only root may enter hides the syscall tracepoints",
    });
  }
  return gaps;
}

/**
 * Loading tracing programs needs CAP_SYS_ADMIN, or since 5.8 CAP_BPF plus CAP_PERFMON
 * (kernels before 5.8 do not have those bits, so CapEff never shows them there).
 */
export function probePrivileges(status = fs.readFileSync('/proc/self/status', 'utf8')): Privileges {
  const capEff = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status)?.[1];
  if (!capEff) throw new Error('no CapEff line in /proc/self/status');
  const caps = decodeCapabilities(capEff);
  const root = process.geteuid?.() === 0;
  const missing = capabilityGaps(caps);
  const missingForBpf = missing.map((g) => g.capability).filter((c) => c === 'CAP_BPF' || c === 'CAP_PERFMON');
  const ok = missingForBpf.length === 0;
  let reason: string;
  if (ok) reason = `${caps.capSysAdmin ? 'CAP_SYS_ADMIN' : 'CAP_BPF and CAP_PERFMON'} effective`;
  else reason = `missing capabilit${missingForBpf.length > 1 ? 'ies' : 'y'} ${missingForBpf.join(' and ')} (CapEff ${capEff})`;
  return { ok, reason, root, ...caps, missing };
}

/** Everything above about the running kernel, JSON-serialisable (`wazuh-bpf-agent probe --json`). */
export interface KernelReport {
  release: string;
  machine: string;
  btf: { present: boolean; path: string; sizeBytes?: number; types?: number; parseMs?: number; reason: string };
  vfsUnlink: ArgChoice;
  vfsRename: RenameChoice;
  vfsCreate: ArgChoice;
  kprobes: Probe;
  fentry: Probe;
  tracepoints: Probe;
  ringbuf: Probe;
  lsm: string[];
  lockdown: Lockdown;
  privileges: Privileges;
}

export function probeKernel(): KernelReport {
  const release = os.release();
  const machine = os.machine();
  const vmlinux = readVmlinuxBtf();
  const { btf } = vmlinux;
  return {
    release,
    machine,
    btf: {
      present: btf !== undefined,
      path: vmlinux.path,
      sizeBytes: vmlinux.sizeBytes,
      types: btf?.typeCount,
      parseMs: vmlinux.parseMs,
      reason: vmlinux.reason,
    },
    vfsUnlink: resolveUnlinkDentryArg({ btf, release }),
    vfsRename: resolveRenameAbi({ btf, release }),
    vfsCreate: resolveCreateDentryArg({ btf, release }),
    kprobes: probeKprobes(),
    fentry: fentryPreconditions(btf !== undefined, release, machine),
    tracepoints: probeTracepoints(),
    ringbuf: ringbufSupport(btf, release),
    lsm: readLsms(),
    lockdown: probeLockdown(),
    privileges: probePrivileges(),
  };
}
