// client.keys: one agent per line, "<id> <name> <ip> <key>". The agent keeps a single line, the
// one wazuh-authd handed out at enrollment. Parsing is pure; writing is one atomic replace.
//
// Wazuh facts this mirrors (v4.14.7):
// - Reading (os_crypto/shared/keys.c, OS_ReadKeys): a line starting with '#' or ' ' is ignored;
//   the id runs to the first space; a name starting with '#' or '!' marks a removed agent and the
//   line is skipped; name and IP are the next two space-separated fields; the key is the rest of
//   the line. Wazuh logs a line with missing fields ("(1401): Error reading authentication key")
//   and skips it. Here every malformed line is reported that way, naming file and line, and
//   skipped: the agent uses the first valid entry, and with none it has no key (it enrolls, or
//   stops with "(4109)"), as Wazuh does with an empty file.
// - Field rules: the checks the agent applies to a key received from authd
//   (shared/enrollment_op.c, w_enrollment_process_agent_key): OS_IsValidID for the id
//   (addagent/validate.c: at most 8 digits), OS_IsValidName for the name AND the key (2-128
//   characters of letters, digits, '-', '_', '.', not starting with '.'), OS_IsValidIP for the IP
//   (shared/validate_op.c: "any", an IPv4 address with an optional /bits or /netmask, or an IPv6
//   address with an optional /prefix).
// - Writing (enrollment_op.c, w_enrollment_store_key_entry): a temporary file chmod'ed 0640 gets
//   the single line plus "\n", then is moved over client.keys.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { formatConfigMessage, quoteValue } from '../config/errors.js';
import { unsafeFileAt, unsafeFileMessage } from '../security.js';

export interface AgentKey {
  id: string;
  name: string;
  ip: string;
  key: string;
}

/** A client.keys problem. Messages never contain the key itself. */
export class KeysError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(message);
    this.name = 'KeysError';
  }
}

const KEYS_FILE_MODE = 0o640;
const KEYS_DIR_MODE = 0o750;

/** OS_IsValidID: digits only, at most 8 of them (Wazuh ids are "001", "002", ...). */
export function isValidAgentId(id: string): boolean {
  return /^[0-9]{1,8}$/.test(id);
}

/** OS_IsValidName: 2-128 characters of [A-Za-z0-9._-], not starting with '.'. Wazuh applies it to keys too. */
export function isValidAgentName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{1,127}$/.test(name);
}

const IPV4_NETMASK_BITS = /^(?:3[0-2]|[12]?[0-9])$/;
const IPV6_PREFIX_BITS = /^(?:12[0-8]|1[01][0-9]|[0-9]?[0-9])$/;

/** OS_IsValidIP as used for keys: "any", IPv4[/bits|/netmask], IPv6[/prefix] (IPv4-mapped IPv6 counts as IPv4). */
export function isValidAgentIp(ip: string): boolean {
  if (ip === 'any') return true;
  const slash = ip.indexOf('/');
  const address = slash < 0 ? ip : ip.slice(0, slash);
  const suffix = slash < 0 ? undefined : ip.slice(slash + 1);
  const mapped = /^::ffff:/i.test(address) ? address.slice(7) : undefined;
  if (net.isIPv4(mapped ?? address)) {
    return suffix === undefined || IPV4_NETMASK_BITS.test(suffix) || net.isIPv4(suffix);
  }
  // Wazuh's IPv6 patterns are plain hex groups: no zone id, no embedded dotted quad.
  if (/^[0-9A-Fa-f:]+$/.test(address) && net.isIPv6(address)) {
    return suffix === undefined || IPV6_PREFIX_BITS.test(suffix);
  }
  return false;
}

/** What is wrong with an entry, in words that never include the key; undefined when it is valid. */
export function agentKeyProblem(k: AgentKey): string | undefined {
  if (!isValidAgentId(k.id)) return `agent id ${quoteValue(k.id)} is not 1-8 digits`;
  if (!isValidAgentName(k.name)) {
    return `agent name ${quoteValue(k.name)} is not valid (2-128 characters of letters, digits, '.', '_', '-', not starting with '.')`;
  }
  if (!isValidAgentIp(k.ip)) return `agent IP ${quoteValue(k.ip)} is not 'any', an IP address or a network`;
  if (!isValidAgentName(k.key)) return 'the key is not 2-128 characters of letters, digits, \'.\', \'_\', \'-\'';
  return undefined;
}

/** Wazuh's key hash (keys.c w_get_key_hash): sha1 hex of id, name and key concatenated. */
export function agentKeyHash(k: AgentKey): string {
  return crypto.createHash('sha1').update(k.id + k.name + k.key).digest('hex');
}

/** A client.keys text as the agent reads it. */
export interface ClientKeys {
  /** The valid entries, in file order. */
  entries: AgentKey[];
  /** One per malformed line, which is skipped; the message names file and line, never the key. */
  problems: KeysError[];
}

/** "(1401): Error reading authentication key: <problem>. File <file>, line <n>." (one line). */
function lineProblem(problem: string, file: string | undefined, line: number): KeysError {
  const where = file ?? 'client.keys';
  return new KeysError(formatConfigMessage(`(1401): Error reading authentication key: ${problem}`, { file: where, line }), where, line);
}

/** Reads a client.keys text: valid entries, and a problem for each malformed line. */
export function parseClientKeys(text: string, file?: string): ClientKeys {
  const entries: AgentKey[] = [];
  const problems: KeysError[] = [];
  // A trailing "\r" is taken as part of the line ending: Wazuh would keep it in the key, which
  // could never match the manager's copy.
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line === '' || line.startsWith('#') || line.startsWith(' ')) return;
    const firstSpace = line.indexOf(' ');
    const name = firstSpace < 0 ? '' : line.slice(firstSpace + 1);
    if (name.startsWith('#') || name.startsWith('!')) return; // removed agent
    const fields = line.split(' ');
    if (fields.length < 4) {
      problems.push(lineProblem(`expected "<id> <name> <ip> <key>", found ${fields.length} field(s)`, file, lineNo));
      return;
    }
    const entry: AgentKey = { id: fields[0], name: fields[1], ip: fields[2], key: fields.slice(3).join(' ') };
    const problem = agentKeyProblem(entry);
    if (problem) problems.push(lineProblem(problem, file, lineNo));
    else entries.push(entry);
  });
  return { entries, problems };
}

/** The client.keys line for an entry, without the newline; throws KeysError for an invalid entry. */
export function formatKeyLine(k: AgentKey): string {
  const problem = agentKeyProblem(k);
  if (problem) throw new KeysError(`invalid agent key entry: ${problem}`);
  return `${k.id} ${k.name} ${k.ip} ${k.key}`;
}

/**
 * The file's entries and problems; none of either when it does not exist. Throws KeysError when it
 * cannot be read, or when another user could have changed it (see security.ts).
 */
export function readClientKeys(file: string): ClientKeys {
  const unsafe = unsafeFileAt(file);
  if (unsafe) throw new KeysError(unsafeFileMessage(file, unsafe), file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], problems: [] };
    throw new KeysError(`cannot read ${file}: ${(err as Error).message}`, file);
  }
  return parseClientKeys(text, file);
}

/** The agent's key: the first valid entry of the file; undefined when the file is missing or has none. */
export function readAgentKey(file: string): AgentKey | undefined {
  return readClientKeys(file).entries[0];
}

/**
 * Replaces `file` with the single line for `key`, atomically: a temporary file in the same
 * directory (mode 0640) is written and fsync'ed, renamed over the target, and the directory is
 * fsync'ed so the rename survives a crash. The parent directory is created (0750) if missing.
 */
export function writeAgentKey(file: string, key: AgentKey): void {
  const content = `${formatKeyLine(key)}\n`;
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: KEYS_DIR_MODE });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx', KEYS_FILE_MODE);
    try {
      fs.fchmodSync(fd, KEYS_FILE_MODE); // the umask may have narrowed the mode given to open
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new KeysError(`cannot write ${file}: ${(err as Error).message}`, file);
  }
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

