// The executables of processes as earlier events named them, for the events a process causes
// while it exits. The kernel closes an exiting process's files after releasing its memory map,
// so a file written and left open by a short-lived `sh -c 'printf x > f'` is closed (filp_close)
// by a task that no longer has an executable to read; the process's earlier events (its open,
// its writes) did carry it. Keyed by pid and command name, so a recycled pid running something
// else is not given the old name. Pure; bounded.
import type { WhoData } from './event.js';

export class ExeMemory {
  private readonly byPid = new Map<number, { comm: string; exe: string }>();

  constructor(private readonly capacity = 4096) {}

  /** Remembers `who.exe`, or fills it in when the kernel could not read it (see above). */
  fill(who: WhoData): void {
    if (who.exe !== undefined) {
      this.byPid.delete(who.pid); // most recent last: the first key is the one to drop
      this.byPid.set(who.pid, { comm: who.comm, exe: who.exe });
      if (this.byPid.size > this.capacity) this.byPid.delete(this.byPid.keys().next().value!);
      return;
    }
    const known = this.byPid.get(who.pid);
    if (known?.comm === who.comm) who.exe = known.exe;
  }
}
