// Starts bench/support/manager-proc.js (optionally pinned to a CPU) and talks to it.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const PROC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'manager-proc.js');

export class ManagerProcess {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly authdPort: number, readonly remotedPort: number, lines: AsyncIterator<string>) {
    this.lines = lines;
  }

  /**
   * `cpu`: pin it there; `light`: no alerts or FIM inventory, only decrypt, record and answer;
   * `noData`: answer every integrity check with no_data.
   */
  static async start(o: { cpu?: number; light?: boolean; noData?: boolean } = {}): Promise<ManagerProcess> {
    const args = [PROC, ...(o.light ? ['--light'] : []), ...(o.noData ? ['--no-data'] : [])];
    const child = o.cpu === undefined ? spawn(process.execPath, args) : spawn('taskset', ['-c', String(o.cpu), process.execPath, ...args]);
    child.stderr.pipe(process.stderr);
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error('the test manager process exited before listening');
    const { authd, remoted } = JSON.parse(first.value) as { authd: number; remoted: number };
    return new ManagerProcess(child, authd, remoted, lines);
  }

  private async ask<T>(command: string): Promise<T> {
    this.child.stdin.write(`${command}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('the test manager process exited');
    return JSON.parse(r.value) as T;
  }

  async count(prefix: string): Promise<number> {
    return (await this.ask<{ count: number }>(`count ${prefix}`)).count;
  }

  /** How many files' integrity sync states arrived (a file sent again counts once). */
  async statedFiles(): Promise<number> {
    return (await this.ask<{ count: number }>('states')).count;
  }

  /** When the first message containing `text` reached the manager (Date.now()), if one has. */
  async firstArrival(text: string): Promise<number | undefined> {
    return (await this.ask<{ at: number | null }>(`first ${text}`)).at ?? undefined;
  }

  arrivals(): Promise<{ key: string; at: number }[]> {
    return this.ask('arrivals');
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}
