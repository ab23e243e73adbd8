// Loads bpf/fim.bpf.c's object in one attach mode: only that mode's programs are loaded, the
// kernel-specific argument layout is written into .rodata before load, the ring buffer is sized,
// and every program is attached. Failures name the mode, the stage and libbpf's last words.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseObjectBtf } from './btf.js';
import { LAYOUT_HOOKS, LayoutHook, pathExists } from './kernel.js';
import { BpfLink, BpfMap, BpfObject, Libbpf, openLibbpf } from './libbpf.js';

export type AttachMode = 'kprobe' | 'fentry' | 'tracepoint';

/**
 * Threads closeAsync() detaches the links on. Each detach of a tracepoint waits for RCU grace
 * periods in the kernel (62 links: 4.3 s on one thread on a busy 2-core machine); four threads
 * share them (2.9 s there), more gained nothing.
 */
const DETACH_THREADS = 4;

/** The object `npm run build` compiles (dist/bpf/fim.bpf.o, next to dist/src/bpf/). */
export const DEFAULT_OBJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bpf/fim.bpf.o');

/** Programs of each mode, by function name in bpf/fim.bpf.c. */
export const MODE_PROGRAMS: Record<AttachMode, readonly string[]> = {
  kprobe: [
    'kprobe_vfs_unlink', 'kprobe_vfs_rename', 'kprobe_vfs_open', 'kprobe_filp_close', 'kprobe_notify_change', 'kprobe_vfs_link',
    'kprobe_vfs_symlink', 'kprobe_vfs_mkdir', 'kprobe_security_inode_rmdir', 'kprobe_security_file_permission',
  ],
  fentry: [
    'fentry_vfs_unlink', 'fentry_vfs_rename', 'fentry_vfs_open', 'fentry_filp_close', 'fentry_notify_change', 'fentry_vfs_link',
    'fentry_vfs_symlink', 'fentry_vfs_mkdir', 'fentry_security_inode_rmdir', 'fentry_security_file_permission',
  ],
  tracepoint: [
    ...['unlinkat', 'unlink', 'rmdir', 'renameat2', 'renameat', 'rename', 'linkat', 'link', 'symlinkat', 'symlink', 'mkdirat', 'mkdir',
      'fchmodat', 'fchmodat2', 'chmod', 'fchmod', 'fchownat', 'chown', 'lchown', 'fchown', 'utimensat', 'futimesat', 'utimes', 'utime',
      'truncate', 'ftruncate'].flatMap((sys) => [`tp_enter_${sys}`, `tp_exit_${sys}`]),
    'tp_exit_openat', 'tp_exit_openat2', 'tp_exit_open', 'tp_exit_creat', 'tp_enter_close',
    'tp_enter_write', 'tp_enter_pwrite64', 'tp_enter_writev', 'tp_enter_pwritev', 'tp_enter_pwritev2',
  ],
};

/**
 * Syscalls some kernels lack, by the tracepoint each program needs: the legacy ones arm64 never
 * had (unlink, rename, open, chmod, link, mkdir, utime...), and the recent fchmodat2 (Linux 6.6)
 * and openat2 (5.6). Their programs are left out where tracefs does not list them.
 */
export const OPTIONAL_SYSCALLS = [
  'unlink', 'rmdir', 'rename', 'renameat', 'link', 'symlink', 'mkdir', 'chmod', 'chown', 'lchown', 'futimesat', 'utimes', 'utime',
  'fchmodat2', 'open', 'creat', 'openat2',
];

function optionalTracepoint(program: string): string | undefined {
  const m = /^tp_(enter|exit)_(\w+)$/.exec(program);
  return m && OPTIONAL_SYSCALLS.includes(m[2]!) ? `sys_${m[1]}_${m[2]}` : undefined;
}

export interface LoadOptions {
  mode: AttachMode;
  /** 1-based index of vfs_unlink's `struct dentry *` (2 before Linux 5.12, 3 since). */
  unlinkDentryArg: number;
  /** The other hooked functions' dentry arguments (kernel.ts resolveHookLayout). */
  dentryArgs: Record<LayoutHook, number>;
  /** vfs_rename(struct renamedata *) (5.12+) rather than six arguments. */
  renameUsesRenamedata: boolean;
  /** Where "closed after writing" is hooked: filp_flush where close(2) no longer calls filp_close (6.7+). Default filp_close. */
  closeHook?: 'filp_close' | 'filp_flush';
  objectPath?: string;
  /** Ring buffer size in bytes (a power of two, at least a page). Default 8 MiB. */
  ringBytes?: number;
  /** Pending bytes past which the BPF side wakes the reader. Default 256 KiB. */
  wakeupBytes?: number;
  /** Writes by this process are never reported. Default: this process. */
  agentTgid?: number;
  /** At most one write event per file per this many ns. Default 500 ms. */
  writeIntervalNs?: bigint;
  tracefsEvents?: string;
}

export type LoadStage = 'open' | 'configure' | 'load' | 'attach';

export class CaptureLoadError extends Error {
  constructor(readonly mode: AttachMode, readonly stage: LoadStage, reason: string, readonly libbpfLog: string[] = []) {
    super(`${mode}: ${stage} failed: ${reason}`);
    this.name = 'CaptureLoadError';
  }
}

/** The loaded, attached FIM programs of one mode and their maps. */
export class FimPrograms {
  private closed = false;

  private constructor(
    private readonly lib: Libbpf,
    private readonly obj: BpfObject,
    private readonly links: BpfLink[],
    readonly mode: AttachMode,
    readonly eventsFd: number,
    private readonly anchorsFd: number,
    private readonly dropsFd: number,
    /** Tracepoints left out because this kernel does not have them. */
    readonly skipped: string[],
  ) {}

  static load(o: LoadOptions): FimPrograms {
    let lib: Libbpf;
    try {
      lib = openLibbpf();
    } catch (e) {
      throw new CaptureLoadError(o.mode, 'open', (e as Error).message);
    }
    const objectPath = o.objectPath ?? DEFAULT_OBJECT;
    const fail = (stage: LoadStage, e: unknown): never => {
      // one line for the reason; the verifier's words stay in libbpfLog
      throw new CaptureLoadError(o.mode, stage, (e as Error).message.split('\n')[0]!, lib.recentLog().slice(-20));
    };
    let obj: BpfObject;
    try {
      obj = lib.bpf_object__open_file(objectPath);
    } catch (e) {
      return fail('open', e);
    }
    const links: BpfLink[] = [];
    const cleanup = () => {
      for (const l of links) lib.bpf_link__destroy(l);
      lib.bpf_object__close(obj);
    };
    try {
      const skipped = configure(lib, obj, objectPath, o);
      try {
        lib.bpf_object__load(obj);
      } catch (e) {
        fail('load', e);
      }
      for (const name of modePrograms(o)) {
        if (skipped.includes(name)) continue;
        const prog = lib.bpf_object__find_program_by_name(obj, name)!;
        try {
          links.push(lib.bpf_program__attach(prog));
        } catch (e) {
          fail('attach', new Error(`${name}: ${(e as Error).message}`));
        }
      }
      const fd = (name: string) => lib.bpf_map__fd(mapNamed(lib, obj, name, o.mode));
      return new FimPrograms(lib, obj, links, o.mode, fd('events'), fd('anchors'), fd('drops'), skipped);
    } catch (e) {
      cleanup();
      throw e instanceof CaptureLoadError ? e : new CaptureLoadError(o.mode, 'configure', (e as Error).message);
    }
  }

  /** Registers a monitored directory or mount root: events under it resolve against `id`. */
  setAnchor(device: number, inode: bigint, id: number): void {
    const value = Buffer.alloc(4);
    value.writeUInt32LE(id);
    this.lib.bpf_map_update_elem(this.anchorsFd, anchorKey(device, inode), value);
  }

  deleteAnchor(device: number, inode: bigint): void {
    this.lib.bpf_map_delete_elem(this.anchorsFd, anchorKey(device, inode));
  }

  /** Events the kernel could not put in the ring buffer since load, summed over CPUs. */
  drops(): bigint {
    const cpus = this.lib.libbpf_num_possible_cpus();
    const values = Buffer.alloc(8 * cpus);
    this.lib.bpf_map_lookup_elem(this.dropsFd, Buffer.alloc(4), values);
    let total = 0n;
    for (let i = 0; i < cpus; i++) total += values.readBigUInt64LE(i * 8);
    return total;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links) this.lib.bpf_link__destroy(l);
    this.lib.bpf_object__close(this.obj);
  }

  /**
   * close(), with the links detached on DETACH_THREADS threads side by side, the event loop free
   * meanwhile (a stop has its goodbye to say and its spool to close); on the calling thread when
   * a thread cannot be started.
   */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const shares = Array.from({ length: DETACH_THREADS }, (_, i) => this.links.filter((_, j) => j % DETACH_THREADS === i)).filter((s) => s.length);
    await Promise.all(shares.map((share) => new Promise<void>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(new URL('./detach-worker.js', import.meta.url), { workerData: share });
      } catch {
        for (const l of share) this.lib.bpf_link__destroy(l);
        return resolve();
      }
      // a thread that fails leaves (part of) its share attached, never destroyed twice: the
      // kernel detaches those links when the process exits
      worker.once('error', () => undefined);
      worker.once('exit', () => resolve());
    })));
    this.lib.bpf_object__close(this.obj);
  }
}

/** The mode's programs, with the close hook this kernel needs. */
function modePrograms(o: LoadOptions): string[] {
  const hook = o.closeHook ?? 'filp_close';
  return MODE_PROGRAMS[o.mode].map((name) => (o.mode !== 'tracepoint' && name.endsWith('_filp_close') ? name.replace('filp_close', hook) : name));
}

/** Chooses the programs to load and writes .rodata and map sizes; returns the skipped programs. */
function configure(lib: Libbpf, obj: BpfObject, objectPath: string, o: LoadOptions): string[] {
  const wanted = new Set(modePrograms(o));
  const events = o.tracefsEvents ?? '/sys/kernel/tracing/events/syscalls';
  const skipped = o.mode === 'tracepoint'
    ? [...wanted].filter((name) => {
      const tp = optionalTracepoint(name);
      return tp !== undefined && !pathExists(path.join(events, tp));
    })
    : [];
  for (const prog of lib.programs(obj)) {
    const name = lib.bpf_program__name(prog);
    lib.bpf_program__set_autoload(prog, wanted.has(name) && !skipped.includes(name));
  }
  const rodata = mapNamed(lib, obj, '.rodata', o.mode);
  const vars = new Map(
    parseObjectBtf(fs.readFileSync(objectPath)).datasecVars('.rodata').map((v) => [v.name, v]),
  );
  const set = (name: string, value: number | bigint, size: 4 | 8) => {
    const v = vars.get(name);
    if (!v || v.size !== size) throw new Error(`.rodata has no ${size}-byte variable '${name}' (object and loader out of step)`);
    const bytes = Buffer.alloc(size);
    if (size === 4) bytes.writeUInt32LE(Number(value));
    else bytes.writeBigUInt64LE(BigInt(value));
    lib.writeInitialValue(rodata, v.offset, bytes);
  };
  const setU32 = (name: string, value: number) => set(name, value, 4);
  setU32('unlink_dentry_arg', o.unlinkDentryArg);
  for (const hook of LAYOUT_HOOKS) setU32(`${hook}_dentry_arg`, o.dentryArgs[hook]);
  setU32('agent_tgid', o.agentTgid ?? process.pid);
  set('write_interval_ns', o.writeIntervalNs ?? 500_000_000n, 8);
  setU32('rename_uses_renamedata', o.renameUsesRenamedata ? 1 : 0);
  setU32('wakeup_bytes', o.wakeupBytes ?? 256 * 1024);
  if (o.ringBytes !== undefined) lib.bpf_map__set_max_entries(mapNamed(lib, obj, 'events', o.mode), o.ringBytes);
  return skipped;
}

function mapNamed(lib: Libbpf, obj: BpfObject, name: string, mode: AttachMode): BpfMap {
  const map = lib.bpf_object__find_map_by_name(obj, name);
  if (!map) throw new CaptureLoadError(mode, 'configure', `the BPF object has no map '${name}'`);
  return map;
}

/** struct anchor_key { u32 dev; u32 pad; u64 ino; } */
function anchorKey(device: number, inode: bigint): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32LE(device >>> 0, 0);
  key.writeBigUInt64LE(inode, 8);
  return key;
}

