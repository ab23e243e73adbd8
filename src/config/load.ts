// Reads ossec.conf into an AgentConfig. The file may hold several <ossec_config> blocks; each
// top-level section goes to the reader registered for it, or, for the sections Wazuh knows but
// this agent does not implement, to one "ignored" warning per section name.
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { DEFAULT_VERIFY_MSG_ID, readClient, readClientBuffer, readLabels } from './client.js';
import { unsafeFileAt } from '../security.js';
import { ConfigError, formatConfigMessage } from './errors.js';
import { DEFAULT_FILE_MAX_SIZE_MB, readSyscheck } from './syscheck.js';
import { internalInt } from './internal-options.js';
import type { AgentConfig } from './types.js';
import { fail, type ReadContext } from './values.js';
import { parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

interface SectionReader<T> {
  /** Element name under <ossec_config>. */
  section: string;
  /** Receives every block of that section in file order (none if the file has none). */
  read(blocks: readonly XmlElement[], ctx: ReadContext): T;
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
  syscheck: { section: 'syscheck', read: (blocks, ctx) => readSyscheck(blocks, ctx) },
};

const READER_BY_SECTION = new Map<string, SectionKey>(
  (Object.keys(SECTION_READERS) as SectionKey[]).map((key) => [SECTION_READERS[key].section, key]),
);

/**
 * Every section Wazuh 4.14.7 accepts under <ossec_config> (read_main_elements, config/config.c:18-315).
 * Those without a registered reader are ignored with a warning; any other name is an error, as in Wazuh.
 */
const WAZUH_SECTIONS = new Set([
  'active-response', 'agent-upgrade', 'agentless', 'alerts', 'anti_tampering', 'auth', 'client', 'client_buffer',
  'cluster', 'command', 'database_output', 'email_alerts', 'fluent-forward', 'gcp-bucket', 'gcp-pubsub', 'github',
  'global', 'indexer', 'integration', 'labels', 'localfile', 'logging', 'ms-graph', 'office365', 'remote', 'reports',
  'rootcheck', 'rule_test', 'ruleset', 'sca', 'socket', 'syscheck', 'syslog_output', 'task-manager',
  'vulnerability-detection', 'vulnerability-detector', 'wdb', 'wodle',
]);

const ROOT = 'ossec_config';

function syntaxError(e: XmlSyntaxError, file: string): ConfigError {
  const elementPath = e.path[0] === ROOT ? e.path.slice(1) : e.path;
  return new ConfigError(`XML syntax error: ${e.reason}`, { file, line: e.line, column: e.column, path: elementPath });
}

/** Parses ossec.conf text; `file` is only used in messages and copied to the result. */
export function parseAgentConfig(text: string, file: string): AgentConfig {
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
    if (root.name !== ROOT) fail(ctx, { el: root, path: [root.name] }, `Invalid element in the configuration: '${root.name}'`);
    for (const section of root.children) {
      const node = { el: section, path: [section.name] };
      if (READER_BY_SECTION.has(section.name)) {
        const blocks = blocksBySection.get(section.name) ?? [];
        blocks.push(section);
        blocksBySection.set(section.name, blocks);
      } else if (!WAZUH_SECTIONS.has(section.name)) {
        fail(ctx, node, `Invalid element in the configuration: '${section.name}'`);
      } else if (!ignoredSections.has(section.name)) {
        ignoredSections.add(section.name);
        ctx.warnings.push(formatConfigMessage(`Section <${section.name}> is not used by wazuh-bpf-agent; ignored`,
          { file, line: section.line }));
      }
    }
  }

  const sections = Object.fromEntries((Object.keys(SECTION_READERS) as SectionKey[]).map((key) => {
    const reader = SECTION_READERS[key];
    return [key, reader.read(blocksBySection.get(reader.section) ?? [], ctx)];
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
