// The agent CLI as a child process, for tests that watch it from outside: its stderr (the log),
// whether it is alive, and the local queue socket to inject events through.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './cli.js';

export class AgentProcess {
  /** Everything the process wrote to stderr so far. */
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
      this.wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      this.wake();
      resolve(code);
    }));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a stderr line after offset `from` that matches; returns it. */
  async waitForLine(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stderr.slice(from).split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (!this.alive) throw new Error(`the agent exited (${this.child.exitCode ?? this.child.signalCode}) before logging ${pattern}; stderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for a log line ${pattern}; stderr since:\n${this.stderr.slice(from)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then waits for the exit; nothing when it has exited already. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.kill('SIGTERM');
    await this.exited;
  }

  /** Writes the log so far to `<tmpdir>/<name>.log`, for whoever reads a failure; returns that path. */
  keepLog(name: string): string {
    const file = path.join(os.tmpdir(), `${name}.log`);
    fs.writeFileSync(file, this.stderr);
    return file;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
