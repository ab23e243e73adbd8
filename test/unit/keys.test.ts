import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  type AgentKey,
  KeysError,
  agentKeyHash,
  formatKeyLine,
  isValidAgentIp,
  isValidAgentName,
  parseClientKeys,
  readAgentKey,
  writeAgentKey,
} from '../../src/wazuh/keys.js';

const SECRET = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567';
const entry: AgentKey = { id: '001', name: 'web-01', ip: 'any', key: SECRET };

/** The one problem `text` has; its valid lines still come out. */
function parseProblem(text: string): KeysError {
  const { entries, problems } = parseClientKeys(text, '/var/ossec/etc/client.keys');
  expect(problems).to.have.length(1);
  expect(entries).to.deep.equal([{ ...entry, id: '009' }]);
  return problems[0]!;
}

describe('client.keys', () => {
  describe('parseClientKeys / formatKeyLine', () => {
    it('round-trips an entry', () => {
      const line = formatKeyLine(entry);
      expect(line).to.equal(`001 web-01 any ${SECRET}`);
      expect(parseClientKeys(`${line}\n`)).to.deep.equal({ entries: [entry], problems: [] });
    });

    it('reads several entries in file order, with IPs and networks', () => {
      const text = [
        `001 web-01 any ${SECRET}`,
        `002 db.internal 10.0.0.7 ${SECRET}`,
        `010 lab_host 192.168.0.0/24 ${SECRET}`,
        `011 v6-host fd00::7 ${SECRET}`,
      ].join('\n');
      expect(parseClientKeys(text).entries.map((k) => [k.id, k.name, k.ip])).to.deep.equal([
        ['001', 'web-01', 'any'],
        ['002', 'db.internal', '10.0.0.7'],
        ['010', 'lab_host', '192.168.0.0/24'],
        ['011', 'v6-host', 'fd00::7'],
      ]);
    });

    it('skips removed agents, comments, lines starting with a space and blank lines, like keys.c', () => {
      const text = [
        '# a comment',
        `001 !old-agent any ${SECRET}`,
        `002 #also-removed 10.0.0.1 ${SECRET}`,
        '003 !',
        ' 004 indented any whatever',
        '',
        `005 current any ${SECRET}`,
        '',
      ].join('\n');
      expect(parseClientKeys(text)).to.deep.equal({ entries: [{ id: '005', name: 'current', ip: 'any', key: SECRET }], problems: [] });
    });

    it('treats CRLF line endings as line endings, not as part of the key', () => {
      expect(parseClientKeys(`001 web-01 any ${SECRET}\r\n`).entries).to.deep.equal([entry]);
    });

    const malformed: [string, string, RegExp][] = [
      ['too few fields', `001 web-01 ${SECRET}`, /: expected "<id> <name> <ip> <key>", found 3 field\(s\)\./],
      ['an id that is not digits', `0x1 web-01 any ${SECRET}`, /: agent id '0x1' is not 1-8 digits\./],
      ['an id longer than 8 digits', `123456789 web-01 any ${SECRET}`, /: agent id '123456789'/],
      ['a name with a forbidden character', `001 web/01 any ${SECRET}`, /: agent name 'web\/01' is not valid/],
      ['a name starting with a dot', `001 .hidden any ${SECRET}`, /: agent name '.hidden' is not valid/],
      ['a one-character name', `001 a any ${SECRET}`, /: agent name 'a' is not valid/],
      ['a bad IP', `001 web-01 10.0.0.300 ${SECRET}`, /: agent IP '10.0.0.300' is not 'any'/],
      ['a key with a space in it', `001 web-01 any ${SECRET} ${SECRET}`, /: the key is not/],
      ['a key with a forbidden character', `001 web-01 any ${SECRET}/`, /: the key is not/],
      ['a key that is too long', `001 web-01 any ${SECRET.repeat(3)}`, /: the key is not/],
      ['binary garbage in the id', `\u0000\u001b[2J\u00ff web-01 any ${SECRET}`, /: agent id '\\u0000\\u001b\[2J\u00ff' is not/],
    ];
    for (const [what, line, message] of malformed) {
      it(`reports ${what}, naming file and line, without the key, and skips that line`, () => {
        const err = parseProblem(`# header\n${line}\n009 web-01 any ${SECRET}\n`);
        expect(err.message).to.match(/^\(1401\): Error reading authentication key: /);
        expect(err.message).to.match(message);
        expect(err.message).to.match(/\. File \/var\/ossec\/etc\/client\.keys, line 2\.$/);
        expect(err.message).to.not.match(/[\u0000-\u001f]/);
        expect(err.file).to.equal('/var/ossec/etc/client.keys');
        expect(err.line).to.equal(2);
        expect(err.message).not.to.contain(SECRET);
      });
    }

    it('formatKeyLine refuses an invalid entry without showing the key', () => {
      expect(() => formatKeyLine({ ...entry, ip: 'nowhere' })).to.throw(KeysError, /agent IP 'nowhere'/);
      try {
        formatKeyLine({ ...entry, key: `${SECRET}\n002 injected any x` });
        expect.fail('expected a KeysError');
      } catch (err) {
        expect((err as Error).message).not.to.contain(SECRET);
      }
    });
  });

  describe('field rules', () => {
    it('agent names follow OS_IsValidName', () => {
      for (const good of ['ab', 'web-01', 'db.internal', 'a_b', '-x', 'x'.repeat(128)]) expect(isValidAgentName(good), good).to.equal(true);
      for (const bad of ['', 'a', '.ab', 'has space', 'ñandu', 'a/b', 'x'.repeat(129)]) expect(isValidAgentName(bad), bad).to.equal(false);
    });

    it('IPs follow OS_IsValidIP', () => {
      for (const good of ['any', '10.0.0.1', '10.0.0.0/8', '10.0.0.0/255.0.0.0', '::ffff:10.0.0.1', 'fd00::1', 'fd00::/64', '::1']) {
        expect(isValidAgentIp(good), good).to.equal(true);
      }
      for (const bad of ['', 'ANY', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.0/33', 'fd00::/129', 'fe80::1%eth0', '::1.2.3.4', 'host.example']) {
        expect(isValidAgentIp(bad), bad).to.equal(false);
      }
    });

    it('the key hash is sha1 of id, name and key concatenated (keys.c w_get_key_hash)', () => {
      expect(agentKeyHash(entry)).to.equal('fd7f51873ba7cc12a63b4cd96a1c288053ba1388');
    });
  });

  describe('readAgentKey / writeAgentKey', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-unit-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('gives undefined for a missing file and for a file with only removed entries', () => {
      expect(readAgentKey(path.join(dir, 'client.keys'))).to.equal(undefined);
      const file = path.join(dir, 'removed.keys');
      fs.writeFileSync(file, `001 !gone any ${SECRET}\n`);
      expect(readAgentKey(file)).to.equal(undefined);
    });

    it('uses the first valid entry', () => {
      const file = path.join(dir, 'client.keys');
      fs.writeFileSync(file, `001 !gone any ${SECRET}\n002 second any ${SECRET}\n003 third any ${SECRET}\n`);
      expect(readAgentKey(file)?.id).to.equal('002');
    });

    it('replaces the whole file with one line, creating the directory, leaving no temporary file', () => {
      const file = path.join(dir, 'etc', 'client.keys');
      writeAgentKey(file, { ...entry, id: '007' });
      writeAgentKey(file, entry);
      expect(fs.readFileSync(file, 'utf8')).to.equal(`001 web-01 any ${SECRET}\n`);
      expect(fs.readdirSync(path.join(dir, 'etc'))).to.deep.equal(['client.keys']);
      expect(fs.statSync(path.join(dir, 'etc')).mode & 0o777).to.equal(0o750);
    });

    it('writes nothing for an invalid entry', () => {
      const file = path.join(dir, 'client.keys');
      expect(() => writeAgentKey(file, { ...entry, name: 'bad name' })).to.throw(KeysError);
      expect(fs.existsSync(file)).to.equal(false);
    });
  });
});
