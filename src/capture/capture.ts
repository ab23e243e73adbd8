// Real-time file events for the monitored trees, from the best source this kernel allows:
//   kprobe -> fentry -> syscall tracepoints -> inotify (no who-data) -> scheduled scans only.
// Each candidate is loaded, attached and then must pass a self-test (like Wazuh's who-data
// healthcheck): create, write, rename and delete a probe file in a private directory and see
// every event, with the right path and this process as the actor, within a timeout. The first
// candidate that passes is used; why each earlier one failed is logged.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { isDiskError } from '../disk-space.js';
import { CaptureEvent, EventDecodeError, FimOp, checkEventLayout, decodeEvent } from './event.js';
import { parseObjectBtf } from '../bpf/btf.js';
import {
  ArgChoice, LAYOUT_HOOKS, LayoutHook, RenameChoice, ensureTracefs, explainBpfRefusal, probeKprobes, probePrivileges, readRefusalFacts,
  readVmlinuxBtf, resolveDentryArg, resolveRenameAbi, resolveUnlinkDentryArg,
} from '../bpf/kernel.js';
import { AttachMode, CaptureLoadError, DEFAULT_OBJECT, FimPrograms } from '../bpf/loader.js';
import { RingBufferReader } from '../bpf/ringbuf.js';
import { InotifySource } from './inotify.js';
import { ProcessPaths } from './process-paths.js';
import type { Logger } from '../log.js';
import { sleep } from '../timers.js';
import { Watches, isUnder } from './watches.js';

export type CaptureMode = AttachMode | 'inotify' | 'scheduled';
export const CAPTURE_CHAIN: readonly CaptureMode[] = ['kprobe', 'fentry', 'tracepoint', 'inotify', 'scheduled'];
/** How often the anchors are checked against the directories and mounts (a stat each, and mountinfo). */
const ANCHOR_REFRESH_MS = 500;

export interface CaptureOptions {
  /** Absolute paths of the monitored directories. */
  dirs: string[];
  /** A private, writable directory for the self-test (not monitored, never reported). */
  selfTestDir: string;
  log: Logger;
  /** Explicit vfs_unlink dentry argument (config override); otherwise BTF, then the release. */
  unlinkDentryArg?: number;
  /** Explicit dentry arguments of the other hooked functions (tests: the kernel matrix's negative controls). */
  dentryArgs?: Partial<Record<LayoutHook, number>>;
  /** Candidates to try, in order (default: the whole chain). */
  modes?: readonly CaptureMode[];
  objectPath?: string;
  ringBytes?: number;
  selfTestTimeoutMs?: number;
  pollTimeoutMs?: number;
}

export interface Attempt {
  mode: CaptureMode;
  ok: boolean;
  reason: string;
}

interface CaptureEvents {
  events: [CaptureEvent[]];
  /** Events the kernel dropped (ring buffer full) since the last report. */
  drops: [number];
}

/** A started event source: BPF programs plus reader, or inotify. */
interface Source {
  stop(): Promise<void>;
  drops(): bigint;
}

export class Capture extends EventEmitter<CaptureEvents> {
  mode: CaptureMode = 'scheduled';
  readonly attempts: Attempt[] = [];
  unlinkArg: ArgChoice | undefined;
  renameAbi: RenameChoice | undefined;
  /** notify_change, vfs_link, vfs_symlink, vfs_mkdir, security_inode_rmdir: where their dentry is. */
  hookLayout: Record<LayoutHook, ArgChoice> | undefined;
  closeHook: 'filp_close' | 'filp_flush' = 'filp_close';
  private source: Source | undefined;
  private readonly watches: Watches;
  /** Monitored directories and the self-test directory, resolved once. */
  private readonly monitored: string[];
  private readonly selfDir: string;
  private selfTestSink: ((e: CaptureEvent) => void) | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private decodeErrors = 0;

  private constructor(private readonly o: CaptureOptions) {
    super();
    this.monitored = o.dirs.map((d) => path.resolve(d));
    this.selfDir = path.resolve(o.selfTestDir);
    this.watches = new Watches([...this.monitored, this.selfDir]);
  }

  /** Tries the chain and returns the capture running in the first mode that works. */
  static async start(o: CaptureOptions): Promise<Capture> {
    const c = new Capture(o);
    await c.choose();
    return c;
  }

  async stop(): Promise<void> {
    clearInterval(this.dropTimer);
    await this.source?.stop();
    this.source = undefined;
  }

  private async choose(): Promise<void> {
    const { log } = this.o;
    fs.mkdirSync(this.o.selfTestDir, { recursive: true, mode: 0o700 });
    this.resolveLayout();
    for (const mode of this.o.modes ?? CAPTURE_CHAIN) {
      const attempt = await this.tryMode(mode);
      this.attempts.push(attempt);
      if (attempt.ok) {
        this.mode = mode;
        log.info(`Real-time capture mode: ${mode} (${attempt.reason}).`);
        this.dropTimer = setInterval(() => this.reportDrops(), 1000);
        return;
      }
      log.warn(`Capture mode '${mode}' unavailable: ${attempt.reason}`);
    }
  }

  private resolveLayout(): void {
    const btf = readVmlinuxBtf();
    const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    this.unlinkArg = resolveUnlinkDentryArg({ btf: btf.btf, release, override: this.o.unlinkDentryArg });
    this.renameAbi = resolveRenameAbi({ btf: btf.btf, release });
    this.hookLayout = Object.fromEntries(
      LAYOUT_HOOKS.map((h) => [h, resolveDentryArg(h, { btf: btf.btf, release, override: this.o.dentryArgs?.[h] })]),
    ) as Record<LayoutHook, ArgChoice>;
    this.closeHook = btf.btf?.findFunc('filp_flush') ? 'filp_flush' : 'filp_close';
    const others = LAYOUT_HOOKS.map((h) => `${h} ${this.hookLayout![h].index} (${this.hookLayout![h].source})`).join(', ');
    this.o.log.info(
      `vfs_unlink dentry argument: ${this.unlinkArg.index} (from ${this.unlinkArg.source}: ${this.unlinkArg.detail}); ` +
        `vfs_rename: ${this.renameAbi.abi} (from ${this.renameAbi.source}); other dentry arguments: ${others}.`,
    );
  }

  private async tryMode(mode: CaptureMode): Promise<Attempt> {
    if (mode === 'scheduled') return { mode, ok: true, reason: 'no real-time events; changes are found by scheduled scans' };
    let source: Source;
    try {
      source = mode === 'inotify' ? await this.startInotify() : await this.startBpf(mode);
    } catch (e) {
      const reason = (e as Error).message;
      // privileged yet refused: say which limit or policy we can see
      const hint = explainBpfRefusal(reason, readRefusalFacts());
      return { mode, ok: false, reason: hint ? `${reason} (${hint})` : reason };
    }
    this.source = source;
    const failure = await this.selfTest(mode);
    if (failure) {
      this.source = undefined;
      await source.stop();
      return { mode, ok: false, reason: `self-test failed: ${failure}` };
    }
    return {
      mode, ok: true, reason: mode === 'inotify' ? 'self-test passed: create, modify, rename and delete seen, without who-data' : 'self-test passed: create, modify, chmod, rename and delete seen',
    };
  }

  private async startBpf(mode: AttachMode): Promise<Source> {
    const priv = probePrivileges();
    if (!priv.ok) throw new Error(`${priv.reason} (eBPF capture needs root, or CAP_BPF with CAP_PERFMON)`);
    if (mode === 'kprobe') {
      const kprobes = probeKprobes();
      if (!kprobes.ok) throw new Error(kprobes.reason);
    }
    if (mode === 'tracepoint') {
      const tracefs = ensureTracefs();
      if (!tracefs.ok) throw new Error(tracefs.reason);
    }
    const objectPath = this.o.objectPath ?? DEFAULT_OBJECT;
    const layout = checkEventLayout(parseObjectBtf(fs.readFileSync(objectPath)));
    if (layout.length) throw new Error(`the BPF object ${objectPath} and the event decoder disagree: ${layout.join('; ')}`);
    let programs: FimPrograms;
    try {
      programs = FimPrograms.load({
        mode,
        unlinkDentryArg: this.unlinkArg!.index,
        dentryArgs: Object.fromEntries(LAYOUT_HOOKS.map((h) => [h, this.hookLayout![h].index])) as Record<LayoutHook, number>,
        renameUsesRenamedata: this.renameAbi!.abi === 'renamedata',
        closeHook: this.closeHook,
        objectPath,
        ringBytes: this.o.ringBytes,
      });
    } catch (e) {
      if (e instanceof CaptureLoadError && e.libbpfLog.length) {
        this.o.log.debug(`libbpf (${mode}): ${e.libbpfLog.join(' | ')}`);
      }
      throw e;
    }
    for (const a of this.watches.scan()) programs.setAnchor(a.device, a.inode, a.id);
    // directories created (or created again) and filesystems mounted after start: anchored at the next look
    const refresh = setInterval(() => {
      const { added, removed } = this.watches.refresh();
      for (const a of removed) programs.deleteAnchor(a.device, a.inode);
      for (const a of added) programs.setAnchor(a.device, a.inode, a.id);
      for (const a of added) this.o.log.debug(`Capture: anchored '${a.path}' (device ${a.device}, inode ${a.inode}).`);
    }, ANCHOR_REFRESH_MS);
    const reader = new RingBufferReader(programs.eventsFd, { pollTimeoutMs: this.o.pollTimeoutMs });
    const processPaths = new ProcessPaths();
    reader.on('batch', (batch) => {
      const out: CaptureEvent[] = [];
      batch.forEach((rec) => {
        try {
          out.push(decodeEvent(rec, (id) => this.watches.pathOf(id), processPaths));
        } catch (e) {
          if (!(e instanceof EventDecodeError)) throw e;
          if (this.decodeErrors++ === 0) this.o.log.error(`Undecodable capture record: ${e.message}`);
        }
      });
      this.route(out);
    });
    try {
      await reader.start();
    } catch (e) {
      clearInterval(refresh);
      programs.close();
      throw e;
    }
    return {
      stop: async () => {
        clearInterval(refresh);
        await reader.stop();
        await programs.closeAsync();
      },
      drops: () => programs.drops(),
    };
  }

  private async startInotify(): Promise<Source> {
    const src = new InotifySource(this.watches.dirs, (events) => this.route(events));
    await src.start();
    return { stop: async () => src.stop(), drops: () => 0n };
  }

  /** Self-test events go to the self-test; the rest, when inside a monitored tree, to listeners. */
  private route(events: CaptureEvent[]): void {
    const out: CaptureEvent[] = [];
    for (const e of events) {
      const paths = [e.path, e.newPath].filter((p): p is string => p !== undefined);
      if (paths.some((p) => isUnder(p, this.selfDir))) this.selfTestSink?.(e);
      else if (paths.some((p) => this.monitored.some((d) => isUnder(p, d)))) out.push(e);
    }
    if (out.length) this.emit('events', out);
  }

  /** Returns undefined when every probe step produced its event, else what was missing. */
  private async selfTest(mode: CaptureMode): Promise<string | undefined> {
    const dir = this.selfDir;
    const file = path.join(dir, `probe-${process.pid}-${Date.now()}`);
    const renamed = `${file}.renamed`;
    const timeoutMs = this.o.selfTestTimeoutMs ?? 5000;
    // inotify sees a rename as the old name going and the new one coming
    const steps: { what: string; act: () => void; op: FimOp; path: string }[] = [
      // created empty: on a full disk the create still works, only the modify step cannot
      { what: 'create', act: () => fs.closeSync(fs.openSync(file, 'w', 0o600)), op: 'create', path: file },
      { what: 'modify', act: () => fs.appendFileSync(file, 'wazuh-bpf-agent capture self-test\n'), op: 'modify', path: file },
      { what: 'chmod', act: () => fs.chmodSync(file, 0o600), op: 'attrib', path: file },
      { what: 'rename', act: () => fs.renameSync(file, renamed), op: mode === 'inotify' ? 'create' : 'rename', path: renamed },
      { what: 'delete', act: () => fs.unlinkSync(renamed), op: 'delete', path: renamed },
    ];
    // fs.watch cannot tell an attribute change from a write: inotify is not asked for one
    if (mode === 'inotify') steps.splice(steps.findIndex((s) => s.what === 'chmod'), 1);
    const seen: CaptureEvent[] = [];
    this.selfTestSink = (e) => seen.push(e);
    try {
      for (const step of steps) {
        const match = (e: CaptureEvent) => e.op === step.op && (e.op === 'rename' ? e.newPath : e.path) === step.path;
        try {
          step.act();
        } catch (e) {
          if (step.what === 'modify' && isDiskError(e)) {
            this.o.log.warn(`Capture self-test: the disk is full, the modify step is skipped (${(e as Error).message}).`);
            continue;
          }
          return `probe ${step.what} in ${dir} failed: ${(e as Error).message}`;
        }
        const deadline = Date.now() + timeoutMs;
        while (!seen.some(match) && Date.now() < deadline) await sleep(10);
        const event = seen.find(match);
        if (!event) return `no ${step.what} event for ${step.path} within ${timeoutMs} ms`;
        if (mode !== 'inotify' && event.who?.pid !== process.pid) {
          return `${step.what} event names pid ${event.who?.pid}, expected ${process.pid}`;
        }
      }
    } finally {
      this.selfTestSink = undefined;
      fs.rmSync(file, { force: true });
      fs.rmSync(renamed, { force: true });
    }
    return undefined;
  }

  private lastDrops = 0n;

  private reportDrops(): void {
    const total = this.source?.drops() ?? 0n;
    if (total <= this.lastDrops) return;
    const delta = Number(total - this.lastDrops);
    this.lastDrops = total;
    this.o.log.warn(`Kernel event buffer full: ${delta} event(s) dropped (${total} since start).`);
    this.emit('drops', delta);
  }
}
