// The wazuh-bpf-agent command line as a child process, the way an administrator runs it;
// optionally behind a wrapper command (setpriv(1)) that changes its user or capabilities; and
// SIGTERM with a stated bound.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process has exited and its output is closed. */
  exited: Promise<CliResult>;
}

let sharedCli: string | undefined;

/**
 * The CLI at a path every user can reach, for runs as another user. A checkout inside a 0700
 * directory (what `mktemp -d` makes, where CI may clone) is bind-mounted once under /tmp for the
 * life of this test process (needs root, as the tests that switch users do).
 */
export function cliReachableByAll(): string {
  if (sharedCli) return sharedCli;
  if (spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', CLI]).status === 0) return (sharedCli = CLI);
  const repo = path.resolve(path.dirname(CLI), '../..');
  const mnt = fs.mkdtempSync('/tmp/wba-checkout-');
  fs.chmodSync(mnt, 0o755);
  execFileSync('mount', ['--bind', repo, mnt]);
  process.on('exit', () => {
    spawnSync('umount', ['--lazy', mnt]);
    fs.rmdirSync(mnt);
  });
  return (sharedCli = path.join(mnt, path.relative(repo, CLI)));
}

/**
 * Starts `wazuh-bpf-agent <args>`, behind `wrapper` (e.g. ['setpriv', ...]) when given; a
 * wrapper may switch users, so it runs the CLI from where every user can reach it.
 */
export function startCli(args: string[], wrapper: string[] = [], cli = wrapper.length ? cliReachableByAll() : CLI): CliProcess {
  const command = [...wrapper, process.execPath, cli, ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, ...out })));
  return {
    child,
    get stdout() { return out.stdout; },
    get stderr() { return out.stderr; },
    exited,
  };
}

/** Runs `wazuh-bpf-agent <args>` to completion. */
export function runCli(args: string[], wrapper: string[] = [], cli?: string): Promise<CliResult> {
  return startCli(args, wrapper, cli).exited;
}

/** Hands one event line to a running agent through its local queue socket under `home`. */
export function sendToQueue(home: string, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(path.join(home, 'queue', 'sockets', 'queue'), () => c.end(`${line}\n`, () => resolve()));
    c.on('error', reject);
  });
}

export interface StopResult {
  /** Milliseconds from SIGTERM to exit, or the bound when it did not exit in time. */
  ms: number;
  /** Whether it exited by itself within the bound (else it was SIGKILLed). */
  stopped: boolean;
  code: number;
  /** When it did not stop: where its threads were waiting then (name and kernel wait channel, /proc). */
  waits?: string;
}

/** Each thread of `pid` as "name:wait channel" (e.g. "node:fifo_open"), counted: where a hung process sits. */
export function threadWaits(pid: number): string {
  const counts = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const wchan = fs.readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8').trim() || 'running';
        const at = `${tid === String(pid) ? 'main thread ' : ''}${comm}:${wchan}`;
        counts.set(at, (counts.get(at) ?? 0) + 1);
      } catch {
        // a thread that ended meanwhile
      }
    }
  } catch {
    return 'unknown (gone)';
  }
  return [...counts].map(([at, n]) => (n > 1 ? `${n}× ${at}` : at)).join(', ');
}

/** SIGTERM, then waits at most `boundMs` for the exit; SIGKILLs what is still running then. */
export async function sigtermWithin(agent: CliProcess, boundMs: number): Promise<StopResult> {
  const t0 = process.hrtime.bigint();
  agent.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    agent.exited.then((r) => ({ stopped: true, code: r.code })),
    new Promise<{ stopped: false; code: number }>((resolve) => (timer = setTimeout(() => resolve({ stopped: false, code: -1 }), boundMs))),
  ]);
  clearTimeout(timer);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (outcome.stopped) return { ms, ...outcome };
  const waits = threadWaits(agent.child.pid!);
  agent.child.kill('SIGKILL');
  await agent.exited;
  return { ms: boundMs, ...outcome, waits };
}
