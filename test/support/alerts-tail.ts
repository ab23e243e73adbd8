// The alerts a real Wazuh manager writes to alerts.json (one JSON alert a line), read from a byte
// offset on, the way the e2e tests and the sequence recorder watch what the manager made of an
// agent's events.
import fs from 'node:fs';

export interface Alert {
  timestamp: string;
  rule: { id: string; description: string };
  agent: { id: string; name: string };
  full_log?: string;
  syscheck?: Record<string, unknown> & {
    path?: string;
    event?: string;
    mode?: string;
    changed_attributes?: string[];
    audit?: Record<string, unknown>;
  };
}

/** Reads alerts.json from a byte offset (its end at construction), keeping the alerts `keep` accepts. */
export class AlertsTail {
  private offset: number;
  readonly alerts: Alert[] = [];
  /** When this process first read each alert (Date.now()). */
  readonly seenAt = new Map<Alert, number>();
  private partial = '';
  /** The offset is inside a line another writer had not finished: its rest is not an alert to read. */
  private midLine: boolean;
  private readonly keep: (a: Alert) => boolean;
  private readonly label: string;

  /** `keep`: an agent name (its alerts only) or a predicate. */
  constructor(private readonly file: string, keep: string | ((a: Alert) => boolean)) {
    this.offset = fs.existsSync(file) ? fs.statSync(file).size : 0;
    // the manager may be half-way through writing an alert (the previous test's): start at the next line
    this.midLine = this.offset > 0 && !this.endsWithNewline(this.offset);
    this.keep = typeof keep === 'string' ? (a) => a.agent?.name === keep : keep;
    this.label = typeof keep === 'string' ? ` from agent ${keep}` : '';
  }

  poll(): void {
    if (!fs.existsSync(this.file)) return;
    const size = fs.statSync(this.file).size;
    if (size < this.offset) this.offset = 0; // rotated
    if (size === this.offset) return;
    const fd = fs.openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    fs.readSync(fd, buf, 0, buf.length, this.offset);
    fs.closeSync(fd);
    this.offset = size;
    const now = Date.now();
    let text = buf.toString('utf8');
    if (this.midLine) {
      const end = text.indexOf('\n');
      if (end < 0) return;
      text = text.slice(end + 1);
      this.midLine = false;
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      const a = JSON.parse(line) as Alert;
      if (this.keep(a)) {
        this.alerts.push(a);
        this.seenAt.set(a, now);
      }
    }
  }

  private endsWithNewline(offset: number): boolean {
    const fd = fs.openSync(this.file, 'r');
    try {
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, offset - 1);
      return b[0] === 0x0a;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Polls until no new alert has come for `quietMs`. */
  async settle(quietMs: number): Promise<void> {
    let count = -1;
    while (count !== this.alerts.length) {
      count = this.alerts.length;
      await new Promise((r) => setTimeout(r, quietMs));
      this.poll();
    }
  }

  async waitFor(what: string, match: (a: Alert) => boolean, timeoutMs = 60_000): Promise<Alert> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.poll();
      const found = this.alerts.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no alert for ${what}${this.label} within ${timeoutMs} ms; saw rules [${this.alerts.map((a) => a.rule.id).join(', ')}]`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** An alert's timestamp ("2026-12-03T10:35:44.620+0000") in ms since the epoch. */
export function alertTime(a: Alert): number {
  return Date.parse(a.timestamp.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}
