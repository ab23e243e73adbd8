import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { MemoryLogger } from '../../src/log.js';
import { EnrollmentError, type EnrollOptions, enroll } from '../../src/wazuh/enroll.js';
import { readAgentKey, writeAgentKey } from '../../src/wazuh/keys.js';
import { TestAuthd } from '../support/authd.js';
import { type Pem, createCa, createClientCert, createSelfSignedCert, createServerCert } from '../support/pki.js';

const PASSWORD = 'Enr0llment-Pa55';
const WAZUH_CIPHERS = 'HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH';

describe('enrollment against a test authd', function () {
  let dir: string;
  let ca: Pem;
  let caPath: string;
  let otherCaPath: string;
  let authd: TestAuthd;
  /** Every logger handed to enroll(), checked at the end for secrets. */
  const loggers: MemoryLogger[] = [];
  /** Every enrollment error message, checked at the end for secrets. */
  const errorMessages: string[] = [];
  const startedPeers: TestAuthd[] = [];

  const newLogger = (): MemoryLogger => {
    const log = new MemoryLogger();
    loggers.push(log);
    return log;
  };

  const options = (port: number, overrides: Partial<EnrollOptions> = {}): EnrollOptions => ({
    managerAddress: '127.0.0.1',
    port,
    agentName: 'agent-a',
    useSourceIp: false,
    password: PASSWORD,
    sslCipher: WAZUH_CIPHERS,
    timeoutMs: 5000,
    ...overrides,
  });

  async function enrollmentFailure(opts: EnrollOptions): Promise<EnrollmentError> {
    try {
      await enroll(opts, newLogger());
    } catch (err) {
      expect(err).to.be.instanceOf(EnrollmentError);
      errorMessages.push((err as Error).message);
      return err as EnrollmentError;
    }
    throw new Error('expected enrollment to fail');
  }

  async function startPeer(peer: TestAuthd): Promise<TestAuthd> {
    await peer.start();
    startedPeers.push(peer);
    return peer;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enroll-it-'));
    ca = createCa('manager-ca');
    caPath = path.join(dir, 'rootCA.pem');
    otherCaPath = path.join(dir, 'otherCA.pem');
    fs.writeFileSync(caPath, ca.cert);
    fs.writeFileSync(otherCaPath, createCa('other-ca').cert);
    const server = createServerCert(ca);
    authd = await startPeer(new TestAuthd({ ...server, password: PASSWORD, groups: ['default', 'linux'] }));
  });

  after(async () => {
    for (const peer of startedPeers) await peer.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gets a key, logging like Wazuh', async () => {
    const log = newLogger();
    const key = await enroll(options(authd.port, { groups: 'default,linux' }), log);
    expect(key.id).to.equal('001');
    expect(key.name).to.equal('agent-a');
    expect(key.ip).to.equal('any');
    expect(key.key).to.match(/^[0-9a-f]{64}$/);
    expect(authd.keys).to.deep.equal([key]);
    expect(authd.requests[0]).to.equal(`OSSEC PASS: ${PASSWORD} OSSEC A:'agent-a' V:'v4.14.7' G:'default,linux'`);
    expect(log.records.filter((r) => r.level === 'info').map((r) => r.msg)).to.deep.equal([
      'Requesting a key from server: 127.0.0.1',
      'Using agent name as: agent-a',
      'Waiting for server reply',
      'Valid key received',
    ]);
  });

  it('stores the key as a 0640 client.keys that reads back', async () => {
    const key = await enroll(options(authd.port, { agentName: 'agent-b' }), newLogger());
    const file = path.join(dir, 'var', 'ossec', 'etc', 'client.keys');
    writeAgentKey(file, key);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o640);
    expect(readAgentKey(file)).to.deep.equal(key);
  });

  it('records the source address with use_source_ip', async () => {
    const key = await enroll(options(authd.port, { agentName: 'agent-src', useSourceIp: true }), newLogger());
    expect(key.ip).to.equal('127.0.0.1');
    expect(authd.requests.at(-1)).to.match(/ IP:'src'$/);
  });

  it('reports a wrong password as a password problem', async () => {
    const err = await enrollmentFailure(options(authd.port, { agentName: 'agent-c', password: 'wrong' }));
    expect(err.failure).to.equal('password');
    expect(err.message).to.equal('the manager rejected the enrollment password (authorization_pass_path)');
  });

  it('reports a missing password the same way', async () => {
    const err = await enrollmentFailure(options(authd.port, { agentName: 'agent-c', password: undefined }));
    expect(err.failure).to.equal('password');
  });

  it('reports a duplicate agent name', async () => {
    const err = await enrollmentFailure(options(authd.port, { agentName: 'agent-a' }));
    expect(err.failure).to.equal('duplicate-name');
    expect(err.message).to.contain("agent named 'agent-a'");
  });

  it('reports an unknown group', async () => {
    const err = await enrollmentFailure(options(authd.port, { agentName: 'agent-d', groups: 'default,nonexistent' }));
    expect(err.failure).to.equal('invalid-group');
    expect(err.message).to.contain('Invalid group: nonexistent');
  });

  it('reports a duplicate IP', async () => {
    await enroll(options(authd.port, { agentName: 'agent-e', agentAddress: '10.1.2.3' }), newLogger());
    const err = await enrollmentFailure(options(authd.port, { agentName: 'agent-f', agentAddress: '10.1.2.3' }));
    expect(err.failure).to.equal('duplicate-ip');
  });

  describe('server_ca_path', () => {
    it('accepts a manager certificate signed by the configured CA', async () => {
      const log = newLogger();
      const key = await enroll(options(authd.port, { agentName: 'agent-ca', serverCaPath: caPath }), log);
      expect(key.name).to.equal('agent-ca');
      expect(log.has('info', /^Manager has been verified successfully$/)).to.equal(true);
    });

    it('accepts the manager by host name too', async () => {
      const key = await enroll(options(authd.port, { agentName: 'agent-host', managerAddress: 'localhost', serverCaPath: caPath }), newLogger());
      expect(key.name).to.equal('agent-host');
    });

    it('refuses a manager certificate from another CA, and sends nothing', async () => {
      const before = authd.requests.length;
      const err = await enrollmentFailure(options(authd.port, { agentName: 'agent-g', serverCaPath: otherCaPath }));
      expect(err.failure).to.equal('certificate');
      expect(err.message).to.equal(`manager certificate verification failed against ${otherCaPath}: unable to verify the first certificate`);
      expect(authd.requests.length).to.equal(before);
    });

    it('refuses a self-signed manager certificate', async () => {
      const selfSigned = await startPeer(new TestAuthd({ ...createSelfSignedCert(), password: PASSWORD }));
      const err = await enrollmentFailure(options(selfSigned.port, { serverCaPath: caPath }));
      expect(err.failure).to.equal('certificate');
      expect(err.message).to.match(/^manager certificate verification failed against .*rootCA\.pem: self[- ]signed certificate$/);
    });

    it("refuses a CA-signed certificate that does not name the manager (Wazuh's name check)", async () => {
      const elsewhere = createServerCert(ca, { commonName: 'manager.example', dnsNames: ['manager.example'] });
      const peer = await startPeer(new TestAuthd({ ...elsewhere, password: PASSWORD }));
      const err = await enrollmentFailure(options(peer.port, { serverCaPath: caPath }));
      expect(err.failure).to.equal('certificate');
      expect(err.message).to.contain("the certificate is not for '127.0.0.1' (it names DNS:manager.example, CN=manager.example)");
      expect(peer.requests).to.deep.equal([]);
    });

    it('reports an unreadable CA file before connecting', async () => {
      const err = await enrollmentFailure(options(authd.port, { serverCaPath: path.join(dir, 'missing.pem') }));
      expect(err.failure).to.equal('config');
      expect(err.message).to.match(/^cannot read server_ca_path '.*missing\.pem': ENOENT/);
    });
  });

  describe('agent certificates', () => {
    let verifying: TestAuthd;
    let agentCertPath: string;
    let agentKeyPath: string;

    before(async () => {
      verifying = await startPeer(new TestAuthd({ ...createServerCert(ca), requireClientCert: true, ca: ca.cert }));
      const client = createClientCert(ca, 'agent-cert');
      agentCertPath = path.join(dir, 'sslagent.cert');
      agentKeyPath = path.join(dir, 'sslagent.key');
      fs.writeFileSync(agentCertPath, client.cert);
      fs.writeFileSync(agentKeyPath, client.key);
    });

    it('presents the agent certificate when the manager verifies agents', async () => {
      const key = await enroll(options(verifying.port, { password: undefined, serverCaPath: caPath, agentCertificatePath: agentCertPath, agentKeyPath }), newLogger());
      expect(key.id).to.equal('001');
    });

    it('without one, points at agent_certificate_path', async () => {
      const err = await enrollmentFailure(options(verifying.port, { agentName: 'agent-nocert', password: undefined }));
      expect(err.failure).to.equal('connection');
      expect(err.message).to.contain('agent_certificate_path');
    });
  });

  describe('connection failures', () => {
    it('reports nothing listening', async () => {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const err = await enrollmentFailure(options(port));
      expect(err.failure).to.equal('connection');
      expect(err.message).to.match(new RegExp(`^Unable to connect to enrollment service at '\\[127\\.0\\.0\\.1\\]:${port}': .*ECONNREFUSED`));
    });

    it('reports a port that does not speak TLS', async () => {
      // resume(): keep reading so the server side sees the client hang up and close() can finish.
      const plain = net.createServer((socket) => socket.end('this is not TLS\n').resume());
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      try {
        const err = await enrollmentFailure(options((plain.address() as net.AddressInfo).port));
        expect(err.failure).to.equal('connection');
        expect(err.message).to.match(/^TLS handshake with the enrollment service at .* failed \(.+\): check the port/);
      } finally {
        await new Promise<void>((resolve) => plain.close(() => resolve()));
      }
    });

    it('gives up on a manager that never answers', async () => {
      const silent = net.createServer(() => {});
      const sockets: net.Socket[] = [];
      silent.on('connection', (s) => sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const err = await enrollmentFailure(options((silent.address() as net.AddressInfo).port, { timeoutMs: 300 }));
        expect(err.failure).to.equal('connection');
        expect(err.message).to.contain('timed out after 300 ms');
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  // Last: mocha runs a suite's own tests before its nested suites.
  describe('afterwards', () => {
    it('never logs or reports the password or a key', () => {
      const secrets = [PASSWORD, ...startedPeers.flatMap((p) => p.keys.map((k) => k.key))];
      expect(secrets.length).to.be.greaterThan(5);
      const texts = [...loggers.flatMap((l) => l.records.map((r) => r.msg)), ...errorMessages];
      expect(texts.length).to.be.greaterThan(20);
      for (const secret of secrets) {
        for (const text of texts) expect(text).not.to.contain(secret);
      }
    });
  });
});
