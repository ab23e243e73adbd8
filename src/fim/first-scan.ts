// How far an unfinished first scan got, so that a restart resumes it as an interrupted scan
// instead of building the baseline again silently: rows it stored are compared (changes and
// deletions reported), a file added where it had been is reported added, and what it had not
// reached yet is baselined silently, as the first scan would have. Wazuh has no counterpart:
// its FIM database is rebuilt at every start. Kept as the baseline's meta 'first-scan' (engine.ts).
import { walkOrder } from './scan.js';

/** Per configured directory: the last path the first scan stored there (walk order), or true once walked whole. */
type Reached = ReadonlyMap<string, string | true>;

export class FirstScanProgress {
  private constructor(private readonly reached: Reached) {}

  /** A first scan that has stored nothing yet. */
  static readonly none = new FirstScanProgress(new Map());

  /**
   * From the meta value; undefined when there is none (no first scan unfinished). A value that is
   * not ours (a damaged database) covers nothing: files it would have covered are baselined silently.
   */
  static parse(text: string | undefined): FirstScanProgress | undefined {
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return FirstScanProgress.none;
    }
    const reached = new Map<string, string | true>();
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [dir, at] of Object.entries(value)) if (typeof at === 'string' || at === true) reached.set(dir, at);
    }
    return new FirstScanProgress(reached);
  }

  /** Whether the first scan had been at `p` (a path of the configured directory `dir`), or past it. */
  covers(dir: string, p: string): boolean {
    const at = this.reached.get(dir);
    return at === true || (at !== undefined && walkOrder(p, at) <= 0);
  }

  /** The progress once the row of `p` is stored; undefined when it covers `p` already (nothing to write). */
  past(dir: string, p: string): FirstScanProgress | undefined {
    return this.covers(dir, p) ? undefined : new FirstScanProgress(new Map(this.reached).set(dir, p));
  }

  /** The progress once `dir` was walked whole (its deletions reported). */
  whole(dir: string): FirstScanProgress {
    return new FirstScanProgress(new Map(this.reached).set(dir, true));
  }

  toString(): string {
    return JSON.stringify(Object.fromEntries(this.reached));
  }
}
