// The "analysis step" of the in-process test manager: a pure model of what wazuh-analysisd 4.14.7
// (stock ruleset) writes to alerts.json for the agent messages this project sends.
//
// Facts come from the Wazuh 4.14.7 source; paths below are relative to its root:
//   src/analysisd/cleanevent.c          OS_CleanMSG: "<queue>:<location>:<log>" split
//   src/analysisd/analysisd.c           queue '8' (SYSCHECK_MQ) + log starting with '{' -> decode_fim_event
//   src/analysisd/decoders/syscheck.c   decode_fim_event / fim_process_alert / fim_generate_alert
//                                       / fim_fetch_attributes_state / fim_generate_comment
//   src/analysisd/format/to_json.c      the "syscheck" object of the alert (print_before_field, mtime, audit)
//   src/analysisd/format/json_extended.c  compliance groups (pci_dss_, gpg13_, ...) moved out of rule.groups
//   src/analysisd/rules_list.c          _OS_AddRule: sibling rules are tried by descending level
//   src/analysisd/fts.c, rules.c        <if_fts /> ("first time seen") for rule 501
//   ruleset/rules/0015-ossec_rules.xml, 0016-wazuh_rules.xml; ruleset/decoders/0200-ossec_decoders.xml,
//   0005-wazuh_decoders.xml
//
// Deliberate simplifications: per-alert state (timestamp, id, firedtimes, manager, agent.ip) and
// rule.mitre (needs the MITRE database) are not produced; mtime is rendered in UTC (the manager
// uses its local time zone); Windows-only data (registry entries, ACL perms, file attributes) is
// out of scope and registry events yield no alert; the CDB-list rule 99901 (0999-malicious-ioc-rules.xml,
// child of 550/554 for sha256 values in etc/lists/malicious-ioc/malware-hashes) is not modelled.

export interface TestRule {
  id: string;
  level: number;
  description: string;
  groups: string[];
  /** Compliance arrays, present when the rule has such groups (json_extended.c). */
  pci_dss?: string[];
  gpg13?: string[];
  gdpr?: string[];
  hipaa?: string[];
  nist_800_53?: string[];
  tsc?: string[];
}

export interface TestAlert {
  rule: TestRule;
  agent: { id: string; name: string };
  full_log: string;
  syscheck?: Record<string, unknown>;
  decoder: { parent?: string; name: string };
  data?: Record<string, string>;
  location: string;
}

/** Outcome of one agent message; messages the manager does not understand give undefined. */
export type Analysis =
  | { kind: 'alert'; alert: TestAlert }
  /** `8:syscheck:{"type":"scan_start"|"scan_end",...}`: only updates wazuh-db's scan info. */
  | { kind: 'fim_scan'; phase: 'start' | 'end'; timestamp?: number }
  /** `5:<component>:{...}` (DBSYNC_MQ, e.g. fim_file integrity_check_*): forwarded to wazuh-db. */
  | { kind: 'dbsync'; component: string; type?: string };

export interface AnalyzeOptions {
  /** The manager has never seen this agent start before (selects rule 501 over 503, see below). */
  firstConnection?: boolean;
}

type Obj = Record<string, unknown>;
type Agent = { id: string; name: string };

// ---------------------------------------------------------------------------------------------
// Rules. Groups are written as in the rule XML, prefixed by the enclosing <group name="...">.

const FIM_COMPLIANCE = 'pci_dss_11.5,gpg13_4.11,gdpr_II_5.1.f,hipaa_164.312.c.1,hipaa_164.312.c.2,' +
  'nist_800_53_SI.7,tsc_PI1.4,tsc_PI1.5,tsc_CC6.1,tsc_CC6.8,tsc_CC7.2,tsc_CC7.3';
const AGENT_START_COMPLIANCE = 'gpg13_10.1,gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_AU.6';

const RULES: Record<string, [level: number, description: string, groups: string]> = {
  // 0015-ossec_rules.xml (<group name="ossec,">), decoded_as syscheck_* (decoder names from syscheck.c).
  '550': [7, 'Integrity checksum changed.', `ossec,syscheck,syscheck_entry_modified,syscheck_file,${FIM_COMPLIANCE}`],
  '553': [7, 'File deleted.', `ossec,syscheck,syscheck_entry_deleted,syscheck_file,${FIM_COMPLIANCE}`],
  '554': [5, 'File added to the system.', `ossec,syscheck,syscheck_entry_added,syscheck_file,${FIM_COMPLIANCE}`],
  // 0015-ossec_rules.xml, children of 500 (decoded_as ossec), both <match>Agent started</match>.
  '501': [3, 'New wazuh agent connected.', `ossec,pci_dss_10.6.1,${AGENT_START_COMPLIANCE},tsc_CC7.2,tsc_CC7.3`],
  '503': [3, 'Wazuh agent started.', `ossec,pci_dss_10.6.1,pci_dss_10.2.6,${AGENT_START_COMPLIANCE},` +
    'nist_800_53_AU.14,nist_800_53_AU.5,tsc_CC7.2,tsc_CC7.3,tsc_CC6.8'],
  // 0016-wazuh_rules.xml (<group name="wazuh,">), children of 201 "^wazuh: Agent buffer: ".
  '202': [7, 'Agent event queue is $(level) full.', 'wazuh,agent_flooding,pci_dss_10.6.1,gdpr_IV_35.7.d'],
  '203': [9, 'Agent event queue is full. Events may be lost.', 'wazuh,agent_flooding,pci_dss_10.6.1,gdpr_IV_35.7.d'],
  '204': [12, 'Agent event queue is flooded. Check the agent configuration.', 'wazuh,agent_flooding,pci_dss_10.6.1,gdpr_IV_35.7.d'],
  '205': [3, 'Agent event queue is back to normal load.', 'wazuh,agent_flooding'],
};

const COMPLIANCE = ['pci_dss', 'gpg13', 'gdpr', 'hipaa', 'nist_800_53', 'tsc'] as const;

function rule(id: string, fields: Record<string, string> = {}): TestRule {
  const [level, description, groupList] = RULES[id];
  const out: TestRule = {
    id, level, groups: [],
    // $(field) in a description is replaced by the decoded field value.
    description: description.replace(/\$\((\w+)\)/g, (_, f: string) => fields[f] ?? ''),
  };
  for (const group of groupList.split(',')) {
    const kind = COMPLIANCE.find((c) => group.startsWith(`${c}_`));
    if (kind) (out[kind] ??= []).push(group.slice(kind.length + 1));
    else out.groups.push(group);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry points.

/** Analyses one decrypted agent message ("<queue>:<location>:<log>"). Never throws. */
export function analyze(agent: Agent, message: string, opts: AnalyzeOptions = {}): Analysis | undefined {
  try {
    return analyzeMessage({ id: agent.id, name: agent.name }, message, opts);
  } catch {
    return undefined;
  }
}

/** The alert for one agent message, or undefined when the manager would write none. */
export function alertFor(agent: Agent, message: string, opts: AnalyzeOptions = {}): TestAlert | undefined {
  const result = analyze(agent, message, opts);
  return result?.kind === 'alert' ? result.alert : undefined;
}

function analyzeMessage(agent: Agent, message: string, opts: AnalyzeOptions): Analysis | undefined {
  if (typeof message !== 'string' || message[1] !== ':') return undefined;
  // cleanevent.c: the location ends at the first ':' not escaped by '|'; "|x" unescapes to "x".
  let end = 2;
  while (end < message.length && message[end] !== ':') end += message[end] === '|' ? 2 : 1;
  if (end >= message.length) return undefined;
  const location = message.slice(2, end).replace(/\|(.)/gs, '$1');
  const log = message.slice(end + 1);

  switch (message[0]) {
    case '8': // SYSCHECK_MQ; only JSON (agents >= 3.11) is modelled, legacy checksums give undefined.
      return log.startsWith('{') ? fimEvent(agent, location, log) : undefined;
    case '5': { // DBSYNC_MQ
      const payload = parseObject(log);
      return payload && location ? { kind: 'dbsync', component: location, type: str(payload.type) } : undefined;
    }
    case '1': // LOCALFILE_MQ: goes through the XML decoders and rules.
      return ruleEvent(agent, location, log, opts);
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// "ossec: Agent started" and "wazuh: Agent buffer" (generic decoders + rules).

function ruleEvent(agent: Agent, location: string, log: string, opts: AnalyzeOptions): Analysis | undefined {
  const base = { agent, full_log: log };
  // Decoder "ossec" (prematch ^ossec: ), child "ossec-agent": prematch "^Agent started:",
  // regex "^ '(\S+)'" -> extra_data, <fts>name, location, extra_data</fts>. A child decoder is
  // reported as {parent, name} with the parent's name.
  if (log.startsWith('ossec: ') && log.includes('Agent started')) {
    const started = /^ossec: Agent started: '(\S+)'/.exec(log);
    // Rules 501 and 503 both match "Agent started" (same level, 501 first). 501 also has
    // <if_fts />: it fires only if the FTS key (decoder name + location "(name) ip->wazuh-agent"
    // + extra_data "name->ip") was never stored before in the manager's persistent FTS store
    // (queue/fts/fts-queue), i.e. on the first start ever seen for that agent name/address.
    // Without the ossec-agent child (no fts fields) the if_fts check fails, so 503 it is.
    const id = started && opts.firstConnection ? '501' : '503';
    const alert: TestAlert = { rule: rule(id), ...base, decoder: { name: 'ossec' }, location };
    if (started) {
      alert.decoder = { parent: 'ossec', name: 'ossec' };
      alert.data = { extra_data: started[1] };
    }
    return { kind: 'alert', alert };
  }
  // Decoder "wazuh" (prematch ^wazuh: ), child "agent-buffer": regex "^ '(\S+)'." -> level.
  // Children of 201 (level 0, no alert) are tried by descending level: 204 flooded, 203 full,
  // 202 "%" (any "NN%" from buffer.c's warn level), 205 normal.
  const buffer = /^wazuh: Agent buffer: '(\S+)'\./.exec(log);
  if (buffer) {
    const level = buffer[1];
    const id = level.includes('flooded') ? '204' : level.includes('full') ? '203'
      : level.includes('%') ? '202' : level.includes('normal') ? '205' : undefined;
    if (!id) return undefined;
    return {
      kind: 'alert',
      alert: { rule: rule(id, { level }), ...base, decoder: { parent: 'wazuh', name: 'wazuh' }, data: { level }, location },
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// FIM JSON events (decoders/syscheck.c + format/to_json.c).

const FIM_DECODERS = { added: ['554', 'syscheck_new_entry'], modified: ['550', 'syscheck_integrity_changed'], deleted: ['553', 'syscheck_deleted'] } as const;

/** Attribute values as analysisd keeps them (strings), for the new (after) or old (before) state. */
interface FimState { size?: string; perm?: string; uid?: string; gid?: string; uname?: string; gname?: string;
  mtime?: string; inode?: string; md5?: string; sha1?: string; sha256?: string; symlink?: string }

function fimEvent(agent: Agent, location: string, log: string): Analysis | undefined {
  const root = parseObject(log);
  if (!root) return undefined;
  // cJSON_GetObjectItem is case-insensitive.
  const type = str(getCI(root, 'type'));
  const data = getCI(root, 'data');
  if (type === undefined || data === undefined || data === null) return undefined;
  if (type === 'scan_start' || type === 'scan_end') {
    const ts = getCI(data as Obj, 'timestamp');
    return { kind: 'fim_scan', phase: type === 'scan_start' ? 'start' : 'end', timestamp: typeof ts === 'number' ? ts : undefined };
  }
  if (type !== 'event' || !isObject(data)) return undefined;

  // fim_process_alert: only keys with the expected JSON type are taken; the last duplicate wins.
  const path = str(data.path), mode = str(data.mode), event = str(data.type);
  const tags = str(data.tags), diff = str(data.content_changes);
  const chfields = Array.isArray(data.changed_attributes)
    ? data.changed_attributes.filter((a): a is string => typeof a === 'string').join(',') : undefined;
  const hardLinks = Array.isArray(data.hard_links) ? data.hard_links : undefined;
  const attributes = isObject(data.attributes) ? data.attributes : undefined;
  const oldAttributes = isObject(data.old_attributes) ? data.old_attributes : undefined;
  const audit = isObject(data.audit) ? data.audit : undefined;

  const entryType = attributes && str(getCI(attributes, 'type'));
  if (path === undefined || event === undefined || (entryType !== 'file' && entryType !== 'registry')) return undefined;
  if (!(event === 'added' || event === 'modified' || event === 'deleted')) return undefined;
  const [ruleId, decoderName] = FIM_DECODERS[event];

  const now = fimState(attributes ?? {}, true);
  const old = fimState(oldAttributes ?? {}, false);

  // full_log (fim_generate_alert); comment buffers hold 256 chars, "Changed attributes"/"Hard links" 255.
  const comments: string[] = [];
  if (event === 'modified') {
    const cmt = (fmt: (a: string, b: string) => string, a?: string, b?: string): string =>
      (a ?? '') === (b ?? '') ? '' : fmt(a ?? '', b ?? '').slice(0, 256);
    const perm = (old.perm ?? '') === (now.perm ?? '') ? ''
      : `Permissions changed from '${old.perm ?? ''}' to '${now.perm ?? ''}'\n`;
    comments.push(
      cmt((a, b) => `Size changed from '${a}' to '${b}'\n`, old.size, now.size),
      perm.length > 256 ? 'Permissions changed.\n' : perm,
      cmt((a, b) => `Ownership was '${a}', now it is '${b}'\n`, old.uid, now.uid),
      cmt((a, b) => `User name was '${a}', now it is '${b}'\n`, old.uname, now.uname),
      cmt((a, b) => `Group ownership was '${a}', now it is '${b}'\n`, old.gid, now.gid),
      cmt((a, b) => `Group name was '${a}', now it is '${b}'\n`, old.gname, now.gname),
      cmt((a, b) => `Old modification time was: '${a}', now it is '${b}'\n`, old.mtime, now.mtime),
      cmt((a, b) => `Old inode was: '${a}', now it is '${b}'\n`, old.inode, now.inode),
      cmt((a, b) => `Old md5sum was: '${a}'\nNew md5sum is : '${b}'\n`, old.md5, now.md5),
      cmt((a, b) => `Old sha1sum was: '${a}'\nNew sha1sum is : '${b}'\n`, old.sha1, now.sha1),
      cmt((a, b) => `Old sha256sum was: '${a}'\nNew sha256sum is : '${b}'\n`, old.sha256, now.sha256),
    );
  }
  const links = hardLinks?.filter((l): l is string => typeof l === 'string').join(',');
  const full_log =
    `File '${clipPath(path)}' ${event}\n` +
    (hardLinks ? `Hard links: ${links || '(null)'}\n`.slice(0, 255) : '') +
    `Mode: ${mode ?? '(null)'}\n` + // printf of a NULL string
    (chfields !== undefined ? `Changed attributes: ${chfields}\n`.slice(0, 255) : '') +
    comments.join('');

  // The alert's "syscheck" object (to_json.c), in its key order. *_before only when it differs.
  const sc: Obj = { path };
  if (hardLinks) sc.hard_links = hardLinks;
  if (mode !== undefined) sc.mode = mode;
  if (now.symlink) sc.symbolic_path = now.symlink;
  const pair = (name: string, before?: string, after?: string, conv: (v: string) => unknown = (v) => v): void => {
    if (before && (after === undefined || before !== after)) sc[`${name}_before`] = conv(before);
    if (after) sc[`${name}_after`] = conv(after);
  };
  pair('size', old.size, now.size);
  pair('perm', old.perm, now.perm);
  pair('uid', old.uid, now.uid);
  pair('gid', old.gid, now.gid);
  pair('md5', old.md5, now.md5);
  pair('sha1', old.sha1, now.sha1);
  pair('sha256', old.sha256, now.sha256);
  pair('uname', old.uname, now.uname);
  pair('gname', old.gname, now.gname);
  pair('mtime', old.mtime, now.mtime, isoSeconds);
  if (old.inode && (now.inode === undefined || old.inode !== now.inode)) sc.inode_before = atoi(old.inode);
  if (now.inode !== undefined && atoi(now.inode) !== 0) sc.inode_after = atoi(now.inode);
  if (diff !== undefined && diff !== '0') sc.diff = diff;
  const tagList = tags?.split(',').filter(Boolean);
  if (tagList?.length) sc.tags = tagList;
  const changed = chfields?.split(',').filter(Boolean);
  if (changed?.length) sc.changed_attributes = changed;
  sc.event = event;
  const auditObj = audit && fimAudit(audit);
  if (auditObj) sc.audit = auditObj;

  return {
    kind: 'alert',
    alert: { rule: rule(ruleId), agent, full_log, syscheck: sc, decoder: { name: decoderName }, location },
  };
}

/** fim_fetch_attributes_state: numbers are printed with "%ld"; inode may also be a string (>= 4.13). */
function fimState(attrs: Obj, isNew: boolean): FimState {
  const s: FimState = {};
  const strKeys: Record<string, keyof FimState> = { perm: 'perm', user_name: 'uname', group_name: 'gname', uid: 'uid',
    gid: 'gid', hash_md5: 'md5', hash_sha1: 'sha1', hash_sha256: 'sha256', inode: 'inode' };
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === 'number' && (key === 'size' || key === 'inode' || key === 'mtime')) s[key] = long(value);
    else if (typeof value === 'string' && key in strKeys) s[strKeys[key]] = value;
    else if (typeof value === 'string' && key === 'symlink_path' && isNew) s.symlink = value;
  }
  return s;
}

/** The whodata "audit" section: numbers only for process_id/ppid, strings for the rest, "" omitted. */
function fimAudit(audit: Obj): Obj | undefined {
  const v = (key: string, numeric = false): string | undefined => {
    const x = audit[key];
    return numeric ? (typeof x === 'number' ? long(x) : undefined) : str(x);
  };
  const section = (entries: [string, string | undefined][]): Obj | undefined => {
    const o = Object.fromEntries(entries.filter(([, x]) => x !== undefined && x !== ''));
    return Object.keys(o).length ? o : undefined;
  };
  const out = Object.entries({
    user: section([['id', v('user_id')], ['name', v('user_name')]]),
    process: section([['id', v('process_id', true)], ['name', v('process_name')], ['cwd', v('cwd')],
      ['parent_name', v('parent_name')], ['parent_cwd', v('parent_cwd')], ['ppid', v('ppid', true)]]),
    group: section([['id', v('group_id')], ['name', v('group_name')]]),
    login_user: section([['id', v('audit_uid')], ['name', v('audit_name')]]),
    effective_user: section([['id', v('effective_uid')], ['name', v('effective_name')]]),
  }).filter(([, o]) => o !== undefined);
  return out.length ? Object.fromEntries(out) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Small C-compatible helpers.

/** "%ld" of (long)double. */
function long(n: number): string {
  return BigInt(Math.trunc(n)).toString();
}

/** glibc atoi: (int)strtol(s, NULL, 10), strtol saturating at the 64-bit long range. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const max = (1n << 63n) - 1n;
  let v = BigInt(m[1]);
  v = v > max ? max : v < -max - 1n ? -max - 1n : v;
  return Number(BigInt.asIntN(32, v));
}

/** strftime(buf, 20, "%FT%T%z", localtime(atol(s))): the zone offset does not fit, seconds precision. */
function isoSeconds(s: string): string {
  const d = new Date(atoi64(s) * 1000);
  return Number.isFinite(d.getTime()) ? d.toISOString().slice(0, 19) : `Invalid: '${s}'`.slice(0, 23);
}

function atoi64(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** Paths longer than 756 bytes are shown as the first 719 bytes, " [...] ", the last 30 bytes. */
function clipPath(path: string): string {
  const b = Buffer.from(path);
  return b.length > 756 ? `${b.subarray(0, 719).toString()} [...] ${b.subarray(b.length - 30).toString()}` : path;
}

function parseObject(text: string): Obj | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function getCI(obj: Obj, key: string): unknown {
  if (!isObject(obj)) return undefined;
  const k = Object.keys(obj).find((name) => name.toLowerCase() === key);
  return k === undefined ? undefined : obj[k];
}
