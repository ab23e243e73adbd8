import { expect } from 'chai';
import { alertFor, analyze, type TestAlert } from '../support/analysis.js';
import { loadCapture, readFixtureJson } from '../support/fixtures.js';

type Obj = Record<string, unknown>;
interface RealAlert extends Obj {
  rule: Obj & { id: string };
  agent: { id: string; name: string };
  full_log: string;
  syscheck: Obj & { audit?: Obj };
  decoder: Obj;
  location: string;
}

const capture = loadCapture();
const AGENT = { id: capture.agent.id, name: capture.agent.name };
const COMPLIANCE = ['pci_dss', 'gpg13', 'gdpr', 'hipaa', 'nist_800_53', 'tsc'];

/** Everything the model produces must equal the real alert (the model omits per-alert state and mitre). */
function expectSameAlert(ours: TestAlert | undefined, real: RealAlert): void {
  expect(ours, 'an alert').to.not.equal(undefined);
  const a = ours as TestAlert;
  for (const key of ['id', 'level', 'description', 'groups', ...COMPLIANCE]) {
    expect((a.rule as unknown as Obj)[key], `rule.${key}`).to.deep.equal(real.rule[key]);
  }
  expect(a.agent).to.deep.equal({ id: real.agent.id, name: real.agent.name });
  expect(a.full_log).to.equal(real.full_log);
  expect(a.decoder).to.deep.equal(real.decoder);
  expect(a.location).to.equal(real.location);
  expect(a.syscheck).to.deep.equal(real.syscheck);
}

describe('analysis (model of analysisd 4.14.7)', () => {
  describe('FIM events', () => {
    const alerts = readFixtureJson<RealAlert[]>('alerts-4.14.7.json');
    const events = capture.frames
      .map((f) => f.message)
      .filter((m) => m.startsWith('8:syscheck:') && JSON.parse(m.slice(11)).type === 'event');

    it('the capture holds the three events behind the three real alerts', () => {
      expect(events).to.have.length(3);
      expect(alerts.map((a) => a.rule.id)).to.deep.equal(['554', '550', '553']);
    });

    for (const [i, what] of ['added (554)', 'modified (550)', 'deleted (553)'].entries()) {
      it(`reproduces the real ${what} alert`, () => {
        expectSameAlert(alertFor(AGENT, events[i]), alerts[i]);
      });
    }

    it('whodata deletion: audit section, rule and mode as in the real alert', () => {
      const fx = readFixtureJson<{ event_excerpt: { data: Obj }; alert: RealAlert }>('whodata-alert-4.14.7.json');
      const agent = fx.alert.agent;
      // The excerpt has no "attributes": analysisd rejects such an event (no attributes.type).
      expect(analyze(agent, `8:syscheck:${JSON.stringify(fx.event_excerpt)}`)).to.equal(undefined);

      const minimal = { ...fx.event_excerpt, data: { ...fx.event_excerpt.data, attributes: { type: 'file' } } };
      const alert = alertFor(agent, `8:syscheck:${JSON.stringify(minimal)}`);
      expect(alert?.rule.id).to.equal('553');
      expect(alert?.decoder).to.deep.equal({ name: 'syscheck_deleted' });
      expect(alert?.full_log).to.equal(fx.alert.full_log);
      expect(alert?.syscheck?.mode).to.equal('whodata');
      expect(alert?.syscheck?.audit).to.deep.equal(fx.alert.syscheck.audit);

      // With the abbreviated attributes put back (as the agent sends them), the whole alert matches.
      const sc = fx.alert.syscheck;
      const attributes = {
        type: 'file', size: Number(sc.size_after), perm: sc.perm_after, uid: sc.uid_after, gid: sc.gid_after,
        user_name: sc.uname_after, group_name: sc.gname_after, inode: String(sc.inode_after),
        mtime: Date.parse(`${String(sc.mtime_after)}Z`) / 1000,
        hash_md5: sc.md5_after, hash_sha1: sc.sha1_after, hash_sha256: sc.sha256_after,
      };
      const full = { ...fx.event_excerpt, data: { ...fx.event_excerpt.data, attributes } };
      expectSameAlert(alertFor(agent, `8:syscheck:${JSON.stringify(full)}`), fx.alert);
    });

    it('modified: one comment per differing attribute, *_before only when it differs', () => {
      const attrs = { type: 'file', size: 5, perm: 'rw-r--r--', uid: '0', gid: '0', user_name: 'root',
        group_name: 'root', inode: 7, mtime: 0, hash_md5: 'm', hash_sha1: 's1', hash_sha256: 's2' };
      const msg = `8:syscheck:${JSON.stringify({ type: 'event', data: {
        path: '/x', type: 'modified', changed_attributes: ['permission', 'uid', 'user_name', 'inode'],
        attributes: { ...attrs, perm: 'rwxr-xr-x', uid: '1000', user_name: 'alice', inode: '8' },
        old_attributes: attrs } })}`;
      const alert = alertFor(AGENT, msg);
      expect(alert?.rule.id).to.equal('550');
      expect(alert?.full_log).to.equal("File '/x' modified\nMode: (null)\n" +
        'Changed attributes: permission,uid,user_name,inode\n' +
        "Permissions changed from 'rw-r--r--' to 'rwxr-xr-x'\n" +
        "Ownership was '0', now it is '1000'\n" +
        "User name was 'root', now it is 'alice'\n" +
        "Old inode was: '7', now it is '8'\n");
      expect(alert?.syscheck).to.deep.equal({
        path: '/x', size_after: '5', perm_before: 'rw-r--r--', perm_after: 'rwxr-xr-x', uid_before: '0',
        uid_after: '1000', gid_after: '0', md5_after: 'm', sha1_after: 's1', sha256_after: 's2',
        uname_before: 'root', uname_after: 'alice', gname_after: 'root', mtime_after: '1970-01-01T00:00:00',
        inode_before: 7, inode_after: 8, changed_attributes: ['permission', 'uid', 'user_name', 'inode'],
        event: 'modified',
      });
    });

    it('scan_start / scan_end and fim_file integrity messages are recognised but raise no alert', () => {
      const quiet = capture.frames.map((f) => f.message).filter((m) => /^(8:syscheck:\{"type":"scan_|5:fim_file:)/.test(m));
      expect(quiet).to.have.length(3);
      expect(quiet.map((m) => analyze(AGENT, m))).to.deep.equal([
        { kind: 'fim_scan', phase: 'start', timestamp: 1795561587 },
        { kind: 'fim_scan', phase: 'end', timestamp: 1795561587 },
        { kind: 'dbsync', component: 'fim_file', type: 'integrity_check_global' },
      ]);
      expect(quiet.map((m) => alertFor(AGENT, m))).to.deep.equal([undefined, undefined, undefined]);
    });
  });

  describe('agent messages', () => {
    const started = capture.frames.map((f) => f.message).find((m) => m.includes('Agent started'));

    it('Agent started: 503, or 501 on the first start the manager sees', () => {
      expect(started).to.equal("1:wazuh-agent:ossec: Agent started: 'upstream-agent->any'.");
      const common = {
        agent: AGENT,
        full_log: "ossec: Agent started: 'upstream-agent->any'.",
        decoder: { parent: 'ossec', name: 'ossec' },
        data: { extra_data: 'upstream-agent->any' },
        location: 'wazuh-agent',
      };
      expect(alertFor(AGENT, started as string)).to.deep.equal({
        rule: { id: '503', level: 3, description: 'Wazuh agent started.', groups: ['ossec'],
          pci_dss: ['10.6.1', '10.2.6'], gpg13: ['10.1'], gdpr: ['IV_35.7.d'], hipaa: ['164.312.b'],
          nist_800_53: ['AU.6', 'AU.14', 'AU.5'], tsc: ['CC7.2', 'CC7.3', 'CC6.8'] },
        ...common,
      });
      expect(alertFor(AGENT, started as string, { firstConnection: true })).to.deep.equal({
        rule: { id: '501', level: 3, description: 'New wazuh agent connected.', groups: ['ossec'],
          pci_dss: ['10.6.1'], gpg13: ['10.1'], gdpr: ['IV_35.7.d'], hipaa: ['164.312.b'],
          nist_800_53: ['AU.6'], tsc: ['CC7.2', 'CC7.3'] },
        ...common,
      });
    });

    it('Agent buffer: rules 202-205', () => {
      const cases: [string, string, number, string][] = [
        ['90%', '202', 7, 'Agent event queue is 90% full.'],
        ['full', '203', 9, 'Agent event queue is full. Events may be lost.'],
        ['flooded', '204', 12, 'Agent event queue is flooded. Check the agent configuration.'],
        ['normal', '205', 3, 'Agent event queue is back to normal load.'],
      ];
      for (const [level, id, lvl, description] of cases) {
        const log = `wazuh: Agent buffer: '${level}'.`;
        const alert = alertFor(AGENT, `1:wazuh-agent:${log}`);
        expect(alert?.rule).to.include({ id, level: lvl, description });
        expect(alert?.rule.groups).to.deep.equal(['wazuh', 'agent_flooding']);
        expect(alert).to.deep.include({ full_log: log, decoder: { parent: 'wazuh', name: 'wazuh' }, data: { level }, location: 'wazuh-agent' });
      }
      expect(alertFor(AGENT, "1:wazuh-agent:wazuh: Agent buffer: 'busy'.")).to.equal(undefined);
    });

    it('anything else, malformed or truncated gives undefined without throwing', () => {
      const garbage = [
        '', 'x', '8', '8:', '8:syscheck', '8:syscheck:', '8:syscheck:{', '8:syscheck:[]', '8:syscheck:null',
        '8:syscheck:{"type":"event"}', '8:syscheck:{"type":"event","data":[1]}',
        '8:syscheck:{"type":"event","data":{"path":"/x","type":"added"}}',
        '8:syscheck:{"type":"event","data":{"path":"/x","type":"renamed","attributes":{"type":"file"}}}',
        '8:syscheck:{"type":"event","data":{"type":"added","attributes":{"type":"file"}}}',
        '8:syscheck:{"type":"other","data":{}}', '5:fim_file:not json',
        '1:wazuh-agent:ossec: Agent stopped', '1:wazuh-agent:hello', '#!-agent startup {"version":"v4.14.7"}',
        ...capture.frames.filter((f) => f.message.startsWith('#!-')).map((f) => f.message),
      ];
      for (const m of garbage) expect(analyze(AGENT, m), m).to.equal(undefined);
      expect(analyze(AGENT, null as unknown as string)).to.equal(undefined);
    });
  });
});
