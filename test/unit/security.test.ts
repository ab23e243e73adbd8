import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAgentConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  UnsafePathError,
  ensurePrivateDir,
  modeString,
  privateFileMode,
  secureHome,
  unsafeFile,
  unsafeFileMessage,
} from '../../src/security.js';
import { KeysError, readAgentKey } from '../../src/wazuh/keys.js';
import { EnrollmentError, readEnrollmentPassword } from '../../src/wazuh/enroll.js';
import { MemoryLogger } from '../../src/log.js';

const root = process.geteuid?.() === 0;
const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;
const MINIMAL_CONF = '<ossec_config><client><server><address>127.0.0.1</address></server></client></ossec_config>\n';

/** Runs `fn` with the given umask, so modes are checked without the caller's umask narrowing them. */
function withUmask<T>(mask: number, fn: () => T): T {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

describe('security', () => {
  describe('trusted files (pure rule)', () => {
    it('refuses a file any user may write, naming the mode', () => {
      expect(unsafeFile({ mode: 0o100666, uid: 0 }, 0)).to.deep.equal({ problem: 'writable by any user (mode 0666)', fix: 'chmod o-w' });
      expect(unsafeFile({ mode: 0o100602, uid: 0 }, 0)?.problem).to.equal('writable by any user (mode 0602)');
      expect(unsafeFile({ mode: 0o41777, uid: 0 }, 0)?.problem).to.equal('writable by any user (mode 1777)');
    });

    it("refuses a file owned by a user who is neither root nor the agent's user", () => {
      expect(unsafeFile({ mode: 0o100640, uid: 1000 }, 0)).to.deep.equal({
        problem: "owned by uid 1000, neither root nor the agent's user (uid 0)",
        fix: 'chown root',
      });
      expect(unsafeFile({ mode: 0o100640, uid: 1000 }, 999)?.problem).to.match(/owned by uid 1000/);
    });

    it("accepts root's or the agent's own files, group-writable included (Wazuh's ossec.conf is 0660 root:wazuh)", () => {
      expect(unsafeFile({ mode: 0o100660, uid: 0 }, 0)).to.equal(undefined);
      expect(unsafeFile({ mode: 0o100660, uid: 0 }, 999)).to.equal(undefined);
      expect(unsafeFile({ mode: 0o100600, uid: 999 }, 999)).to.equal(undefined);
      expect(unsafeFile({ mode: 0o100644, uid: 0 }, 999)).to.equal(undefined);
    });

    it('words the refusal on one line, with the file, the mode and the fix', () => {
      const u = unsafeFile({ mode: 0o100666, uid: 0 }, 0)!;
      expect(unsafeFileMessage('/var/lib/wazuh-bpf-agent/etc/client.keys', u)).to.equal(
        "Unsafe permissions on '/var/lib/wazuh-bpf-agent/etc/client.keys': writable by any user (mode 0666); refusing to use it " +
          "(fix: chmod o-w '/var/lib/wazuh-bpf-agent/etc/client.keys').",
      );
      expect(modeString(0o104755)).to.equal('4755');
    });
  });

  describe('trusted files as read', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'security-unit-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const writeMode = (name: string, text: string, mode: number) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      fs.chmodSync(file, mode);
      return file;
    };

    it('ossec.conf: a ConfigError naming the file', () => {
      const file = writeMode('ossec.conf', MINIMAL_CONF, 0o666);
      expect(() => loadAgentConfig(file)).to.throw(ConfigError,
        `Unsafe permissions on the configuration file: writable by any user (mode 0666); refusing to use it (fix: chmod o-w). File ${file}.`);
      fs.chmodSync(file, 0o660);
      expect(loadAgentConfig(file).file).to.equal(file);
    });

    it('client.keys: a KeysError that names the file and never the key', () => {
      const key = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567';
      const file = writeMode('client.keys', `001 web-01 any ${key}\n`, 0o646);
      expect(() => readAgentKey(file)).to.throw(KeysError, `Unsafe permissions on '${file}': writable by any user (mode 0646)`);
      try {
        readAgentKey(file);
      } catch (e) {
        expect((e as Error).message).to.not.include(key);
      }
      fs.chmodSync(file, 0o640);
      expect(readAgentKey(file)?.id).to.equal('001');
    });

    it('the enrollment password file: a configuration failure of enrollment, nothing logged', () => {
      const file = writeMode('authd.pass', 'Secret123\n', 0o666);
      const log = new MemoryLogger();
      expect(() => readEnrollmentPassword(file, log)).to.throw(EnrollmentError, `Unsafe permissions on '${file}': writable by any user (mode 0666)`)
        .with.property('failure', 'config');
      expect(log.records).to.deep.equal([]);
    });

    it('a file owned by another user (root only: chown)', function () {
      if (!root) this.skip();
      const file = writeMode('ossec.conf', MINIMAL_CONF, 0o644);
      fs.chownSync(file, 65534, 65534);
      expect(() => loadAgentConfig(file)).to.throw(ConfigError, "owned by uid 65534, neither root nor the agent's user (uid 0)");
    });
  });

  describe('private directories', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'security-dir-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('ensurePrivateDir creates missing directories 0700 whatever the umask; files go 0600', () => {
      const spool = path.join(dir, 'queue', 'spool');
      withUmask(0, () => {
        ensurePrivateDir(spool);
        fs.writeFileSync(path.join(spool, 'segment'), 'x', { mode: privateFileMode });
      });
      expect(modeOf(path.join(dir, 'queue'))).to.equal(0o700);
      expect(modeOf(spool)).to.equal(0o700);
      expect(modeOf(path.join(spool, 'segment'))).to.equal(0o600);
      ensurePrivateDir(spool); // again: nothing to do
      expect(modeOf(spool)).to.equal(0o700);
    });

    it('ensurePrivateDir narrows an existing wider directory', () => {
      const spool = path.join(dir, 'spool');
      fs.mkdirSync(spool);
      fs.chmodSync(spool, 0o755);
      ensurePrivateDir(spool);
      expect(modeOf(spool)).to.equal(0o700);
    });

    it('ensurePrivateDir follows a symbolic link to its directory; refuses a file, and a directory of another user', function () {
      const real = path.join(dir, 'real');
      fs.mkdirSync(real, { mode: 0o755 });
      fs.symlinkSync(real, path.join(dir, 'link'));
      ensurePrivateDir(path.join(dir, 'link'));
      expect(modeOf(real)).to.equal(0o700);
      const file = path.join(dir, 'file');
      fs.writeFileSync(file, '');
      expect(() => ensurePrivateDir(file)).to.throw(UnsafePathError, `Unsafe path '${file}': not a directory; refusing to use it.`);
      if (!root) return;
      fs.chownSync(real, 65534, 65534);
      expect(() => ensurePrivateDir(real)).to.throw(UnsafePathError,
        `Unsafe ownership of directory '${real}': owned by uid 65534, not the running user (uid 0); refusing to use it`);
    });

    it('secureHome creates the home 0750, and narrows a wider one with a warning, keeping set-gid', () => {
      const home = path.join(dir, 'home');
      withUmask(0, () => expect(secureHome(home)).to.equal(undefined));
      expect(modeOf(home)).to.equal(0o750);
      fs.chmodSync(home, 0o700);
      expect(secureHome(home)).to.equal(undefined);
      expect(modeOf(home)).to.equal(0o700);
      fs.chmodSync(home, 0o2777);
      expect(secureHome(home)).to.equal(`Directory '${home}' was open to other users (mode 2777); changed to 2750.`);
      expect(modeOf(home)).to.equal(0o2750);
    });
  });
});
