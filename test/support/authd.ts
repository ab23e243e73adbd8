// An in-process wazuh-authd for tests: a TLS server on 127.0.0.1 that reads one request line,
// answers with a key or an authd error, and closes, as os_auth/main-server.c does. Requests are
// parsed field by field in authd's order (os_auth/auth.c, w_auth_parse_data), then checked like
// w_auth_validate_data (groups, duplicate IP, duplicate name). It is a test peer: the cluster,
// force-replacement options, version comparison and the manager-name check are left out.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { type AgentKey, isValidAgentIp, isValidAgentName } from '../../src/wazuh/keys.js';

export interface TestAuthdOptions {
  /** PEM certificate and key the server presents. */
  cert: string;
  key: string;
  /** When set, requests must start with "OSSEC PASS: <password> ". */
  password?: string;
  /** Verify agents: require a client certificate signed by `ca` (PEM). */
  requireClientCert?: boolean;
  ca?: string;
  /** Groups that exist on this manager; any other group is an "Invalid group". */
  groups?: string[];
}

/** What one request asks for, once parsed (version and key hash are consumed but not used here). */
interface ParsedRequest {
  name: string;
  groups?: string[];
  /** The IP: field as sent ('src' or an address), if any. */
  ip?: string;
}

/** authd's refusal text, before ". Unable to add agent" is appended. */
class Refusal extends Error {}

/**
 * Takes `<token>'<value>'` off the front of `rest.text` and returns the value; undefined when the
 * text does not start with the token; a Refusal with `unterminated` when the quotes do not close.
 */
function takeField(rest: { text: string }, token: string, unterminated: string): string | undefined {
  if (!rest.text.startsWith(token)) return undefined;
  const close = rest.text.indexOf("'", token.length + 1);
  if (rest.text[token.length] !== "'" || close < 0) throw new Refusal(unterminated);
  const value = rest.text.slice(token.length + 1, close);
  rest.text = rest.text.slice(close + 1);
  return value;
}

function parseRequest(line: string, password: string | undefined): ParsedRequest {
  const rest = { text: line };
  if (password !== undefined) {
    const prefix = `OSSEC PASS: ${password} `;
    if (!rest.text.startsWith(prefix)) throw new Refusal('Invalid password');
    rest.text = rest.text.slice(prefix.length);
  }
  const name = takeField(rest, 'OSSEC A:', 'Invalid request for new agent');
  if (name === undefined) throw new Refusal('Invalid request for new agent');
  if (!isValidAgentName(name)) throw new Refusal(`Invalid agent name: ${name}`);
  takeField(rest, ' V:', 'Unterminated version field');
  const groups = takeField(rest, ' G:', 'Unterminated group field')?.split(',');
  const ip = takeField(rest, ' IP:', 'Unterminated IP field');
  if (ip !== undefined && ip !== 'src' && !isValidAgentIp(ip)) throw new Refusal(`Invalid IP: ${ip}`);
  takeField(rest, ' K:', 'Unterminated key field');
  return { name, groups, ip };
}

export class TestAuthd {
  /** The manager's client.keys, in the order the agents enrolled. */
  readonly keys: AgentKey[] = [];
  /** Every request line received (without its newline), including refused ones. */
  readonly requests: string[] = [];
  private server: tls.Server | undefined;
  private readonly connections = new Set<tls.TLSSocket>();
  private lastId = 0;
  private boundPort = 0;

  constructor(private readonly opts: TestAuthdOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = tls.createServer({
      cert: this.opts.cert,
      key: this.opts.key,
      requestCert: this.opts.requireClientCert ?? false,
      rejectUnauthorized: this.opts.requireClientCert ?? false,
      ca: this.opts.ca,
    });
    server.on('secureConnection', (socket) => this.serve(socket));
    server.on('tlsClientError', () => {}); // refused handshakes are part of the tests
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: tls.TLSSocket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => {
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline < 0) return;
      socket.removeAllListeners('data');
      const line = received.slice(0, newline);
      this.requests.push(line);
      socket.end(this.answer(line, (socket.remoteAddress ?? '').replace(/^::ffff:/, '')));
    });
  }

  /** The answer authd gives to one request line from `sourceIp`. */
  private answer(line: string, sourceIp: string): string {
    try {
      const request = parseRequest(line, this.opts.password);
      for (const group of request.groups ?? []) {
        if (!/^[A-Za-z0-9_.-]+$/.test(group) || group === '.' || group === '..') throw new Refusal(`Invalid group name: ${group}`);
        if (!(this.opts.groups ?? []).includes(group)) throw new Refusal(`Invalid group: ${group}`);
      }
      // authd records the forced IP, the source IP for 'src', and "any" otherwise (use_source_ip off).
      const ip = request.ip === undefined ? 'any' : request.ip === 'src' ? sourceIp : request.ip;
      if (ip !== 'any' && this.keys.some((k) => k.ip === ip)) throw new Refusal(`Duplicate IP: ${ip}`);
      if (this.keys.some((k) => k.name === request.name)) throw new Refusal(`Duplicate agent name: ${request.name}`);
      this.lastId += 1;
      const entry: AgentKey = {
        id: String(this.lastId).padStart(3, '0'),
        name: request.name,
        ip,
        key: crypto.randomBytes(32).toString('hex'),
      };
      this.keys.push(entry);
      return `OSSEC K:'${entry.id} ${entry.name} ${entry.ip} ${entry.key}'`;
    } catch (err) {
      if (err instanceof Refusal) return `ERROR: ${err.message}. Unable to add agent`;
      throw err;
    }
  }
}
