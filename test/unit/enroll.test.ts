import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { expect } from 'chai';
import { MemoryLogger } from '../../src/log.js';
import {
  EnrollmentError,
  type EnrollmentFailure,
  agentNameFromHostname,
  buildEnrollRequest,
  parseEnrollResponse,
  readEnrollmentPassword,
} from '../../src/wazuh/enroll.js';
import { certificateNameMatches, checkManagerIdentity } from '../../src/wazuh/x509.js';

const SECRET = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';

function enrollmentError(f: () => unknown): EnrollmentError {
  try {
    f();
  } catch (err) {
    expect(err).to.be.instanceOf(EnrollmentError);
    return err as EnrollmentError;
  }
  throw new Error('expected an EnrollmentError');
}

describe('enrollment', () => {
  describe('buildEnrollRequest', () => {
    it('announces the version it is given, v4.14.7 by default', () => {
      expect(buildEnrollRequest({ agentName: 'web-01', version: 'v4.9.2' })).to.equal("OSSEC A:'web-01' V:'v4.9.2'\n");
    });

    const cases: [string, Parameters<typeof buildEnrollRequest>[0], string][] = [
      ['name only', { agentName: 'web-01' }, "OSSEC A:'web-01' V:'v4.14.7'\n"],
      ['password', { agentName: 'web-01', password: 'TopSecret' }, "OSSEC PASS: TopSecret OSSEC A:'web-01' V:'v4.14.7'\n"],
      ['password with a space', { agentName: 'web-01', password: 'two words' }, "OSSEC PASS: two words OSSEC A:'web-01' V:'v4.14.7'\n"],
      ['groups as written', { agentName: 'web-01', groups: 'default,linux' }, "OSSEC A:'web-01' V:'v4.14.7' G:'default,linux'\n"],
      ['agent address', { agentName: 'web-01', agentAddress: '10.0.0.7' }, "OSSEC A:'web-01' V:'v4.14.7' IP:'10.0.0.7'\n"],
      ['agent network', { agentName: 'web-01', agentAddress: '10.0.0.0/24' }, "OSSEC A:'web-01' V:'v4.14.7' IP:'10.0.0.0/24'\n"],
      ['use_source_ip', { agentName: 'web-01', useSourceIp: true }, "OSSEC A:'web-01' V:'v4.14.7' IP:'src'\n"],
      ['use_source_ip false', { agentName: 'web-01', useSourceIp: false }, "OSSEC A:'web-01' V:'v4.14.7'\n"],
      [
        'current key',
        { agentName: 'web-01', currentKey: { id: '001', name: 'web-01', ip: 'any', key: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567' } },
        "OSSEC A:'web-01' V:'v4.14.7' K:'fd7f51873ba7cc12a63b4cd96a1c288053ba1388'\n",
      ],
      ['another version', { agentName: 'web-01', version: 'v4.9.0' }, "OSSEC A:'web-01' V:'v4.9.0'\n"],
      [
        'everything, in Wazuh order',
        {
          agentName: 'web-01',
          password: 'TopSecret',
          groups: 'linux',
          useSourceIp: true,
          currentKey: { id: '001', name: 'web-01', ip: 'any', key: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567' },
        },
        "OSSEC PASS: TopSecret OSSEC A:'web-01' V:'v4.14.7' G:'linux' IP:'src' K:'fd7f51873ba7cc12a63b4cd96a1c288053ba1388'\n",
      ],
      [
        'password, groups and address',
        { agentName: 'db.internal', password: 'p4ss', groups: 'db', agentAddress: 'fd00::7' },
        "OSSEC PASS: p4ss OSSEC A:'db.internal' V:'v4.14.7' G:'db' IP:'fd00::7'\n",
      ],
    ];
    for (const [what, request, expected] of cases) {
      it(`builds the line for: ${what}`, () => {
        expect(buildEnrollRequest(request)).to.equal(expected);
      });
    }

    it('refuses what the Wazuh agent refuses to send', () => {
      expect(enrollmentError(() => buildEnrollRequest({ agentName: 'bad name' })).message).to.match(/Invalid agent name "bad name"/);
      expect(enrollmentError(() => buildEnrollRequest({ agentName: 'localhost' })).message).to.match(/'localhost'/);
      expect(enrollmentError(() => buildEnrollRequest({ agentName: 'web-01', agentAddress: '10.0.0.7', useSourceIp: true })).message)
        .to.equal('agent_address and use_source_ip cannot be used together');
      const bad = enrollmentError(() => buildEnrollRequest({ agentName: 'web-01', agentAddress: 'host.example' }));
      expect(bad.failure).to.equal('config');
      expect(bad.message).to.match(/agent_address 'host.example'/);
    });
  });

  describe('parseEnrollResponse', () => {
    it('reads the key from a K answer', () => {
      expect(parseEnrollResponse(`OSSEC K:'001 web-01 any ${SECRET}'`)).to.deep.equal({ id: '001', name: 'web-01', ip: 'any', key: SECRET });
      expect(parseEnrollResponse(`OSSEC K:'012 web-01 10.0.0.7 ${SECRET}'\n\n`).ip).to.equal('10.0.0.7');
    });

    const refusals: [string, EnrollmentFailure, RegExp][] = [
      ['ERROR: Invalid password. Unable to add agent', 'password', /^the manager rejected the enrollment password \(authorization_pass_path\)$/],
      ['ERROR: Duplicate agent name: web-01. Unable to add agent', 'duplicate-name', /already has an agent named 'web-01' \(Duplicate agent name\)/],
      ['ERROR: Duplicate IP: 10.0.0.7. Unable to add agent', 'duplicate-ip', /already has an agent with IP 10.0.0.7 \(Duplicate IP\)/],
      ['ERROR: Invalid agent name: manager. Unable to add agent', 'invalid-name', /rejected the agent name 'manager' \(Invalid agent name/],
      ['ERROR: Invalid group: nope. Unable to add agent', 'invalid-group', /rejected the agent groups \(Invalid group: nope\)/],
      ['ERROR: Invalid group name: a b. Unable to add agent', 'invalid-group', /\(Invalid group name: a b\)/],
      ['ERROR: Maximum multigroup reached: Limit is 128. Unable to add agent', 'invalid-group', /\(Maximum multigroup reached: Limit is 128\)/],
      ['ERROR: Agent version must be lower or equal to manager version. Unable to add agent', 'version', /older than the Wazuh version this agent announces.*incompatible version.*--report-version/],
      ['ERROR: Invalid request for new agent. Unable to add agent', 'manager', /^Invalid request for new agent. Unable to add agent \(from manager\)$/],
      ['ERROR: Cannot comunicate with master', 'manager', /^Cannot comunicate with master \(from manager\)$/],
    ];
    for (const [answer, failure, message] of refusals) {
      it(`maps "${answer}"`, () => {
        const err = enrollmentError(() => parseEnrollResponse(answer));
        expect(err.failure).to.equal(failure);
        expect(err.message).to.match(message);
        expect(err.managerAnswer).to.equal(answer.slice('ERROR: '.length));
      });
    }

    it('rejects malformed key answers without echoing the key', () => {
      for (const answer of [
        `OSSEC K:'001 web-01 any ${SECRET}`,
        `OSSEC K:'001 web-01 ${SECRET}'`,
        `OSSEC K:'001 web-01 not-an-ip ${SECRET}'`,
        `OSSEC K:'abc web-01 any ${SECRET}'`,
        `OSSEC K:'001 web-01 any ${SECRET} extra'`,
        `Hello ${SECRET}`,
        'ERROR: ',
        '',
      ]) {
        const err = enrollmentError(() => parseEnrollResponse(answer));
        expect(err.failure, answer).to.equal('protocol');
        expect(err.message).not.to.contain(SECRET);
      }
    });
  });

  describe('agentNameFromHostname', () => {
    it('drops the characters agent names cannot hold, like OS_ConvertToValidAgentName', () => {
      expect(agentNameFromHostname('web-01.example.com')).to.equal('web-01.example.com');
      expect(agentNameFromHostname('My Host (2)')).to.equal('MyHost2');
    });
  });

  describe('readEnrollmentPassword', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enroll-unit-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the first line, without its line ending, and never logs it', () => {
      const file = path.join(dir, 'authd.pass');
      fs.writeFileSync(file, 'S3cret pass\r\nsecond line\n');
      const log = new MemoryLogger();
      expect(readEnrollmentPassword(file, log)).to.equal('S3cret pass');
      expect(log.has('info', /^Using password specified on file: .*authd\.pass$/)).to.equal(true);
      expect(log.records.some((r) => r.msg.includes('S3cret'))).to.equal(false);
    });

    it('means no password when the file is missing, like Wazuh', () => {
      const log = new MemoryLogger();
      expect(readEnrollmentPassword(path.join(dir, 'missing.pass'), log)).to.equal(undefined);
      expect(log.has('info', /^No authentication password provided$/)).to.equal(true);
    });

    it('means no password when the first line is (nearly) empty, and warns', () => {
      const file = path.join(dir, 'authd.pass');
      fs.writeFileSync(file, '\nlater\n');
      const log = new MemoryLogger();
      expect(readEnrollmentPassword(file, log)).to.equal(undefined);
      expect(log.has('warn', /no password on its first line/)).to.equal(true);
    });

    it('fails clearly when the file exists but cannot be read', () => {
      const err = enrollmentError(() => readEnrollmentPassword(dir, new MemoryLogger()));
      expect(err.failure).to.equal('config');
      expect(err.message).to.contain(`authorization_pass_path) '${dir}'`);
    });
  });

  describe('manager certificate names (check_cert.c)', () => {
    it('compares labels case-insensitively, with a whole-label wildcard in front only', () => {
      expect(certificateNameMatches('Manager.Example.com', 'manager.example.COM')).to.equal(true);
      expect(certificateNameMatches('manager.example.com.', 'manager.example.com')).to.equal(true);
      expect(certificateNameMatches('*.example.com', 'manager.example.com')).to.equal(true);
      expect(certificateNameMatches('*.example.com', 'example.com')).to.equal(false);
      expect(certificateNameMatches('*.example.com', 'a.manager.example.com')).to.equal(false);
      expect(certificateNameMatches('m*.example.com', 'manager.example.com')).to.equal(false);
      expect(certificateNameMatches('manager.example.com', 'other.example.com')).to.equal(false);
      expect(certificateNameMatches('127.0.0.1', '127.0.0.1')).to.equal(true);
      expect(certificateNameMatches('bad_label.example', 'bad_label.example')).to.equal(false);
    });

    const cert = (subjectaltname: string | undefined, CN: string | string[]): PeerCertificate =>
      ({ subjectaltname, subject: { CN } }) as unknown as PeerCertificate;

    it('accepts a matching subjectAltName DNS or IP entry', () => {
      const c = cert('DNS:manager.example.com, IP Address:10.0.0.1, IP Address:FD00:0:0:0:0:0:0:1', 'unrelated');
      expect(checkManagerIdentity('manager.example.com', c)).to.equal(undefined);
      expect(checkManagerIdentity('10.0.0.1', c)).to.equal(undefined);
      expect(checkManagerIdentity('fd00::1', c)).to.equal(undefined);
    });

    it('falls back to the CN even when subjectAltName entries exist, as Wazuh does', () => {
      expect(checkManagerIdentity('wazuh-manager', cert('DNS:other', 'wazuh-manager'))).to.equal(undefined);
      expect(checkManagerIdentity('10.0.0.9', cert(undefined, ['x', '10.0.0.9']))).to.equal(undefined);
    });

    it('explains a mismatch with the names the certificate carries', () => {
      const err = checkManagerIdentity('10.0.0.2', cert('DNS:manager.example.com, IP Address:10.0.0.1', 'manager'));
      expect(err?.message).to.equal("the certificate is not for '10.0.0.2' (it names DNS:manager.example.com, IP Address:10.0.0.1, CN=manager)");
    });
  });
});
