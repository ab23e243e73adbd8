// Readers for <client>, <client_buffer> and <labels>, with Wazuh 4.14.7's defaults and validation
// (src/config/client-config.c, buffer-config.c, labels-config.c; agentd's own defaults in
// src/client-agent/config.c and main.c). Pure: elements in, configuration and warnings out.
import { ConfigError, quoteValue } from './errors.js';
import type { ClientBufferConfig, ClientConfig, EnrollmentConfig, Label, Protocol, ServerConfig } from './types.js';
import {
  INT_MAX, fail, forEachOption, invalidValue, leafText, note, parseHost, parseInteger, parseIp, parsePort, parseWazuhTime,
  parseYesNo, requiredText, warn, type OptionNode, type ReadContext,
} from './values.js';
import * as msg from './wazuh-messages.js';
import type { XmlElement } from './xml.js';

/** DEFAULT_SECURE (headers/defs.h:360): the manager's agent port. */
const DEFAULT_SERVER_PORT = 1514;
/** DEFAULT_MAX_RETRIES, DEFAULT_RETRY_INTERVAL (config/client-config.h:76-77). */
const DEFAULT_MAX_RETRIES = 5;
const DEFAULT_RETRY_INTERVAL = 10;
/**
 * agentd starts notify_time and time-reconnect at 0 (client-agent/config.c:46-47) and, after
 * reading, replaces 0 with NOTIFY_TIME and RECONNECT_TIME (client-agent/main.c:222-227,
 * headers/defs.h:95-96). The installer writes 20 and 60 explicitly.
 */
const NOTIFY_TIME = 20;
const RECONNECT_TIME = 60;
/** agent.min_eps in etc/internal_options.conf:331, applied by client-agent/config.c:85-88. */
const MIN_EVENTS_PER_SECOND = 50;
/** remoted.verify_msg_id in etc/internal_options.conf:158 (read by os_crypto/shared/msgs.c OS_StartCounter). */
export const DEFAULT_VERIFY_MSG_ID: number = 0;
/** Validate_Address (config/client-config.c:624-639): addresses that mean "not configured yet". */
const PLACEHOLDER_ADDRESSES = new Set(['MANAGER_IP', '0.0.0.0']);

/** w_enrollment_target_init, w_enrollment_cert_init, w_enrollment_init (shared/enrollment_op.c:60-118). */
function defaultEnrollment(): EnrollmentConfig {
  return {
    enabled: true,
    port: 1515, // DEFAULT_PORT, os_auth/auth.h:47
    authorizationPassPath: 'etc/authd.pass', // AUTHD_PASS, headers/defs.h:301
    sslCipher: 'HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH', // DEFAULT_CIPHERS, os_auth/auth.h:46
    autoMethod: false,
    delayAfterEnrollment: 20,
    useSourceIp: false,
  };
}

/** The legacy <client> options, which Wazuh still reads with a warning (client-config.c:63-85, 175-185). */
function deprecated(ctx: ReadContext, node: OptionNode, replacement: string): void {
  warn(ctx, node, msg.clientTagDeprecated(node.el.name, replacement));
}

/** For options Wazuh accepts that mean nothing to this agent: still validated, then ignored (INFO). */
function noEffect(ctx: ReadContext, node: OptionNode, why: string): void {
  note(ctx, node, `The <${node.el.name}> element has no effect in wazuh-bpf-agent (${why}); ignored`);
}

function parseProtocol(ctx: ReadContext, node: OptionNode): Protocol {
  const text = requiredText(ctx, node);
  if (text !== 'tcp' && text !== 'udp') invalidValue(ctx, node, text, 'must be tcp or udp');
  return text;
}

function parseCryptoMethod(ctx: ReadContext, node: OptionNode): 'aes' {
  const text = requiredText(ctx, node);
  if (text === 'blowfish') {
    fail(ctx, node, `crypto_method 'blowfish' is not supported by wazuh-bpf-agent, use aes`);
  }
  if (text !== 'aes') invalidValue(ctx, node, text, 'must be aes');
  return text;
}

interface ServerEntry {
  config: ServerConfig;
  /** Where the address was written, for errors about it. */
  addressNode: OptionNode;
}

/** One <server> block (Read_Client_Server). */
function readServer(ctx: ReadContext, server: OptionNode): ServerEntry {
  const config: ServerConfig = {
    address: '', port: DEFAULT_SERVER_PORT, protocol: 'tcp',
    maxRetries: DEFAULT_MAX_RETRIES, retryInterval: DEFAULT_RETRY_INTERVAL,
  };
  let addressNode: OptionNode | undefined;
  forEachOption(ctx, server, {
    address: (node) => { config.address = parseHost(ctx, node); addressNode = node; },
    port: (node) => { config.port = parsePort(ctx, node); },
    protocol: (node) => { config.protocol = parseProtocol(ctx, node); },
    max_retries: (node) => { config.maxRetries = parseInteger(ctx, node, 1, INT_MAX); },
    retry_interval: (node) => { config.retryInterval = parseInteger(ctx, node, 1, INT_MAX); },
    interface_index: (node) => {
      parseInteger(ctx, node, 1, INT_MAX);
      noEffect(ctx, node, 'IPv6 link-local managers are not supported');
    },
  });
  if (!addressNode) fail(ctx, { el: server.el, path: [...server.path, 'address'] }, 'No <address> in this <server> block');
  return { config, addressNode };
}

/** <enrollment> (Read_Client_Enrollment): each option overrides the value before it. */
function readEnrollment(ctx: ReadContext, block: OptionNode, enrollment: EnrollmentConfig): void {
  forEachOption(ctx, block, {
    enabled: (node) => { enrollment.enabled = parseYesNo(ctx, node); },
    manager_address: (node) => { enrollment.managerAddress = parseHost(ctx, node); },
    port: (node) => { enrollment.port = parsePort(ctx, node); },
    interface_index: (node) => {
      parseInteger(ctx, node, 1, INT_MAX);
      noEffect(ctx, node, 'IPv6 link-local managers are not supported');
    },
    agent_name: (node) => { enrollment.agentName = requiredText(ctx, node); },
    groups: (node) => { enrollment.groups = requiredText(ctx, node); },
    agent_address: (node) => { enrollment.agentAddress = parseIp(ctx, node); },
    ssl_cipher: (node) => { enrollment.sslCipher = requiredText(ctx, node); },
    server_ca_path: (node) => { enrollment.serverCaPath = requiredText(ctx, node); },
    agent_certificate_path: (node) => { enrollment.agentCertificatePath = requiredText(ctx, node); },
    agent_key_path: (node) => { enrollment.agentKeyPath = requiredText(ctx, node); },
    authorization_pass_path: (node) => { enrollment.authorizationPassPath = requiredText(ctx, node); },
    auto_method: (node) => { enrollment.autoMethod = parseYesNo(ctx, node); },
    delay_after_enrollment: (node) => { enrollment.delayAfterEnrollment = parseInteger(ctx, node, 1, INT_MAX); },
    use_source_ip: (node) => { enrollment.useSourceIp = parseYesNo(ctx, node); },
  });
}

/**
 * All <client> blocks, in file order. As in Wazuh (each block is read into the same structure):
 * later values override earlier ones and servers accumulate, giving the failover order.
 */
export function readClient(blocks: readonly XmlElement[], ctx: ReadContext): ClientConfig {
  const servers: ServerEntry[] = [];
  const enrollment = defaultEnrollment();
  const client = {
    notifyTime: 0, timeReconnect: 0, forceReconnectInterval: 0, ipUpdateInterval: 0,
    autoRestart: true, configProfiles: [] as string[],
  };
  let intervalNode: OptionNode | undefined;

  for (const el of blocks) {
    // Deprecated <server-ip>/<server-hostname> servers take the block's deprecated <port> and
    // <protocol>, wherever those appear in the block (Read_Client, client-config.c:215-225).
    const legacyServers: ServerConfig[] = [];
    let legacyPort = DEFAULT_SERVER_PORT;
    let legacyProtocol: Protocol = 'tcp';
    const addLegacyServer = (addressNode: OptionNode, address: string) => {
      const config: ServerConfig = {
        address, port: legacyPort, protocol: legacyProtocol,
        maxRetries: DEFAULT_MAX_RETRIES, retryInterval: DEFAULT_RETRY_INTERVAL,
      };
      legacyServers.push(config);
      servers.push({ config, addressNode });
    };

    forEachOption(ctx, { el, path: ['client'] }, {
      server: (node) => { servers.push(readServer(ctx, node)); },
      'server-ip': (node) => { deprecated(ctx, node, '<server><address>'); addLegacyServer(node, parseIp(ctx, node)); },
      'server-hostname': (node) => { deprecated(ctx, node, '<server><address>'); addLegacyServer(node, parseHost(ctx, node)); },
      port: (node) => { deprecated(ctx, node, '<server><port>'); legacyPort = parsePort(ctx, node); },
      protocol: (node) => { deprecated(ctx, node, '<server><protocol>'); legacyProtocol = parseProtocol(ctx, node); },
      enrollment: (node) => { readEnrollment(ctx, node, enrollment); },
      notify_time: (node) => { client.notifyTime = parseInteger(ctx, node, 0, INT_MAX); intervalNode = node; },
      'time-reconnect': (node) => { client.timeReconnect = parseInteger(ctx, node, 0, INT_MAX); intervalNode = node; },
      force_reconnect_interval: (node) => {
        // Wazuh only warns about a bad value here and keeps the previous one (client-config.c:137-143).
        const text = leafText(ctx, node);
        const seconds = parseWazuhTime(text);
        if (seconds === undefined) {
          warn(ctx, node, msg.invalidValue('force_reconnect_interval', text));
        } else {
          client.forceReconnectInterval = seconds;
        }
      },
      ip_update_interval: (node) => { client.ipUpdateInterval = parseInteger(ctx, node, 0, INT_MAX); },
      'config-profile': (node) => {
        client.configProfiles = requiredText(ctx, node).split(',').map((p) => p.trim()).filter((p) => p !== '');
      },
      auto_restart: (node) => { client.autoRestart = parseYesNo(ctx, node); },
      crypto_method: (node) => { parseCryptoMethod(ctx, node); },
      'disable-active-response': (node) => { parseYesNo(ctx, node); noEffect(ctx, node, 'it has no active response'); },
      local_ip: (node) => { leafText(ctx, node); warn(ctx, node, msg.localIpNoEffect()); },
    });
    for (const server of legacyServers) {
      server.port = legacyPort;
      server.protocol = legacyProtocol;
    }
  }

  const first = servers[0];
  if (!first) {
    throw new ConfigError('No manager configured: at least one <client><server><address> is required', {
      file: ctx.file, line: blocks[0]?.line, path: ['client', 'server'],
    });
  }
  if (servers.every((s) => PLACEHOLDER_ADDRESSES.has(s.config.address))) {
    fail(ctx, first.addressNode, `Invalid server address found: ${quoteValue(first.config.address)} `
      + '(set it to the address of the Wazuh manager)');
  }

  const notifyTime = client.notifyTime || NOTIFY_TIME;
  let timeReconnect = client.timeReconnect || RECONNECT_TIME;
  if (timeReconnect <= notifyTime) {
    // client-agent/main.c:228-231
    timeReconnect = notifyTime * 3;
    if (intervalNode) {
      // Logged at INFO level by Wazuh (client-agent/main.c:230).
      warn(ctx, intervalNode, `Max time to reconnect can't be less than notify_time(${notifyTime}), using notify_time*3 (${timeReconnect})`, 'INFO');
    }
  }

  return {
    ...client, notifyTime, timeReconnect, servers: servers.map((s) => s.config), enrollment, cryptoMethod: 'aes',
    verifyManagerCounters: DEFAULT_VERIFY_MSG_ID === 1,
  };
}

/** All <client_buffer> blocks (Read_ClientBuffer); later values override earlier ones. */
export function readClientBuffer(blocks: readonly XmlElement[], ctx: ReadContext): ClientBufferConfig {
  // client-agent/config.c:41-43; limits from config/buffer-config.c:59,82.
  const buffer: ClientBufferConfig = { disabled: false, queueSize: 5000, eventsPerSecond: 500 };
  let epsNode: OptionNode | undefined;
  for (const el of blocks) {
    forEachOption(ctx, { el, path: ['client_buffer'] }, {
      disabled: (node) => { buffer.disabled = parseYesNo(ctx, node); },
      // The old name, read as <disabled> without a word (buffer-config.c:44).
      disable: (node) => { buffer.disabled = parseYesNo(ctx, node); },
      queue_size: (node) => { buffer.queueSize = parseInteger(ctx, node, 1, 100000); },
      length: (node) => { warn(ctx, node, msg.lengthDeprecated()); buffer.queueSize = parseInteger(ctx, node, 1, 100000); },
      events_per_second: (node) => { buffer.eventsPerSecond = parseInteger(ctx, node, 1, 1000); epsNode = node; },
    });
  }
  if (epsNode && buffer.eventsPerSecond < MIN_EVENTS_PER_SECOND) {
    warn(ctx, epsNode, msg.bufferThroughputTooLow(MIN_EVENTS_PER_SECOND)); // client-agent/config.c:85-88
    buffer.eventsPerSecond = MIN_EVENTS_PER_SECOND;
  }
  return buffer;
}

/** One <label key="..." hidden="...">value</label>; undefined for a reserved key (skipped). */
function readLabel(ctx: ReadContext, node: OptionNode): Label | undefined {
  const { attrs } = node.el;
  for (const name of Object.keys(attrs)) {
    // Wazuh silently ignores other attributes; a typo such as `hiden` deserves a word.
    if (name !== 'key' && name !== 'hidden') note(ctx, node, `Unknown attribute '${name}' of <label>; ignored`);
  }
  const key = attrs['key'];
  if (key === undefined) fail(ctx, node, `Expected 'key' attribute for label`);
  if (key === '') fail(ctx, node, 'Label with empty key');
  const hiddenText = attrs['hidden'];
  if (hiddenText !== undefined && hiddenText !== 'yes' && hiddenText !== 'no') {
    fail(ctx, node, `Invalid value for attribute 'hidden': ${quoteValue(hiddenText)} (must be yes or no)`);
  }
  if (key.startsWith('_')) {
    warn(ctx, node, `Label keys starting with "_"  are reserved for internal use. Skipping label '${key}'.`); // labels-config.c:52
    return undefined;
  }
  const value = leafText(ctx, node);
  if (value === '') warn(ctx, node, `Label '${key}' is empty.`); // labels-config.c:82
  return { key, value, hidden: hiddenText === 'yes' };
}

/** All <labels> blocks (Read_Labels): a key given twice keeps its place and takes the later value. */
export function readLabels(blocks: readonly XmlElement[], ctx: ReadContext): Label[] {
  const labels: Label[] = [];
  for (const el of blocks) {
    forEachOption(ctx, { el, path: ['labels'] }, {
      label: (node) => {
        const label = readLabel(ctx, node);
        if (!label) return;
        const index = labels.findIndex((l) => l.key === label.key);
        if (index === -1) labels.push(label);
        else labels[index] = label;
      },
    });
  }
  return labels;
}
