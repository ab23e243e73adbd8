// The wazuh-bpf-agent command line as a child process, the way an administrator runs it;
// optionally behind a wrapper command (setpriv(1)) that changes its user or capabilities.
import { ChildProcess, spawn } from 'node:child_process';
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

/** Starts `wazuh-bpf-agent <args>`, behind `wrapper` (e.g. ['setpriv', ...]) when given. */
export function startCli(args: string[], wrapper: string[] = []): CliProcess {
  const command = [...wrapper, process.execPath, CLI, ...args];
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
export function runCli(args: string[], wrapper: string[] = []): Promise<CliResult> {
  return startCli(args, wrapper).exited;
}

/** Hands one event line to a running agent through its local queue socket under `home`. */
export function sendToQueue(home: string, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(path.join(home, 'queue', 'sockets', 'queue'), () => c.end(`${line}\n`, () => resolve()));
    c.on('error', reject);
  });
}
