// Reads ossec.conf into an AgentConfig. The file may hold several <ossec_config> blocks; each
// top-level section goes to the reader registered for it, or, for the sections Wazuh knows but
// this agent does not implement, to one "ignored" remark (INFO) per section name. What makes
// Wazuh's ReadConfig fail for every daemon (config/config.c:18-315, 318-505: a root other than
// <ossec_config>, a section it does not know, one of the sections it only takes with child
// elements written without any) stops wazuh-agentd: here it is a ConfigError, in Wazuh's words.
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { DEFAULT_VERIFY_MSG_ID, readClient, readClientBuffer, readLabels } from './client.js';
import { unsafeFileAt } from '../security.js';
import { ConfigError } from './errors.js';
import { DEFAULT_FILE_MAX_SIZE_MB, REAL_HOST, readSyscheck, type SyscheckHost } from './syscheck.js';
import { internalInt } from './internal-options.js';
import type { AgentConfig } from './types.js';
import { fail, note, type ReadContext } from './values.js';
import { invalidElement } from './wazuh-messages.js';
import { parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

interface SectionReader<T> {
  /** Element name under <ossec_config>. */
  section: string;
  /** Receives every block of that section in file order (none if the file has none). */
  read(blocks: readonly XmlElement[], ctx: ReadContext, host: SyscheckHost): T;
}

type SectionKey = Exclude<keyof AgentConfig, 'file' | 'warnings'>;

/**
 * The sections this agent implements, one per AgentConfig field: adding a field to AgentConfig
 * (e.g. `syscheck`) does not compile until its reader is registered here.
 */
const SECTION_READERS: { [K in SectionKey]: SectionReader<AgentConfig[K]> } = {
  client: { section: 'client', read: readClient },
  clientBuffer: { section: 'client_buffer', read: readClientBuffer },
  labels: { section: 'labels', read: readLabels },
  syscheck: { section: 'syscheck', read: readSyscheck },
};

const READER_BY_SECTION = new Map<string, SectionKey>(
  (Object.keys(SECTION_READERS) as SectionKey[]).map((key) => [SECTION_READERS[key].section, key]),
);

/**
 * Every section Wazuh 4.14.7 accepts under <ossec_config> (read_main_elements, config/config.c:18-315).
 * Those without a registered reader are ignored with a remark; any other name is an error, as in Wazuh.
 */
const WAZUH_SECTIONS = new Set([
  'active-response', 'agent-upgrade', 'agentless', 'alerts', 'anti_tampering', 'auth', 'client', 'client_buffer',
  'cluster', 'command', 'database_output', 'email_alerts', 'fluent-forward', 'gcp-bucket', 'gcp-pubsub', 'github',
  'global', 'indexer', 'integration', 'labels', 'localfile', 'logging', 'ms-graph', 'office365', 'remote', 'reports',
  'rootcheck', 'rule_test', 'ruleset', 'sca', 'socket', 'syscheck', 'syslog_output', 'task-manager',
  'vulnerability-detection', 'vulnerability-detector', 'wdb', 'wodle',
]);

/**
 * The sections read_main_elements only takes with child elements (`chld_node && strcmp(...)`,
 * config/config.c:82-288): written empty (`<client></client>`, `<labels/>`), they fall through to
 * the final `else`: (1230) and the file refused. The others may be empty.
 */
const SECTIONS_NEEDING_CHILDREN = new Set([
  'active-response', 'agent-upgrade', 'agentless', 'alerts', 'anti_tampering', 'client', 'cluster', 'command',
  'database_output', 'email_alerts', 'github', 'global', 'integration', 'labels', 'localfile', 'ms-graph', 'office365',
  'remote', 'reports', 'rule_test', 'ruleset', 'socket', 'syslog_output', 'task-manager', 'wdb',
]);

const ROOT = 'ossec_config';

function syntaxError(e: XmlSyntaxError, file: string): ConfigError {
  const elementPath = e.path[0] === ROOT ? e.path.slice(1) : e.path;
  return new ConfigError(`XML syntax error: ${e.reason}`, { file, line: e.line, column: e.column, path: elementPath });
}

/**
 * Parses ossec.conf text; `file` is only used in messages and copied to the result. `host` gives
 * what <syscheck> reads from the machine (environment variables, whether prefilter_cmd exists).
 */
export function parseAgentConfig(text: string, file: string, host: SyscheckHost = REAL_HOST): AgentConfig {
  let roots: XmlElement[];
  try {
    roots = parseXml(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw syntaxError(e, file);
    throw e;
  }

  const ctx: ReadContext = { file, warnings: [] };
  const blocksBySection = new Map<string, XmlElement[]>();
  const ignoredSections = new Set<string>();
  for (const root of roots) {
    // ReadConfig, config/config.c:498-503
    if (root.name !== ROOT) fail(ctx, { el: root, path: [root.name] }, invalidElement(root.name));
    for (const section of root.children) {
      const node = { el: section, path: [section.name] };
      if (SECTIONS_NEEDING_CHILDREN.has(section.name) && section.children.length === 0) {
        fail(ctx, node, invalidElement(section.name)); // config/config.c:295-297
      } else if (READER_BY_SECTION.has(section.name)) {
        const blocks = blocksBySection.get(section.name) ?? [];
        blocks.push(section);
        blocksBySection.set(section.name, blocks);
      } else if (!WAZUH_SECTIONS.has(section.name)) {
        fail(ctx, node, invalidElement(section.name)); // config/config.c:295-297
      } else if (!ignoredSections.has(section.name)) {
        ignoredSections.add(section.name);
        note(ctx, { el: section, path: [] }, `Section <${section.name}> is not used by wazuh-bpf-agent; ignored`);
      }
    }
  }

  const sections = Object.fromEntries((Object.keys(SECTION_READERS) as SectionKey[]).map((key) => {
    const reader = SECTION_READERS[key];
    return [key, reader.read(blocksBySection.get(reader.section) ?? [], ctx, host)];
  })) as { [K in SectionKey]: AgentConfig[K] };
  return { file, ...sections, warnings: ctx.warnings };
}

function describeReadError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const description = typeof err.errno === 'number' ? util.getSystemErrorMap().get(err.errno)?.[1] : undefined;
  if (description !== undefined && err.code !== undefined) return `${description} (${err.code})`;
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

/**
 * Reads and parses the file; a file that cannot be read, or that another user could have changed
 * (see security.ts), is a ConfigError naming it.
 */
export function loadAgentConfig(file: string): AgentConfig {
  const absolute = path.resolve(file);
  const unsafe = unsafeFileAt(absolute);
  if (unsafe) {
    throw new ConfigError(`Unsafe permissions on the configuration file: ${unsafe.problem}; refusing to use it (fix: ${unsafe.fix})`, { file: absolute });
  }
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (e) {
    throw new ConfigError(`Cannot read the configuration file: ${describeReadError(e)}`, { file: absolute });
  }
  const config = parseAgentConfig(text, absolute);
  // syscheck.c: getDefine_Int("syscheck", "file_max_size", 0, 4095) MB
  config.syscheck.fileMaxSize = internalInt(path.dirname(absolute), 'syscheck', 'file_max_size', 0, 4095, DEFAULT_FILE_MAX_SIZE_MB) * 1024 * 1024;
  // msgs.c OS_StartCounter: getDefine_Int("remoted", "verify_msg_id", 0, 1)
  config.client.verifyManagerCounters = internalInt(path.dirname(absolute), 'remoted', 'verify_msg_id', 0, 1, DEFAULT_VERIFY_MSG_ID) === 1;
  return config;
}
