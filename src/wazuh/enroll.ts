// Enrollment with wazuh-authd: one TLS connection, one request line, one answer.
//
// Protocol facts (Wazuh v4.14.7):
// - The agent's request (shared/enrollment_op.c, w_enrollment_send_message and the concat helpers
//   below it) is a single line built in this order:
//     "OSSEC PASS: <password> " only when a password is known, then "OSSEC A:'<name>'",
//     " V:'<version>'" always (the agent's own version),
//     " G:'<groups>'" when groups are configured (sent as written),
//     " IP:'<agent_address>'" when an address is configured, or " IP:'src'" with use_source_ip,
//     " K:'<sha1(id name key)>'" when the agent already holds a key,
//     then "\n". authd reads up to that newline (os_auth/main-server.c, handle_ssl_read) and parses
//     the fields strictly in that order (os_auth/auth.c, w_auth_parse_data).
// - authd answers "OSSEC K:'<id> <name> <ip> <key>'" or "ERROR: <reason>. Unable to add agent"
//   (main-server.c, process_message), without a newline, and closes the connection.
// - TLS (os_auth/ssl.c): without auto_method only SSLv3, TLS 1.0 and 1.1 are disabled, so TLS 1.2
//   and 1.3 are both allowed; the cipher list is ssl_cipher. A server CA makes the agent verify the
//   chain and then the manager's name (see x509.ts); an agent certificate and key are presented
//   only when both are configured.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log.js';
import { unsafeFileAt, unsafeFileMessage } from '../security.js';
import { type AgentKey, agentKeyHash, agentKeyProblem, isValidAgentIp, isValidAgentName } from './keys.js';
import { DEFAULT_REPORTED_VERSION } from './messages.js';
import { checkManagerIdentity } from './x509.js';


export type EnrollmentFailure =
  | 'config'          // our own settings are unusable (name, agent_address, files, ciphers)
  | 'connection'      // no TCP connection, TLS handshake failure, timeout, closed without answer
  | 'certificate'     // the manager's certificate failed server_ca_path verification
  | 'protocol'        // the answer is not one authd gives
  | 'password'        // authd: Invalid password
  | 'duplicate-name'  // authd: Duplicate agent name
  | 'duplicate-ip'    // authd: Duplicate IP
  | 'invalid-name'    // authd: Invalid agent name
  | 'invalid-group'   // authd: Invalid group / Invalid group name / Maximum multigroup reached
  | 'version'         // authd: the agent is newer than the manager
  | 'manager';        // any other authd refusal

/** Enrollment did not produce a key. Messages never contain the password or a key. */
export class EnrollmentError extends Error {
  constructor(
    readonly failure: EnrollmentFailure,
    message: string,
    /** authd's own words for refusals, without the "ERROR: " prefix. */
    readonly managerAnswer?: string,
  ) {
    super(message);
    this.name = 'EnrollmentError';
  }
}

export interface EnrollRequest {
  password?: string;
  agentName: string;
  /** The Wazuh version announced (`V:`); defaults to DEFAULT_REPORTED_VERSION. */
  version?: string;
  /** Comma-separated groups, as configured. */
  groups?: string;
  /** `agent_address`: the IP (or network) the manager should record for this agent. */
  agentAddress?: string;
  /** `use_source_ip`: the manager records the address the request comes from. */
  useSourceIp?: boolean;
  /** The key held now, if any: its hash lets authd's force options replace the old registration. */
  currentKey?: AgentKey;
}

/**
 * The request line, exactly as the Wazuh agent writes it. Throws EnrollmentError('config') for
 * what the Wazuh agent refuses to send: an invalid name, the name "localhost" (agentd disallows
 * it for auto-enrollment, client-agent/config.c), an invalid agent_address, or agent_address
 * together with use_source_ip.
 */
export function buildEnrollRequest(r: EnrollRequest): string {
  if (!isValidAgentName(r.agentName)) {
    throw new EnrollmentError('config', `Invalid agent name "${r.agentName}": names are 2-128 characters of letters, digits, '.', '_', '-' and do not start with '.'`);
  }
  if (r.agentName === 'localhost') {
    throw new EnrollmentError('config', "Invalid agent name 'localhost': set <agent_name> in <enrollment>");
  }
  if (r.agentAddress !== undefined && r.useSourceIp) {
    throw new EnrollmentError('config', 'agent_address and use_source_ip cannot be used together');
  }
  if (r.agentAddress !== undefined && !isValidAgentIp(r.agentAddress)) {
    throw new EnrollmentError('config', `agent_address '${r.agentAddress}' is not a valid IP address or network`);
  }
  let line = r.password ? `OSSEC PASS: ${r.password} OSSEC A:'${r.agentName}'` : `OSSEC A:'${r.agentName}'`;
  line += ` V:'${r.version ?? DEFAULT_REPORTED_VERSION}'`;
  if (r.groups !== undefined) line += ` G:'${r.groups}'`;
  if (r.agentAddress !== undefined) line += ` IP:'${r.agentAddress}'`;
  else if (r.useSourceIp) line += " IP:'src'";
  if (r.currentKey) line += ` K:'${agentKeyHash(r.currentKey)}'`;
  return `${line}\n`;
}

const UNABLE_TO_ADD = /\. Unable to add agent\s*$/;

/** authd refusals the agent explains in its own terms; anything else is passed through. */
const KNOWN_REFUSALS: { pattern: RegExp; failure: EnrollmentFailure; explain: (m: RegExpExecArray) => string }[] = [
  {
    pattern: /^Invalid password/,
    failure: 'password',
    explain: () => 'the manager rejected the enrollment password (authorization_pass_path)',
  },
  {
    pattern: /^Duplicate agent name: (.*)$/,
    failure: 'duplicate-name',
    explain: (m) => `the manager already has an agent named '${m[1]}' (Duplicate agent name): remove it on the manager or choose another agent_name`,
  },
  {
    pattern: /^Duplicate IP: (.*)$/,
    failure: 'duplicate-ip',
    explain: (m) => `the manager already has an agent with IP ${m[1]} (Duplicate IP): remove it on the manager or use another agent_address`,
  },
  {
    pattern: /^Invalid agent name: (.*)$/,
    failure: 'invalid-name',
    explain: (m) => `the manager rejected the agent name '${m[1]}' (Invalid agent name; it must not be the manager's own host name)`,
  },
  {
    pattern: /^(?:Invalid group|Maximum multigroup)/,
    failure: 'invalid-group',
    explain: (m) => `the manager rejected the agent groups (${m.input}): each group must exist on the manager`,
  },
  {
    pattern: /^Agent version must be lower or equal to manager version/,
    failure: 'version',
    explain: () => 'the manager is older than the Wazuh version this agent announces and refuses it: incompatible version (see --report-version)',
  },
];

function managerRefusal(answer: string): EnrollmentError {
  const reason = answer.replace(UNABLE_TO_ADD, '');
  for (const known of KNOWN_REFUSALS) {
    const m = known.pattern.exec(reason);
    if (m) return new EnrollmentError(known.failure, known.explain(m), answer);
  }
  return new EnrollmentError('manager', `${answer} (from manager)`, answer);
}

const KEY_PREFIX = "OSSEC K:'";
const ERROR_PREFIX = 'ERROR: ';

/**
 * authd's answer to a key: the entry from `OSSEC K:'<id> <name> <ip> <key>'`, validated the way
 * the Wazuh agent validates it; an `ERROR: ...` answer or anything else becomes EnrollmentError.
 */
export function parseEnrollResponse(text: string): AgentKey {
  if (text.startsWith(ERROR_PREFIX) && text.length > ERROR_PREFIX.length) {
    throw managerRefusal(text.slice(ERROR_PREFIX.length).trim());
  }
  if (!text.startsWith(KEY_PREFIX)) {
    throw new EnrollmentError('protocol', 'unexpected answer from the enrollment service (neither a key nor an error)');
  }
  const end = text.indexOf("'", KEY_PREFIX.length);
  if (end < 0) throw new EnrollmentError('protocol', 'Invalid keys format received (unterminated key answer)');
  // Four fields; like Wazuh's OS_StrBreak(' ', ..., 4), the last one takes the rest.
  const [id, name, ip, ...rest] = text.slice(KEY_PREFIX.length, end).split(' ');
  const key: AgentKey = { id, name: name ?? '', ip: ip ?? '', key: rest.join(' ') };
  const problem = rest.length === 0 ? 'the answer has fewer than four fields' : agentKeyProblem(key);
  if (problem) {
    throw new EnrollmentError('protocol', `One of the received key parameters does not have a valid format: ${problem}`);
  }
  return key;
}

/** OS_ConvertToValidAgentName: the host name with the characters agent names cannot hold removed. */
export function agentNameFromHostname(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9_.-]/g, '');
}

/**
 * The enrollment password: the first line of `file` (authorization_pass_path). Like Wazuh
 * (enrollment_op.c, w_enrollment_load_pass), a missing file or an empty first line means
 * enrolling without a password; a file that exists but cannot be read is an error here rather
 * than silently ignored, since it is almost always a permissions mistake, and so is a file
 * another user could have changed (security.ts).
 */
export function readEnrollmentPassword(file: string, log: Logger): string | undefined {
  const unsafe = unsafeFileAt(file);
  if (unsafe) throw new EnrollmentError('config', unsafeFileMessage(file, unsafe));
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      log.info('No authentication password provided');
      return undefined;
    }
    throw new EnrollmentError('config', `cannot read the enrollment password file (authorization_pass_path) '${file}': ${(err as Error).message}`);
  }
  log.info(`Using password specified on file: ${file}`);
  // Wazuh strips only "\n"; a "\r" left in would make authd reject the password.
  const password = text.split('\n', 1)[0].replace(/\r$/, '');
  if (password.length < 2) {
    log.warn(`The password file '${file}' has no password on its first line; enrolling without a password`);
    return undefined;
  }
  return password;
}

export interface EnrollOptions extends EnrollRequest {
  managerAddress: string;
  port: number;
  useSourceIp: boolean;
  /** server_ca_path: verify the manager's certificate chain and name against this CA. */
  serverCaPath?: string;
  /** agent_certificate_path / agent_key_path: presented when the manager verifies agents. */
  agentCertificatePath?: string;
  agentKeyPath?: string;
  /** ssl_cipher, an OpenSSL cipher list. */
  sslCipher: string;
  /** For the whole exchange: connection, handshake and answer. */
  timeoutMs: number;
}

function readPem(file: string, option: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new EnrollmentError('config', `cannot read ${option} '${file}': ${(err as Error).message}`);
  }
}

/** The TLS client settings for the options; EnrollmentError('config') when they cannot work. */
function secureContextFor(opts: EnrollOptions, log: Logger): tls.SecureContext {
  const { serverCaPath, agentCertificatePath, agentKeyPath } = opts;
  const settings: tls.SecureContextOptions = { minVersion: 'TLSv1.2', ciphers: opts.sslCipher };
  if (serverCaPath !== undefined) settings.ca = readPem(serverCaPath, 'server_ca_path');
  if (agentCertificatePath !== undefined && agentKeyPath !== undefined) {
    settings.cert = readPem(agentCertificatePath, 'agent_certificate_path');
    settings.key = readPem(agentKeyPath, 'agent_key_path');
  } else if (agentCertificatePath !== undefined || agentKeyPath !== undefined) {
    // Wazuh ignores a lone certificate or key (os_auth/ssl.c, os_ssl_keys); say so instead of staying silent.
    log.warn('agent_certificate_path and agent_key_path must both be set; enrolling without an agent certificate');
  }
  try {
    return tls.createSecureContext(settings);
  } catch (err) {
    throw new EnrollmentError('config', `Could not set up SSL connection (${reasonOf(err as Error)}): check ssl_cipher, server_ca_path, agent_certificate_path and agent_key_path`);
  }
}

/** OpenSSL messages carry file names and codes; keep the words after "SSL routines:<function>:". */
function reasonOf(err: Error): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message;
}

type Stage = 'connecting' | 'handshake' | 'waiting';

/** Longest answer the Wazuh agent reads (OS_SIZE_65536 + OS_SIZE_4096). */
const MAX_ANSWER = 65536 + 4096;

/** True once the text holds a complete key answer (authd does not end it with a newline). */
function isCompleteKeyAnswer(text: string): boolean {
  return text.startsWith(KEY_PREFIX) && text.indexOf("'", KEY_PREFIX.length) >= 0;
}

/** Connects, sends the request, and returns authd's raw answer. */
function exchange(opts: EnrollOptions, secureContext: tls.SecureContext, request: string, log: Logger): Promise<string> {
  const endpoint = `'[${opts.managerAddress}]:${opts.port}'`;
  const verifying = opts.serverCaPath !== undefined;

  const failureFor = (stage: Stage, reason: string, socket: tls.TLSSocket): EnrollmentError => {
    if (stage === 'connecting') return new EnrollmentError('connection', `Unable to connect to enrollment service at ${endpoint}: ${reason}`);
    if (stage === 'handshake' && verifying && socket.authorizationError !== undefined) {
      // Node records why it refused the certificate (chain, then manager name) before failing.
      return new EnrollmentError('certificate', `manager certificate verification failed against ${opts.serverCaPath}: ${reason}`);
    }
    if (stage === 'handshake') {
      return new EnrollmentError('connection', `TLS handshake with the enrollment service at ${endpoint} failed (${reason}): check the port and ssl_cipher`);
    }
    return new EnrollmentError('connection', `no answer from the enrollment service at ${endpoint} (${reason}); if the manager verifies agents, check agent_certificate_path and agent_key_path`);
  };

  return new Promise((resolve, reject) => {
    let stage: Stage = 'connecting';
    let answer = '';
    let settled = false;
    const socket = tls.connect({
      host: opts.managerAddress,
      port: opts.port,
      secureContext,
      // SNI carries host names only.
      servername: net.isIP(opts.managerAddress) === 0 ? opts.managerAddress : undefined,
      // Wazuh verifies only with a CA configured, and then checks the manager name its own way.
      rejectUnauthorized: verifying,
      ...(verifying ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => checkManagerIdentity(opts.managerAddress, cert) } : {}),
    });
    socket.setEncoding('utf8');

    const settle = (outcome: { answer: string } | { error: EnrollmentError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ('answer' in outcome) resolve(outcome.answer);
      else reject(outcome.error);
    };
    // However the exchange ends, an answer already received is what counts (Wazuh reports the
    // manager's error and not the read failure that follows it).
    const stop = (reason: string): void =>
      settle(answer !== '' ? { answer } : { error: failureFor(stage, reason, socket) });
    const timer = setTimeout(() => stop(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);

    socket.once('connect', () => {
      stage = 'handshake';
    });
    socket.once('secureConnect', () => {
      stage = 'waiting';
      log.debug(`Connected to enrollment service at ${endpoint}`);
      if (verifying) {
        log.info("Verifying manager's certificate");
        log.info('Manager has been verified successfully');
      } else {
        log.debug('Registering agent to unverified manager');
      }
      log.info(`Using agent name as: ${opts.agentName}`);
      socket.write(request);
      log.debug('Request sent to manager');
      log.info('Waiting for server reply');
    });
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.length > MAX_ANSWER) {
        settle({ error: new EnrollmentError('protocol', `the enrollment service at ${endpoint} sent more than ${MAX_ANSWER} bytes`) });
      } else if (isCompleteKeyAnswer(answer)) {
        settle({ answer });
      }
    });
    socket.on('error', (err) => stop(reasonOf(err)));
    socket.on('end', () => stop('connection closed by the manager'));
    socket.on('close', () => stop('connection closed'));
  });
}

/**
 * Requests a key from wazuh-authd. Logs Wazuh's progress lines; never logs the password or the
 * key. Throws EnrollmentError.
 */
export async function enroll(opts: EnrollOptions, log: Logger): Promise<AgentKey> {
  // Everything that can be checked without the manager is checked before connecting.
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new EnrollmentError('config', `enrollment port ${opts.port} is not a TCP port number`);
  }
  const request = buildEnrollRequest(opts);
  const secureContext = secureContextFor(opts, log);
  log.info(`Requesting a key from server: ${opts.managerAddress}`);
  const key = parseEnrollResponse(await exchange(opts, secureContext, request, log));
  log.info('Valid key received');
  return key;
}
