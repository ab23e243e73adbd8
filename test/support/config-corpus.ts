// The broken-config corpus: each file under test/fixtures/config/broken and the line and option
// its ConfigError must name. Shared by the parser tests and the CLI tests.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { FIXTURES } from './fixtures.js';
import { Rng } from './fuzz.js';

export const BROKEN = path.join(FIXTURES, 'config', 'broken');

/** Every file in test/fixtures/config/broken: the line and option its ConfigError must name. */
export const BROKEN_CONFIGS: { file: string; line: number | undefined; option: string | undefined; reason: RegExp }[] = [
  // XML syntax
  { file: 'xml-unclosed-tag.conf', line: 11, option: 'labels', reason: /mismatched closing tag <\/ossec_config>: expected <\/labels> \(opened at line 8\)/ },
  { file: 'xml-unclosed-at-eof.conf', line: 8, option: 'client_buffer', reason: /unclosed tag <client_buffer> opened at line 8/ },
  { file: 'xml-mismatched-tag.conf', line: 5, option: 'client.server.port', reason: /mismatched closing tag <\/prot>/ },
  { file: 'xml-unterminated-comment.conf', line: 6, option: 'client', reason: /unterminated comment/ },
  { file: 'xml-unquoted-attribute.conf', line: 8, option: 'labels.label', reason: /value of attribute 'key' of <label> must be quoted/ },
  { file: 'xml-duplicate-attribute.conf', line: 8, option: 'labels.label', reason: /duplicate attribute 'key' in <label>/ },
  { file: 'xml-text-outside-element.conf', line: 8, option: undefined, reason: /text outside an element/ },
  { file: 'xml-closing-without-opening.conf', line: 8, option: undefined, reason: /closing tag <\/ossec_config> has no matching opening tag/ },
  { file: 'xml-bad-element-name.conf', line: 4, option: 'client.server', reason: /invalid element name/ },
  // Structure
  { file: 'wrong-root.conf', line: 1, option: 'agent_config', reason: /Invalid element in the configuration: 'agent_config'/ },
  { file: 'unknown-section.conf', line: 8, option: 'sycheck', reason: /Invalid element in the configuration: 'sycheck'/ },
  { file: 'unknown-element-client.conf', line: 6, option: 'client.notify-time', reason: /Invalid element in the configuration: 'notify-time'/ },
  { file: 'unknown-element-enrollment.conf', line: 8, option: 'client.enrollment.agent-name', reason: /Invalid element .*'agent-name'/ },
  { file: 'value-with-child-elements.conf', line: 5, option: 'client.server.port', reason: /takes a value, not child elements/ },
  { file: 'no-server.conf', line: 2, option: 'client.server', reason: /No manager configured/ },
  { file: 'no-client-section.conf', line: undefined, option: 'client.server', reason: /No manager configured/ },
  { file: 'server-without-address.conf', line: 6, option: 'client.server.address', reason: /No <address> in this <server> block/ },
  // Values
  { file: 'protocol-unknown.conf', line: 6, option: 'client.server.protocol', reason: /^\(1235\): Invalid value for element 'protocol': sctp\. Must be tcp or udp$/ },
  { file: 'port-zero.conf', line: 5, option: 'client.server.port', reason: /^\(1235\): Invalid value for element 'port': 0\. Must be 1-65535$/ },
  { file: 'port-too-big.conf', line: 9, option: 'client.server.port', reason: /^\(1235\): Invalid value for element 'port': 70000\. Must be 1-65535$/ },
  { file: 'port-not-a-number.conf', line: 7, option: 'client.enrollment.port', reason: /^\(1235\): Invalid value for element 'port': abc\. Must be 1-65535$/ },
  { file: 'negative-notify-time.conf', line: 6, option: 'client.notify_time', reason: /^\(1235\): Invalid value for element 'notify_time': -10\. Must be 0-2147483647$/ },
  { file: 'max-retries-zero.conf', line: 5, option: 'client.server.max_retries', reason: /^\(1235\): Invalid value for element 'max_retries': 0\. Must be 1-2147483647$/ },
  { file: 'delay-after-enrollment-zero.conf', line: 7, option: 'client.enrollment.delay_after_enrollment', reason: /^\(1235\): Invalid value for element 'delay_after_enrollment': 0\. Must be 1-/ },
  { file: 'crypto-blowfish.conf', line: 6, option: 'client.crypto_method', reason: /'blowfish' is not supported by wazuh-bpf-agent, use aes/ },
  { file: 'bad-yes-no.conf', line: 6, option: 'client.auto_restart', reason: /^\(1235\): Invalid value for element 'auto_restart': true\. Must be yes or no$/ },
  { file: 'placeholder-address.conf', line: 4, option: 'client.server.address', reason: /Invalid server address found: 'MANAGER_IP'/ },
  { file: 'hostname-with-slash.conf', line: 4, option: 'client.server.address', reason: /Invalid hostname: 'wazuh.example.com\/24'/ },
  { file: 'server-ip-not-an-ip.conf', line: 3, option: 'client.server-ip', reason: /Invalid IP address: 'wazuh.example.com'/ },
  { file: 'queue-size-out-of-range.conf', line: 9, option: 'client_buffer.queue_size', reason: /^\(1235\): Invalid value for element 'queue_size': 100001\. Must be 1-100000$/ },
  { file: 'events-per-second-out-of-range.conf', line: 8, option: 'client_buffer.events_per_second', reason: /^\(1235\): Invalid value for element 'events_per_second': 1001\. Must be 1-1000$/ },
  { file: 'label-without-key.conf', line: 9, option: 'labels.label', reason: /Expected 'key' attribute for label/ },
  { file: 'label-hidden-not-yes-no.conf', line: 8, option: 'labels.label', reason: /attribute 'hidden': 'true' \(must be yes or no\)/ },
];

/** The ConfigError `parse` throws; fails the test when it throws nothing or something else. */
export function configErrorOf(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  return expect.fail('no ConfigError');
}

export interface MutationOptions {
  /** Mutations happen at points in [start, start + span). */
  start: number;
  span: number;
  /** What an insertion inserts. */
  pieces: string[];
  seed: number;
  /** How many mutated texts to parse (default 1,000). */
  count?: number;
  /** Each text gets 1 to this many mutations (default 1). */
  maxMutations?: number;
}

export interface MutationReport {
  parsed: number;
  rejected: number;
  /** Rejections whose ConfigError names a line, and an option. */
  withLine: number;
  withOption: number;
}

/** `<reason>. File <file>[, line <n>[, column <c>]][, option <a><b>].`: src/config/errors.ts. */
const CONFIG_MESSAGE = /^.+\. File (?<file>.+?)(?:, line (?<line>\d+)(?:, column \d+)?)?(?:, option (?<option>(?:<[^<>]+>)+))?\.$/;

/** Fails unless `e` is a ConfigError for `file` whose one-line message says what its fields say. */
function checkConfigError(e: unknown, file: string, lines: number): ConfigError {
  if (!(e instanceof ConfigError)) throw e;
  const m = CONFIG_MESSAGE.exec(e.message);
  if (!m || m.groups!.file !== file || e.file !== file || e.reason.trim() === '') throw new Error(`malformed ConfigError message: ${e.message}`);
  const line = m.groups!.line === undefined ? undefined : Number(m.groups!.line);
  const option = m.groups!.option?.slice(1, -1).split('><').join('.');
  if (line !== e.line || option !== e.option) throw new Error(`ConfigError message and fields disagree (line ${e.line}, option ${e.option}): ${e.message}`);
  if (line !== undefined && (line < 1 || line > lines)) throw new Error(`ConfigError names line ${line} of a ${lines}-line text: ${e.message}`);
  return e;
}

/**
 * Parses seeded mutations of `text` (pieces inserted, or up to 10 characters removed, at points
 * in [start, start + span)): each must parse, or throw a one-line ConfigError naming the file and,
 * when it gives them, a line of the text and an option that agree with its fields. Anything else
 * fails, showing the seed and the mutated text.
 */
export function parseMutations(text: string, o: MutationOptions): MutationReport {
  const rng = new Rng(o.seed);
  const report: MutationReport = { parsed: 0, rejected: 0, withLine: 0, withOption: 0 };
  for (let i = 0; i < (o.count ?? 1000); i++) {
    let mutated = text;
    for (let n = rng.between(1, o.maxMutations ?? 1); n > 0; n--) {
      const at = o.start + rng.int(Math.max(1, Math.min(o.span, mutated.length - o.start + 1)));
      mutated = rng.int(2) === 0
        ? mutated.slice(0, at) + rng.pick(o.pieces) + mutated.slice(at)
        : mutated.slice(0, at) + mutated.slice(at + 1 + rng.int(10));
    }
    try {
      parseAgentConfig(mutated, '/x.conf');
      report.parsed++;
    } catch (e) {
      let error: ConfigError;
      try {
        error = checkConfigError(e, '/x.conf', mutated.split('\n').length);
      } catch (bad) {
        throw new Error(`config mutation ${i} of seed ${o.seed}: ${String(bad)}\ninput: ${JSON.stringify(mutated)}`);
      }
      report.rejected++;
      if (error.line !== undefined) report.withLine++;
      if (error.option !== undefined) report.withOption++;
    }
  }
  return report;
}

/** XML syntax, Wazuh elements and values that readers check, odd characters and encodings. */
const FUZZ_PIECES = [
  '<', '>', '/', '"', "'", '=', '&', '&amp;', '&#0;', '&#x110000;', '\n', '\r\n', '\t', '\u0000', '\ufffd', '\u00e9', 'x', '0', '-1',
  '99999999999999999999', 'yes', 'no', '<!--', '-->', '<![CDATA[', ']]>', '<?xml version="1.0"?>', '<ossec_config>',
  '</ossec_config>', '<client>', '</client>', '<server>', '</server>', '<port>', '<address>', '<enrollment>', '<syscheck>',
  '</syscheck>', '<directories realtime="yes">', '</directories>', ' check_all="maybe"', ' recursion_level="999"', '<label key="k">',
];

/**
 * The config fuzz (test/unit/fuzz-config.test.ts, in a worker): `perFile` texts for each good
 * fixture, with 1-3 mutations anywhere in the file.
 */
export function fuzzGoodConfigs({ seed, perFile }: { seed: number; perFile: number }): Record<string, MutationReport> {
  const good = path.join(FIXTURES, 'config', 'good');
  return Object.fromEntries(fs.readdirSync(good).sort().map((name, i) => {
    const text = fs.readFileSync(path.join(good, name), 'utf8');
    parseAgentConfig(text, '/x.conf'); // the unmutated text is valid: every rejection comes from a mutation
    return [name, parseMutations(text, { start: 0, span: text.length, pieces: FUZZ_PIECES, seed: seed + i, count: perFile, maxMutations: 3 })];
  }));
}
