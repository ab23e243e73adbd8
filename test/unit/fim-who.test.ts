import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { WhoResolver, parseIdNames } from '../../src/fim/who.js';
import { tempDir } from '../support/manager.js';

describe('fim: who-data', () => {
  it('reads passwd/group names, first entry wins', () => {
    expect(parseIdNames('root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\nalias:x:1000:1000::/:/bin/sh\nbad line\n')).to.deep.equal(
      new Map([[0, 'root'], [1000, 'alice']]),
    );
  });

  it("builds Wazuh's audit fields, with /proc paths when the process is alive", () => {
    const { dir, cleanup } = tempDir('wba-who');
    try {
      fs.writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n');
      fs.writeFileSync(path.join(dir, 'group'), 'root:x:0:\nstaff:x:50:\n');
      const who = new WhoResolver(dir);
      const audit = who.audit({
        pid: process.pid, tid: process.pid, ppid: 999_999_999, uid: 0, euid: 0, gid: 50, loginuid: 1000,
        comm: 'node', parentComm: 'bash', cwd: '/root', parentCwd: '/home/alice',
      });
      expect(audit).to.deep.equal({
        user_id: '0', user_name: 'root', group_id: '50', group_name: 'staff',
        process_name: fs.readlinkSync('/proc/self/exe'), process_id: process.pid,
        ppid: 999_999_999, parent_name: 'bash', // gone: the kernel's command name stands in
        cwd: '/root', parent_cwd: '/home/alice', audit_uid: '1000', audit_name: 'alice', effective_uid: '0', effective_name: 'root',
      });
      expect(who.audit({ pid: 1, tid: 1, ppid: 0, uid: 7, euid: 7, gid: 7, loginuid: undefined, comm: 'x', parentComm: '', cwd: undefined, parentCwd: undefined }))
        .to.include({ user_name: '', audit_uid: '', audit_name: '', cwd: '' });
    } finally {
      cleanup();
    }
  });
});
