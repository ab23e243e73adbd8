// Helpers shared by the section readers: dispatching child elements, and reading one option value
// with Wazuh's validation (yes/no, integers in a range, time spans, host names).
import net from 'node:net';
import { ConfigError, formatConfigMessage, quoteValue } from './errors.js';
import type { XmlElement } from './xml.js';

/** What a section reader needs besides the elements: where they come from, and where to warn. */
export interface ReadContext {
  readonly file: string;
  /** Collected warnings, already formatted (see errors.ts). */
  readonly warnings: string[];
}

/** An element together with its path below <ossec_config>, e.g. ['client', 'server', 'port']. */
export interface OptionNode {
  readonly el: XmlElement;
  readonly path: readonly string[];
}

/** Largest value of a C `int`: Wazuh stores these options with atoi(). */
export const INT_MAX = 2147483647;

export function fail(ctx: ReadContext, node: OptionNode, reason: string): never {
  throw new ConfigError(reason, { file: ctx.file, line: node.el.line, path: node.path });
}

export function warn(ctx: ReadContext, node: OptionNode, reason: string): void {
  ctx.warnings.push(formatConfigMessage(reason, { file: ctx.file, line: node.el.line, path: node.path }));
}

export function invalidValue(ctx: ReadContext, node: OptionNode, value: string, expected: string): never {
  fail(ctx, node, `Invalid value for element '${node.el.name}': ${quoteValue(value)} (${expected})`);
}

export type OptionHandlers = Record<string, (node: OptionNode) => void>;

/**
 * Calls the handler named after each child element, in document order. Like Wazuh, an element
 * no handler knows is an error ("Invalid element in the configuration").
 */
export function forEachOption(ctx: ReadContext, parent: OptionNode, handlers: OptionHandlers): void {
  for (const el of parent.el.children) {
    const node = { el, path: [...parent.path, el.name] };
    const handler = Object.hasOwn(handlers, el.name) ? handlers[el.name] : undefined;
    if (!handler) fail(ctx, node, `Invalid element in the configuration: '${el.name}'`);
    handler(node);
  }
}

/** The element's text; it must be a plain value, not a block of child elements. May be empty. */
export function leafText(ctx: ReadContext, node: OptionNode): string {
  if (node.el.children.length > 0) {
    fail(ctx, node, `Element '${node.el.name}' takes a value, not child elements`);
  }
  return node.el.text;
}

/** The element's text, which must not be empty. */
export function requiredText(ctx: ReadContext, node: OptionNode): string {
  const text = leafText(ctx, node);
  if (text === '') fail(ctx, node, `Empty value for element '${node.el.name}'`);
  return text;
}

/** Strict `yes` / `no`, as everywhere in Wazuh. */
export function parseYesNo(ctx: ReadContext, node: OptionNode): boolean {
  const text = requiredText(ctx, node);
  if (text === 'yes') return true;
  if (text === 'no') return false;
  invalidValue(ctx, node, text, 'must be yes or no');
}

/** Digits only (Wazuh's OS_StrIsNum: no sign, no spaces inside), within [min, max]. */
export function parseInteger(ctx: ReadContext, node: OptionNode, min: number, max: number): number {
  const text = requiredText(ctx, node);
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) invalidValue(ctx, node, text, `must be ${min}-${max}`);
  return value;
}

export function parsePort(ctx: ReadContext, node: OptionNode): number {
  return parseInteger(ctx, node, 1, 65535);
}

const TIME_UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Seconds from a Wazuh time span (w_parse_time in shared/string_op.c): a number with an optional
 * unit s, m, h, d or w. Undefined when the text is not one.
 */
export function parseTimeSpan(text: string): number | undefined {
  const match = /^([0-9]+)([smhdw]?)$/.exec(text);
  if (!match) return undefined;
  const seconds = Number(match[1]) * TIME_UNIT_SECONDS[match[2]!]!;
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}

/**
 * A manager address: an IP or a host name. Wazuh accepts any text without '/' as a host name;
 * we also refuse white space, which no resolvable name contains.
 */
export function parseHost(ctx: ReadContext, node: OptionNode): string {
  const text = requiredText(ctx, node);
  if (net.isIP(text) === 0 && /[/\s]/.test(text)) fail(ctx, node, `Invalid hostname: ${quoteValue(text)}`);
  return text;
}

export function parseIp(ctx: ReadContext, node: OptionNode): string {
  const text = requiredText(ctx, node);
  if (net.isIP(text) === 0) fail(ctx, node, `Invalid IP address: ${quoteValue(text)}`);
  return text;
}
