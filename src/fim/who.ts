// Turns the kernel's who-data (ids, command names, working directories) into Wazuh's `audit`
// object (user/group names, full process paths). Names come from /etc/passwd and /etc/group,
// re-read when those files change. Process paths are the executables the kernel saw at the
// event; where a source has none (a kernel thread), /proc while the process lives, else the
// kernel's command name, as a bare name.
import fs from 'node:fs';
import type { WhoData } from '../capture/event.js';
import type { AuditData } from './wire.js';

/** id -> name from a passwd(5)/group(5) file. */
export function parseIdNames(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

/** How often the files are checked for changes: a scan asks for names once or twice per file. */
const RECHECK_MS = 1000;

class IdNames {
  private names = new Map<number, string>();
  private mtimeMs = -1;
  private checkedAt = -Infinity;

  constructor(private readonly file: string) {}

  name(id: number): string {
    const now = performance.now();
    if (now - this.checkedAt >= RECHECK_MS) {
      this.checkedAt = now;
      try {
        const m = fs.statSync(this.file).mtimeMs;
        if (m !== this.mtimeMs) {
          this.names = parseIdNames(fs.readFileSync(this.file, 'utf8'));
          this.mtimeMs = m;
        }
      } catch {
        // no passwd/group file: numbers only
      }
    }
    return this.names.get(id) ?? '';
  }
}

export class WhoResolver {
  private readonly users: IdNames;
  private readonly groups: IdNames;

  constructor(etc = '/etc', private readonly proc = '/proc') {
    this.users = new IdNames(`${etc}/passwd`);
    this.groups = new IdNames(`${etc}/group`);
  }

  userName(uid: number): string {
    return this.users.name(uid);
  }

  groupName(gid: number): string {
    return this.groups.name(gid);
  }

  /** The kernel's who-data as Wazuh's `audit` object (every field set). */
  audit(w: WhoData): Required<AuditData> {
    const loginuid = w.loginuid;
    return {
      user_id: String(w.uid),
      user_name: this.userName(w.uid),
      group_id: String(w.gid),
      group_name: this.groupName(w.gid),
      process_name: w.exe ?? this.exe(w.pid) ?? w.comm,
      process_id: w.pid,
      ppid: w.ppid,
      parent_name: w.parentExe ?? this.exe(w.ppid) ?? w.parentComm,
      cwd: w.cwd ?? '',
      parent_cwd: w.parentCwd ?? '',
      audit_uid: loginuid === undefined ? '' : String(loginuid),
      audit_name: loginuid === undefined ? '' : this.userName(loginuid),
      effective_uid: String(w.euid),
      effective_name: this.userName(w.euid),
    };
  }

  private exe(pid: number): string | undefined {
    try {
      return fs.readlinkSync(`${this.proc}/${pid}/exe`).replace(/ \(deleted\)$/, '');
    } catch {
      return undefined;
    }
  }
}
