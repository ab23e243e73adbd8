import { expect } from 'chai';
import {
  agentStartedMessage, bufferStateMessage, classifyManagerMessage, keepaliveMessage, parseMergedFile, parseOsRelease,
  requestErrorMessage, sharedFileName, shutdownMessage, startupMessage, unameLine,
} from '../../src/wazuh/messages.js';
import { loadCapture } from '../support/fixtures.js';

const capture = loadCapture();
const agentMessages = capture.frames.filter((f) => f.direction === 'agent_to_manager').map((f) => f.message);

const DEBIAN_12_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

describe('messages: what the real 4.14.7 agent sent', () => {
  it('startup, started and shutdown lines', () => {
    expect(agentMessages).to.include(startupMessage('v4.14.7'));
    expect(agentMessages).to.include(agentStartedMessage('upstream-agent', 'any'));
    expect(agentMessages).to.include(shutdownMessage());
  });

  it('rebuilds the captured keepalive byte for byte', () => {
    const uname = unameLine(
      { sysname: 'Linux', nodename: 'vm', release: '6.18.44-fc-v782', version: '#1 SMP PREEMPT_DYNAMIC @0', machine: 'x86_64', os: parseOsRelease(DEBIAN_12_OS_RELEASE) },
      'v4.14.7',
    );
    const ka = keepaliveMessage({
      uname,
      agentConfMd5: 'ab73af41699f13fdd81903b5f23d8d00',
      labels: [],
      mergedMd5: 'e7c5c4c31c37ff20e25ba7c05c17a7e9',
      agentIp: '127.0.0.1',
    });
    expect(agentMessages.filter((m) => m === ka)).to.have.length(3);
  });

  it('writes labels, hidden ones with "!", and "x" before any merged.mg arrived', () => {
    const ka = keepaliveMessage({ uname: 'U', labels: [{ key: 'env', value: 'prod', hidden: false }, { key: 'k', value: 'v', hidden: true }] });
    expect(ka).to.equal('#!-U\n"env":prod\n!"k":v\nx merged.mg\n');
  });
});

describe('messages: host description', () => {
  it('takes NAME, VERSION (else VERSION_ID) and ID from os-release', () => {
    expect(parseOsRelease(DEBIAN_12_OS_RELEASE)).to.deep.equal({ name: 'Debian GNU/Linux', platform: 'debian', version: '12 (bookworm)' });
    expect(parseOsRelease('NAME=Alpine\nID=alpine\nVERSION_ID=3.20.1\n')).to.deep.equal({ name: 'Alpine', platform: 'alpine', version: '3.20.1' });
    expect(parseOsRelease('NAME=x\n')).to.equal(undefined);
  });
  it('falls back to the plain uname form without os-release', () => {
    expect(unameLine({ sysname: 'Linux', nodename: 'h', release: 'r', version: 'v', machine: 'm', os: undefined }, 'v4.14.7')).to.equal(
      'Linux h r v m - Wazuh v4.14.7',
    );
  });
});

describe('messages: buffer states (rules 202-205)', () => {
  it('formats like buffer.c', () => {
    expect(bufferStateMessage('warning', 90)).to.equal("1:wazuh-agent:wazuh: Agent buffer: '90%'.");
    expect(bufferStateMessage('full', 90)).to.equal("1:wazuh-agent:wazuh: Agent buffer: 'full'.");
    expect(bufferStateMessage('flooded', 90)).to.equal("1:wazuh-agent:wazuh: Agent buffer: 'flooded'.");
    expect(bufferStateMessage('normal', 90)).to.equal("1:wazuh-agent:wazuh: Agent buffer: 'normal'.");
  });
});

describe('messages: manager messages', () => {
  const c = (s: string) => classifyManagerMessage(Buffer.from(s));
  it('classifies every kind the agent handles', () => {
    expect(c('#!-agent ack ')).to.deep.equal({ kind: 'ack' });
    expect(c('#!-up file 0123456789abcdef0123456789abcdef merged.mg\n')).to.deep.equal({ kind: 'file-open', md5: '0123456789abcdef0123456789abcdef', name: 'merged.mg' });
    expect(c('#!-close file ')).to.deep.equal({ kind: 'file-close' });
    expect(c('#!-force_reconnect')).to.deep.equal({ kind: 'force-reconnect' });
    expect(c('#!-req 16 logcollector getconfig localfile')).to.deep.equal({ kind: 'request', counter: '16', target: 'logcollector', payload: 'getconfig localfile' });
    expect(c('#!-req 16 ack')).to.deep.equal({ kind: 'request-ack', counter: '16' });
    expect(c('#!-err {"message":"Agent version must be lower or equal to manager version"}')).to.deep.equal({
      kind: 'error', message: 'Agent version must be lower or equal to manager version',
    });
    expect(c('#!-fim_file {"component":"fim_file"}')).to.deep.equal({ kind: 'fim-sync', component: 'fim_file', payload: '{"component":"fim_file"}' });
    expect(c('#!-something new')).to.deep.equal({ kind: 'control', text: 'something new' });
    expect(c('plain file content')).to.deep.include({ kind: 'data' });
  });
  it('answers requests it cannot serve like request.c', () => {
    expect(requestErrorMessage('16', 'nope')).to.equal('#!-req 16 err nope');
  });
});

describe('messages: pushed files', () => {
  it('flattens names and refuses parent references (receiver.c)', () => {
    expect(sharedFileName('merged.mg')).to.equal('merged.mg');
    expect(sharedFileName('a/b.conf')).to.equal('a-b.conf');
    expect(sharedFileName('.hidden')).to.equal('-hidden');
    expect(sharedFileName('x\ny')).to.equal('x');
    expect(sharedFileName('../etc/passwd')).to.equal(undefined);
    expect(sharedFileName('a/../../b')).to.equal(undefined);
  });
  it('splits merged.mg, skipping the group line', () => {
    const merged = Buffer.from('#default\n!5 agent.conf\nhello!3 ar.conf\nx\ny');
    expect(parseMergedFile(merged).map((e) => [e.name, e.content.toString()])).to.deep.equal([['agent.conf', 'hello'], ['ar.conf', 'x\ny']]);
    expect(() => parseMergedFile(Buffer.from('!99 big\nshort'))).to.throw(/truncated/);
  });
});
