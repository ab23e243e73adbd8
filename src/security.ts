// File safety for what the agent trusts and what it keeps private.
//
// Trusted inputs (ossec.conf, client.keys, the enrollment password file) are refused, not just
// warned about, when someone other than root or the agent's own user could have changed them:
// - writable by any user (o+w), or
// - owned by a user who is neither root nor the agent's user (as sshd's StrictModes does).
// Group write stays allowed: Wazuh installs ossec.conf 0660 root:wazuh and client.keys 0640.
// Wazuh itself does not refuse such files; the agent does, because it runs with capabilities
// that let it read every file and kernel memory.
//
// Private state (the home, the spool) is created by the agent for itself: owned by the running
// user, the home 0750 (its group may read logs, as with /var/ossec), the spool 0700 / 0600.
import fs from 'node:fs';

/** Mode for files only the agent's user may read (spool segments, diff copies). */
export const privateFileMode = 0o600;
/** Mode for directories only the agent's user may enter. */
export const privateDirMode = 0o700;
/** The home (--home): the agent's group may read logs and reach the local queue socket. */
export const homeDirMode = 0o750;

/** A trusted file or private directory the agent refuses to use; the message names it and says why. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

/** The part of fs.Stats the checks look at. */
export interface Ownership {
  mode: number;
  uid: number;
}

/** What is wrong with a trusted file, and the command that fixes it. */
export interface UnsafeFile {
  problem: string;
  fix: string;
}

/** `0666` for mode 0100666: permission and set-id bits, four octal digits. */
export function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Why a file the agent trusts must not be used; undefined when it may be. */
export function unsafeFile(st: Ownership, agentUid: number): UnsafeFile | undefined {
  if ((st.mode & 0o002) !== 0) return { problem: `writable by any user (mode ${modeString(st.mode)})`, fix: 'chmod o-w' };
  if (st.uid !== 0 && st.uid !== agentUid) {
    return { problem: `owned by uid ${st.uid}, neither root nor the agent's user (uid ${agentUid})`, fix: 'chown root' };
  }
  return undefined;
}

function effectiveUid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * The problem with `file` as a trusted input; undefined when it is safe, or when it cannot be
 * examined (missing, unreadable directory): reading it then fails with its own clear error.
 */
export function unsafeFileAt(file: string): UnsafeFile | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  return unsafeFile(st, effectiveUid());
}

/** The one-line refusal for a trusted file, e.g. "Unsafe permissions on '/x/client.keys': writable by any user (mode 0666); ...". */
export function unsafeFileMessage(file: string, u: UnsafeFile): string {
  return `Unsafe permissions on '${file}': ${u.problem}; refusing to use it (fix: ${u.fix} '${file}').`;
}

/** `mode` with the permission bits `allowed` does not grant removed; set-id and sticky bits kept. */
function narrowed(mode: number, allowed: number): number {
  return (mode & 0o7000) | (mode & allowed & 0o777);
}

/**
 * Makes `dir` (and missing parents) a directory owned by the running user whose mode grants
 * nothing beyond `mode`; an existing wider one is narrowed. A symbolic link counts as what it
 * points to (a home moved to another disk). Returns the previous mode when it narrowed one, for
 * the caller to log. Throws UnsafePathError for a non-directory, or a directory owned by another
 * user (the agent could not keep it private).
 */
function ensureOwnDir(dir: string, mode: number): number | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true, mode });
  } catch (e) {
    // something else is there: said below
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = fs.statSync(dir);
  const uid = effectiveUid();
  if (!st.isDirectory()) throw new UnsafePathError(dir, `Unsafe path '${dir}': not a directory; refusing to use it.`);
  if (st.uid !== uid) {
    throw new UnsafePathError(
      dir,
      `Unsafe ownership of directory '${dir}': owned by uid ${st.uid}, not the running user (uid ${uid}); refusing to use it ` +
        `(run the agent as uid ${st.uid}, or fix: chown ${uid} '${dir}').`,
    );
  }
  if ((st.mode & 0o777 & ~mode) === 0) return undefined;
  fs.chmodSync(dir, narrowed(st.mode, mode));
  return st.mode & 0o7777;
}

/**
 * A directory only the running user may use (0700), created if missing, narrowed if wider;
 * files in it are to be created with privateFileMode. Throws UnsafePathError (see ensureOwnDir).
 */
export function ensurePrivateDir(dir: string): void {
  ensureOwnDir(dir, privateDirMode);
}

/**
 * The agent's home, created 0750 if missing. A wider existing home is narrowed to 0750, since
 * everything below it (keys, counters, spool, diffs) relies on it; the returned warning says so.
 * Throws UnsafePathError when the home belongs to another user.
 */
export function secureHome(home: string): string | undefined {
  const previous = ensureOwnDir(home, homeDirMode);
  if (previous === undefined) return undefined;
  return `Directory '${home}' was open to other users (mode ${modeString(previous)}); changed to ${modeString(narrowed(previous, homeDirMode))}.`;
}
