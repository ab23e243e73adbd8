// The text of Wazuh 4.x agent <-> manager messages (inside the secure codec). Pure functions.
// Formats follow Wazuh v4.14.7 (client-agent/start_agent.c, notify.c, buffer.c, receiver.c,
// request.c, shared/file_op.c getuname(), labels_op.c) and the frames in test/fixtures.

/** Prefix of control messages (rc.h CONTROL_HEADER). */
export const CONTROL = '#!-';
/** Queue character of agent log lines (LOCALFILE_MQ) and of FIM events (SYSCHECK_MQ). */
export const LOCALFILE_QUEUE = '1';
export const SYSCHECK_QUEUE = '8';
/** Queue of the FIM integrity synchronization messages (DBSYNC_MQ). */
export const DBSYNC_QUEUE = '5';
/** What a keepalive says when no merged.mg has been received (notify.c). */
const NO_MERGED_HASH = 'x';

export const DEFAULT_REPORTED_VERSION = 'v4.14.7';

export function startupMessage(version: string): string {
  return `${CONTROL}agent startup ${JSON.stringify({ version })}`;
}

export function shutdownMessage(): string {
  return `${CONTROL}agent shutdown `;
}

/** `1:wazuh-agent:ossec: Agent started: '<name>-><ip>'.`, sent once after the first handshake. */
export function agentStartedMessage(name: string, ip: string): string {
  return eventMessage(LOCALFILE_QUEUE, 'wazuh-agent', `ossec: Agent started: '${name}->${ip}'.`);
}

/** `<queue>:<location>:<payload>`: how every event travels. */
export function eventMessage(queue: string, location: string, payload: string): string {
  return `${queue}:${location}:${payload}`;
}

export type BufferState = 'warning' | 'full' | 'flooded' | 'normal';

/** The agent's buffer alerts for the manager (buffer.c; rules 202-205 turn them into alerts). */
export function bufferStateMessage(state: BufferState, warnLevel: number): string {
  const value = state === 'warning' ? `${warnLevel}%` : state;
  return eventMessage(LOCALFILE_QUEUE, 'wazuh-agent', `wazuh: Agent buffer: '${value}'.`);
}

/**
 * The spool dropped its oldest events to stay within its size: reported in the agent-buffer shape
 * so the manager's wazuh decoder reads level 'full' (rule 203, "Events may be lost"), which is
 * what happened; the rest of the line says how many.
 */
export function spoolOverflowMessage(dropped: number): string {
  return eventMessage(LOCALFILE_QUEUE, 'wazuh-bpf-agent', `wazuh: Agent buffer: 'full'. Spool limit reached: ${dropped} oldest events dropped.`);
}

/**
 * The agent's disk in the same shape: 'full' when it stops taking writes (rule 203: events wait in
 * memory, a crash would lose them), 'flooded' once memory is full too and events are refused (204),
 * 'normal' when space is back (205). The rest of the line says what happened.
 */
export function diskStateMessage(state: 'full' | 'flooded' | 'normal', reason = ''): string {
  const what = { full: `Disk full (${reason}): events wait in memory.`, flooded: 'Disk full and memory queue full: events are refused.', normal: 'Disk space available again.' };
  return eventMessage(LOCALFILE_QUEUE, 'wazuh-bpf-agent', `wazuh: Agent buffer: '${state}'. ${what[state]}`);
}

export interface HostInfo {
  sysname: string;
  nodename: string;
  release: string;
  /** The kernel's build string (uname -v). */
  version: string;
  machine: string;
  os: OsRelease | undefined;
}

export interface OsRelease {
  name: string;
  platform: string;
  version: string;
}

/**
 * Reads /etc/os-release as Wazuh's get_unix_version() does: the first NAME, VERSION (or
 * VERSION_ID when there is no VERSION), ID; surrounding double quotes removed.
 */
export function parseOsRelease(text: string): OsRelease | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const tag = line.slice(0, eq);
    if (fields.has(tag)) continue;
    let value = line.slice(eq + 1);
    if (tag === 'ID') value = value.split(' ')[0]!;
    if (value.startsWith('"')) {
      const end = value.indexOf('"', 1);
      value = end > 0 ? value.slice(1, end) : value.slice(1);
    }
    fields.set(tag, value);
  }
  const name = fields.get('NAME');
  const platform = fields.get('ID');
  const version = fields.get('VERSION') ?? fields.get('VERSION_ID');
  if (name === undefined || platform === undefined || version === undefined) return undefined;
  return { name, platform, version };
}

/** The uname part of a keepalive (file_op.c getuname()). `wazuhVersion` like "v4.14.7". */
export function unameLine(host: HostInfo, wazuhVersion: string): string {
  if (host.os) {
    return `${host.sysname} |${host.nodename} |${host.release} |${host.version} |${host.machine} ` +
      `[${host.os.name}|${host.os.platform}: ${host.os.version}] - Wazuh ${wazuhVersion}`;
  }
  return `${host.sysname} ${host.nodename} ${host.release} ${host.version} ${host.machine} - Wazuh ${wazuhVersion}`;
}

export interface KeepaliveLabel {
  key: string;
  value: string;
  hidden: boolean;
}

export interface Keepalive {
  uname: string;
  /** md5 of shared/agent.conf when that file exists. */
  agentConfMd5?: string;
  labels: KeepaliveLabel[];
  /** md5 of shared/merged.mg; undefined: none received yet. */
  mergedMd5?: string;
  /** The agent's address on the manager connection. */
  agentIp?: string;
}

/**
 * The keepalive (notify.c run_notify):
 *   #!-<uname>[ / <agent.conf md5>]\n<labels: [!]"key":value\n ...><merged md5> merged.mg\n[#"_agent_ip":<ip>\n]
 * remoted refuses a keepalive without the newline after the merged.mg line.
 */
export function keepaliveMessage(k: Keepalive): string {
  const head = k.agentConfMd5 ? `${k.uname} / ${k.agentConfMd5}` : k.uname;
  const labels = k.labels.map((l) => `${l.hidden ? '!' : ''}"${l.key}":${l.value}\n`).join('');
  const ip = k.agentIp ? `#"_agent_ip":${k.agentIp}\n` : '';
  return `${CONTROL}${head}\n${labels}${k.mergedMd5 ?? NO_MERGED_HASH} merged.mg\n${ip}`;
}

/** An answer to a manager request (`#!-req <counter> ...`) this agent cannot serve. */
export function requestErrorMessage(counter: string, reason: string): string {
  return `${CONTROL}req ${counter} err ${reason}`;
}

export type ManagerMessage =
  | { kind: 'ack' }
  | { kind: 'file-open'; md5: string; name: string }
  | { kind: 'file-close' }
  | { kind: 'force-reconnect' }
  | { kind: 'request'; counter: string; target: string; payload: string }
  | { kind: 'request-ack'; counter: string }
  | { kind: 'error'; message: string }
  | { kind: 'fim-sync'; component: string; payload: string }
  | { kind: 'control'; text: string }
  /** Not a control message: a chunk of the file being pushed, if one is open. */
  | { kind: 'data'; bytes: Buffer };

const FIM_SYNC_PREFIXES = ['syscheck ', 'fim_file ', 'fim_registry ', 'fim_registry_key ', 'fim_registry_value '];

/** Classifies a decrypted manager message (receiver.c receive_msg). */
export function classifyManagerMessage(msg: Buffer): ManagerMessage {
  if (msg.length < 3 || msg.toString('latin1', 0, 3) !== CONTROL) return { kind: 'data', bytes: msg };
  const text = msg.toString('utf8', 3);
  if (text === 'agent ack ') return { kind: 'ack' };
  if (text.startsWith('force_reconnect')) return { kind: 'force-reconnect' };
  if (text.startsWith('close file ')) return { kind: 'file-close' };
  if (text.startsWith('up file ')) {
    const rest = text.slice('up file '.length);
    const sp = rest.indexOf(' ');
    if (sp > 0) {
      const name = rest.slice(sp + 1).split('\n')[0]!;
      return { kind: 'file-open', md5: rest.slice(0, sp), name };
    }
    return { kind: 'control', text };
  }
  if (text.startsWith('err ')) {
    let message = text.slice(4);
    try {
      const parsed = JSON.parse(text.slice(text.indexOf('{'))) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not JSON: keep the raw text
    }
    return { kind: 'error', message };
  }
  if (text.startsWith('req ')) {
    const [counter = '', target = '', ...rest] = text.slice(4).split(' ');
    if (target === 'ack') return { kind: 'request-ack', counter };
    return { kind: 'request', counter, target, payload: rest.join(' ') };
  }
  const sync = FIM_SYNC_PREFIXES.find((p) => text.startsWith(p));
  if (sync) return { kind: 'fim-sync', component: sync.trim(), payload: text.slice(sync.length) };
  return { kind: 'control', text };
}

/**
 * The name a pushed file is stored under (receiver.c): '/' becomes '-', a leading '.' becomes
 * '-', anything after a newline is dropped; names referring to a parent folder are refused.
 */
export function sharedFileName(name: string): string | undefined {
  const first = name.split('\n')[0]!;
  if (first === '' || first.split('/').includes('..')) return undefined;
  const flat = first.replaceAll('/', '-');
  return flat.startsWith('.') ? `-${flat.slice(1)}` : flat;
}

export interface MergedEntry {
  name: string;
  content: Buffer;
}

/**
 * Splits merged.mg: `!<size> <name>\n<content>` repeated; other lines between entries (such as the
 * leading `#<group>` line) are skipped, as file_op.c UnmergeFiles does.
 */
export function parseMergedFile(data: Buffer): MergedEntry[] {
  const entries: MergedEntry[] = [];
  let pos = 0;
  while (pos < data.length) {
    let nl = data.indexOf(0x0a, pos);
    if (nl < 0) nl = data.length;
    if (data[pos] !== 0x21 /* '!' */) {
      pos = nl + 1;
      continue;
    }
    const header = data.toString('utf8', pos + 1, nl);
    const m = /^(\d+) (.+)$/.exec(header);
    if (!m) throw new Error(`merged.mg: bad entry header '${header.slice(0, 80)}'`);
    const size = Number(m[1]);
    const start = nl + 1;
    if (start + size > data.length) throw new Error(`merged.mg: entry '${m[2]}' is truncated`);
    entries.push({ name: m[2]!, content: data.subarray(start, start + size) });
    pos = start + size;
  }
  return entries;
}
