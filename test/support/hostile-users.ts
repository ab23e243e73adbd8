// Local users attacking the agent through the trees it monitors: the secrets they are after (a
// root-only canary, the agent's own client.keys), a way to run their shell loops as `nobody`, and
// a search of everything the manager received for those secrets.
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const NOBODY_UID = 65534;
export const NOBODY_GID = 65534;

/** setpriv(1) as the unprivileged user `nobody`, with no supplementary groups. */
export const AS_NOBODY = ['setpriv', `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, '--clear-groups'];

/** One thing no message may carry, and what it is (for the failure message). */
export interface Secret {
  what: string;
  text: string;
}

/** The md5, sha1 and sha256 hex of a file's content, as a FIM event would carry them. */
export function hashSecrets(what: string, content: Buffer): Secret[] {
  return (['md5', 'sha1', 'sha256'] as const).map((a) => ({ what: `${a} of ${what}`, text: crypto.createHash(a).update(content).digest('hex') }));
}

export interface Canary {
  /** Root-only (0700) directory outside the monitored tree. */
  dir: string;
  /** `<dir>/shadow`, root-only (0600), holding `token`. */
  file: string;
  /** The names of the files in `dir` (`shadow` first), all root-only with the content of `file`. */
  names: string[];
  /** A unique random string, found nowhere else. */
  token: string;
  secrets: Secret[];
}

/**
 * A root-only directory of root-only files (`shadow` and `others` more, as /etc holds many), all
 * holding one line with a unique random token.
 */
export function makeCanary(dir: string, others = 0): Canary {
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const token = `wba-canary-${crypto.randomBytes(12).toString('hex')}`;
  const content = Buffer.from(`root:$6$${token}:19800:0:99999:7:::\n`);
  const names = ['shadow', ...Array.from({ length: others }, (_, i) => `secret-${String(i + 1).padStart(3, '0')}`)];
  for (const n of names) fs.writeFileSync(path.join(dir, n), content, { mode: 0o600 });
  return {
    dir, file: path.join(dir, 'shadow'), names, token,
    secrets: [{ what: "the canary's secret text", text: token }, ...hashSecrets('the canary files', content)],
  };
}

/** What client.keys gives away: each line, each line's key, the file's hashes. */
export function clientKeysSecrets(file: string): Secret[] {
  const content = fs.readFileSync(file);
  const lines = content.toString('utf8').split('\n').filter((l) => l.trim() !== '');
  if (!lines.length) throw new Error(`${file} holds no key`);
  return [
    ...lines.map((l, i) => ({ what: `line ${i + 1} of client.keys`, text: l })),
    ...lines.map((l, i) => ({ what: `the key of line ${i + 1} of client.keys`, text: l.split(' ').at(-1)! })),
    ...hashSecrets('client.keys', content),
  ];
}

/** One line per secret found in `messages`: how many carry it, and where in the first one. */
export function leaks(messages: readonly string[], secrets: readonly Secret[]): string[] {
  const out: string[] = [];
  for (const s of secrets) {
    const carrying = messages.filter((m) => m.includes(s.text));
    if (!carrying.length) continue;
    const m = carrying[0]!;
    const at = m.indexOf(s.text);
    out.push(`${s.what} in ${carrying.length} of ${messages.length} messages, e.g. …${m.slice(Math.max(0, at - 160), at + s.text.length + 40)}…`);
  }
  return out;
}

export interface UserRun {
  child: ChildProcess;
  /** Resolves when the shell exits, with its output. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
}

/** Runs `argv` as nobody in `cwd` (which nobody must be able to reach). */
export function asNobody(cwd: string, argv: string[]): UserRun {
  const started = Date.now();
  const child = spawn(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
  return { child, exited };
}
