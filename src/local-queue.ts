// A local socket where programs on the host hand events to the agent, like Wazuh's
// queue/sockets/queue: one message per line, `<queue>:<location>:<message>` (e.g.
// `1:myapp:something happened`). Stream socket (Node has no unix datagram sockets), mode 0660.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from './log.js';

const MESSAGE = /^[0-9a-zA-Z]:[^:\n]+:[^\n]*$/;
/** Lines longer than Wazuh's OS_MAXSTR are not events; the connection is dropped. */
const MAX_LINE = 65536;

export function isQueueMessage(line: string): boolean {
  return MESSAGE.test(line);
}

export class LocalQueue {
  private server: net.Server | undefined;
  /** Open connections: a program that keeps one open must not hold a stop (server.close() waits for them). */
  private readonly connections = new Set<net.Socket>();

  constructor(readonly socketPath: string, private readonly submit: (message: string) => void, private readonly log: Logger) {}

  async start(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o750 });
    fs.rmSync(this.socketPath, { force: true });
    const server = net.createServer((s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o660);
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    const closed = s && new Promise<void>((resolve) => s.close(() => resolve()));
    for (const c of this.connections) c.destroy();
    await closed;
    fs.rmSync(this.socketPath, { force: true });
  }

  private serve(socket: net.Socket): void {
    let pending = '';
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (isQueueMessage(line)) {
          try {
            this.submit(line);
          } catch (e) {
            this.log.error(`Discarded message on ${this.socketPath}: ${(e as Error).message}`); // e.g. the spool's disk is full
          }
        } else this.log.warn(`Discarded malformed message on ${this.socketPath} (expected '<queue>:<location>:<message>').`);
      }
      if (pending.length > MAX_LINE) {
        this.log.warn(`Message on ${this.socketPath} exceeds ${MAX_LINE} bytes; connection closed.`);
        socket.destroy();
      }
    });
  }
}
