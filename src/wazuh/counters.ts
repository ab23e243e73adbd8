// The agent's sending counters (global:local), kept across restarts because the manager refuses
// counters that go backwards for a known agent (msgs.c ReadSecMSG).
//
// Wazuh rewrites queue/rids/sender_counter on every message. We write only when the global part
// changes (once per 9997 messages) and, at every start, move to the next global value before the
// first message. Whatever was sent before a crash used a global part no larger than the one on
// disk, so the first counter after any restart is always newer than everything sent before it.
// On a full disk (with `disk`) the agent goes on and writes the file once space returns: a crash
// before that may reuse counters, which a manager refuses only with remoted.verify_msg_id=1.
import fs from 'node:fs';
import path from 'node:path';
import type { DiskSpace } from '../disk-space.js';
import { Counters, nextCounters } from './codec.js';

export class SenderCounter {
  private current: Counters;
  private unwritten = false;

  private constructor(private readonly file: string, stored: Counters, private readonly disk?: DiskSpace) {
    this.current = { global: stored.global + 1, local: 0 };
    disk?.register({ name: 'the sender counter', flush: () => !this.unwritten || this.persist() });
    this.persist();
  }

  /** Loads `<dir>/sender_counter` ("global:local:", Wazuh's format) and reserves a new global. */
  static open(dir: string, disk?: DiskSpace): SenderCounter {
    const file = path.join(dir, 'sender_counter');
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    return new SenderCounter(file, readCounterFile(file), disk);
  }

  /** The counters for the next message; persists before a new global value is used. */
  next(): Counters {
    const n = nextCounters(this.current);
    const newGlobal = n.global !== this.current.global;
    this.current = n;
    if (newGlobal) this.persist();
    return n;
  }

  get last(): Counters {
    return { ...this.current };
  }

  /** Writes the current counters; false (DiskSpace told) when the disk cannot take them. */
  private persist(): boolean {
    const tmp = `${this.file}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w', 0o640);
      try {
        fs.writeSync(fd, `${this.current.global}:${this.current.local}:`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
      this.unwritten = false;
      return true;
    } catch (e) {
      if (!this.disk?.writeFailed(`the sender counter ('${this.file}')`, e)) throw e;
      this.unwritten = true;
      return false;
    }
  }
}

/** Parses a rids file; a missing or unreadable one counts as 0:0 like Wazuh's OS_StartCounter. */
export function readCounterFile(file: string): Counters {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { global: 0, local: 0 };
  }
  const m = /^(\d+):(\d+)/.exec(text);
  return m ? { global: Number(m[1]), local: Number(m[2]) } : { global: 0, local: 0 };
}
