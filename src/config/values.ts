// Helpers shared by the section readers: dispatching child elements, reading one option value
// with Wazuh's validation (yes/no, integers in a range, time spans, host names), and the C
// conversions Wazuh validates with (OS_StrIsNum, strtol, atoi: shared/string_op.c, libc), so that
// a value is good or bad here exactly where it is in Wazuh.
import net from 'node:net';
import { ConfigError, configWarning, quoteValue, type ConfigWarning, type WarningLevel } from './errors.js';
import { invalidElement, invalidValue as wazuhInvalidValue } from './wazuh-messages.js';
import type { XmlElement } from './xml.js';

/** What a section reader needs besides the elements: where they come from, and where to warn. */
export interface ReadContext {
  readonly file: string;
  /** Collected warnings, in file order (see errors.ts). */
  readonly warnings: ConfigWarning[];
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

/** A Wazuh warning (or, with `level`, a Wazuh error line that does not stop the daemon). */
export function warn(ctx: ReadContext, node: OptionNode, message: string, level: WarningLevel = 'WARNING'): void {
  ctx.warnings.push(configWarning(level, message, { file: ctx.file, line: node.el.line, path: node.path }));
}

/** A remark of this agent's own (INFO): an option Wazuh takes that this agent does not use. */
export function note(ctx: ReadContext, node: OptionNode, remark: string): void {
  warn(ctx, node, remark, 'INFO');
}

/** Wazuh's (1235) as wazuh-agentd logs it before refusing the file, then what the value must be. */
export function invalidValue(ctx: ReadContext, node: OptionNode, value: string, expected: string): never {
  fail(ctx, node, `${wazuhInvalidValue(node.el.name, value)} ${expected.charAt(0).toUpperCase()}${expected.slice(1)}`);
}

export type OptionHandlers = Record<string, (node: OptionNode) => void>;

/**
 * Calls the handler named after each child element, in document order. Like Wazuh's <client>,
 * <client_buffer> and <labels> readers, an element no handler knows is an error (1230).
 */
export function forEachOption(ctx: ReadContext, parent: OptionNode, handlers: OptionHandlers): void {
  for (const el of parent.el.children) {
    const node = { el, path: [...parent.path, el.name] };
    const handler = Object.hasOwn(handlers, el.name) ? handlers[el.name] : undefined;
    if (!handler) fail(ctx, node, invalidElement(el.name));
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

/**
 * Digits only (Wazuh's OS_StrIsNum: no sign, no spaces inside), within [min, max]. The empty
 * value passes OS_StrIsNum and is 0 to atoi, as in Wazuh (an empty <notify_time> is the default).
 */
export function parseInteger(ctx: ReadContext, node: OptionNode, min: number, max: number): number {
  const text = leafText(ctx, node);
  const value = /^[0-9]*$/.test(text) ? Number(text) : NaN;
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

/** OS_StrIsNum: digits only; the empty string passes (it is 0 to atoi). */
export function isStrNum(text: string): boolean {
  return /^[0-9]*$/.test(text);
}

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

/**
 * strtol(text, &end, 10) on a 64-bit libc: leading white space, an optional sign, digits; the
 * value saturates at LONG_MIN/LONG_MAX. `rest` is what `end` points at: the whole text when there
 * are no digits (so "" gives 0 with nothing left, which Wazuh's `*end` checks take as valid).
 */
export function strtol(text: string): { value: bigint; rest: string } {
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(text);
  if (!match) return { value: 0n, rest: text };
  let value = BigInt(match[2]!) * (match[1] === '-' ? -1n : 1n);
  if (value > LONG_MAX) value = LONG_MAX;
  if (value < LONG_MIN) value = LONG_MIN;
  return { value, rest: text.slice(match[0].length) };
}

/** `long value = strtol(...)` with Wazuh's usual check `value < min || value > max || *end`. */
export function strtolInRange(text: string, min: number, max: number): number | undefined {
  const { value, rest } = strtol(text);
  return rest === '' && value >= BigInt(min) && value <= BigInt(max) ? Number(value) : undefined;
}

/** glibc atoi: (int) strtol(text, NULL, 10), the long truncated to 32 bits. */
export function atoi(text: string): number {
  return Number(BigInt.asIntN(32, strtol(text).value));
}

const TIME_UNIT_FACTORS: Record<string, bigint> = { '': 1n, s: 1n, m: 60n, h: 3600n, d: 86400n, w: 604800n };

/**
 * w_parse_time (shared/string_op.c:738-768): strtol, then the one character after the number
 * picks the unit (nothing, s, m, h, d, w; what follows that character is not looked at). Undefined
 * where Wazuh returns -1: a negative number, an unknown unit, an overflow. "" is 0, as in Wazuh.
 */
export function parseWazuhTime(text: string): number | undefined {
  const { value, rest } = strtol(text);
  const factor = TIME_UNIT_FACTORS[rest.charAt(0)];
  if (value < 0n || value === LONG_MAX || factor === undefined) return undefined;
  const seconds = value * factor;
  return seconds <= LONG_MAX ? Number(seconds) : undefined;
}
