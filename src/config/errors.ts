// Configuration errors and warnings, worded like Wazuh's (src/error_messages/error_messages.h)
// but always saying where: Wazuh only names the element, we add file, line and option.
//
// Every message is ONE line, in this format:
//
//   <reason>. File <file>[, line <n>[, column <c>]][, option <a><b><c>].
//
// e.g. "Invalid value for element 'port': '70000' (must be 1-65535). File /etc/ossec.conf, line 12,
// option <client><server><port>." The option is the element path below <ossec_config>.
// Warnings (AgentConfig.warnings) use the same format, their reason being Wazuh's own message
// where Wazuh has one ("(1235): Invalid value for element 'max_eps': foo.").

export interface ConfigLocation {
  file: string;
  line?: number | undefined;
  column?: number | undefined;
  /** Element names from the section down, e.g. ['client', 'server', 'port']. */
  path?: readonly string[] | undefined;
}

/** `a.b.c` from ['a', 'b', 'c']; undefined for an empty path. */
export function optionName(path: readonly string[] | undefined): string | undefined {
  return path && path.length > 0 ? path.join('.') : undefined;
}

/** One line: newlines or other control characters in quoted values become visible escapes. */
function singleLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** A value from the file, quoted for a message: `'abc'`, escaped and cut at 80 characters. */
export function quoteValue(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return `'${singleLine(shown)}'`;
}

/** `<reason>. File <file>, line <n>, option <a><b>.` (see the format at the top of this file). */
export function formatConfigMessage(reason: string, where: ConfigLocation): string {
  let text = `${reason.replace(/\.$/, '')}. File ${where.file}`;
  if (where.line !== undefined) text += `, line ${where.line}`;
  if (where.line !== undefined && where.column !== undefined) text += `, column ${where.column}`;
  if (where.path && where.path.length > 0) text += `, option ${where.path.map((n) => `<${n}>`).join('')}`;
  return singleLine(`${text}.`);
}

/**
 * How a diagnostic counts. WARNING and ERROR are Wazuh's own lines, at the level its daemon logs
 * them, for a configuration it still runs with (an ERROR here is one Wazuh logs and goes on: a
 * <syscheck> it then disables). INFO is this agent's own remark (an option it accepts but does
 * not use): no Wazuh daemon says it, and `check-config --strict` does not count it.
 */
export type WarningLevel = 'WARNING' | 'ERROR' | 'INFO';

/** One thing a configuration is warned about; what to do about it has already been done. */
export interface ConfigWarning {
  level: WarningLevel;
  /** Wazuh's message as its daemon logs it, or (INFO) this agent's remark. */
  message: string;
  file: string;
  line: number | undefined;
  /** Dotted element path below <ossec_config>, e.g. `syscheck.max_eps`. */
  option: string | undefined;
  /** The message with file, line and option: one line (the format at the top of this file). */
  text: string;
}

export function configWarning(level: WarningLevel, message: string, where: ConfigLocation): ConfigWarning {
  return {
    level, message, file: where.file, line: where.line, option: optionName(where.path), text: formatConfigMessage(message, where),
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly line: number | undefined;
  /** Dotted element path below <ossec_config>, e.g. `client.server.port`; undefined when none applies. */
  readonly option: string | undefined;
  /** The reason alone, without location. */
  readonly reason: string;

  constructor(reason: string, where: ConfigLocation) {
    super(formatConfigMessage(reason, where));
    this.reason = reason;
    this.file = where.file;
    this.line = where.line;
    this.option = optionName(where.path);
  }
}
