// Wazuh's internal options: `etc/internal_options.conf` and `etc/local_internal_options.conf`
// beside ossec.conf, lines `<high>.<low>=<value>`, '#' comments. A value in the local file wins
// (validate_op.c getDefine_Int: local first, then the stock file). A value that is not a whole
// number in range is Wazuh's fatal (2302); a missing one takes Wazuh's stock default here, since
// this agent's own conf/ ships no internal_options.conf (Wazuh exits with (2301)).
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

export const INTERNAL_OPTIONS_FILES = ['local_internal_options.conf', 'internal_options.conf'] as const;

/** One definition found in a defines file. */
export interface Definition {
  value: string;
  line: number;
}

/** `high.low` → its value as the file defines it (the first definition of a name counts, as in _read_file). */
export function parseDefinitions(text: string): Map<string, Definition> {
  const out = new Map<string, Definition>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) return;
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const name = line.slice(0, eq).trim();
    // Wazuh stops the value at the first space or '#'
    const value = line.slice(eq + 1).trim().split(/[\s#]/)[0]!;
    if (!out.has(name)) out.set(name, { value, line: i + 1 });
  });
  return out;
}

/**
 * getDefine_Int for the options this agent reads: from the first of INTERNAL_OPTIONS_FILES in
 * `dir` that defines it, else `fallback`. Throws a ConfigError naming file and line for a value
 * Wazuh would refuse.
 */
export function internalInt(dir: string, high: string, low: string, min: number, max: number, fallback: number): number {
  for (const name of INTERNAL_OPTIONS_FILES) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const def = parseDefinitions(text).get(`${high}.${low}`);
    if (!def) continue;
    const n = Number(def.value);
    if (!/^\d+$/.test(def.value) || n < min || n > max) {
      throw new ConfigError(`(2302): Invalid definition for ${high}.${low}: '${def.value}' (must be ${min}-${max})`, { file, line: def.line });
    }
    return n;
  }
  return fallback;
}
