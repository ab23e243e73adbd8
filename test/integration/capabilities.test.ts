// The capabilities conf/wazuh-bpf-agent.service grants are enough, and a missing one is named:
// `probe` and `run` under exactly the unit's capability set (read from the unit file, applied with
// setpriv(1)), as root and as an unprivileged user with ambient capabilities like systemd's
// User= + AmbientCapabilities=; and the unit passes `systemd-analyze verify`.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeReport } from '../../src/cli.js';
import { CLI, CliProcess, runCli, startCli } from '../support/cli.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';

const UNIT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../conf/wazuh-bpf-agent.service');
const NOBODY = 65534;
const BPF_MODES = ['kprobe', 'fentry', 'tracepoint'];

/** The space-separated values of a [Service] setting of the unit (last assignment wins, as in systemd). */
function unitSetting(text: string, name: string): string[] {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}=`));
  return lines.length ? lines.at(-1)!.slice(name.length + 1).trim().split(/\s+/) : [];
}

/** setpriv(1) arguments that leave exactly `caps` (CAP_X names), as root or as `uid` with ambient capabilities. */
function setpriv(caps: string[], uid?: number): string[] {
  const list = ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
  const user = uid === undefined ? [] : [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', `--ambient-caps=${list}`];
  return ['setpriv', ...user, `--inh-caps=${list}`, `--bounding-set=${list}`];
}

function hasTool(tool: string, args: string[] = ['--version']): boolean {
  return spawnSync(tool, args, { stdio: 'ignore' }).status === 0;
}

async function probeJson(wrapper: string[] = []): Promise<{ report: ProbeReport }> {
  const r = await runCli(['probe', '--json'], wrapper);
  expect(r.code, r.stderr).to.equal(0);
  return { report: JSON.parse(r.stdout) as ProbeReport };
}

describe('capabilities (systemd unit)', function () {
  this.timeout(120_000);
  const unit = fs.readFileSync(UNIT, 'utf8');
  const unitCaps = unitSetting(unit, 'AmbientCapabilities');
  let fullRootMode: string;

  before(async function () {
    if (process.geteuid?.() !== 0) this.skip();
    if (!hasTool('setpriv')) throw new Error('setpriv(1) is missing (util-linux): npm run setup installs it');
    fullRootMode = (await probeJson()).report.capture.mode;
  });

  it('grants CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH, and bounds the service to exactly those', () => {
    expect(unitCaps).to.have.members(['CAP_BPF', 'CAP_PERFMON', 'CAP_DAC_READ_SEARCH']);
    expect(unitSetting(unit, 'CapabilityBoundingSet')).to.have.members(unitCaps);
    expect(unitSetting(unit, 'NoNewPrivileges')).to.deep.equal(['yes']);
  });

  describe('probe --json under the unit\'s capabilities keeps the capture mode full root gets', () => {
    for (const [who, uid] of [['as root', undefined], ['as an unprivileged user (ambient)', NOBODY]] as const) {
      it(who, async function () {
        // Without eBPF as full root there is nothing to keep: say so rather than pass vacuously.
        if (!BPF_MODES.includes(fullRootMode)) this.skip();
        const { report } = await probeJson(setpriv(unitCaps, uid));
        expect(report.capture.mode).to.equal(fullRootMode);
        expect(report.kernel.privileges).to.include({ ok: true, reason: 'CAP_BPF and CAP_PERFMON effective', capSysAdmin: false });
        expect(report.kernel.privileges.missing.map((g) => g.capability)).to.deep.equal([]);
      });
    }
  });

  it('without CAP_BPF: every eBPF mode refused naming CAP_BPF, inotify instead', async () => {
    const { report } = await probeJson(setpriv(unitCaps.filter((c) => c !== 'CAP_BPF'), NOBODY));
    expect(report.kernel.privileges.ok).to.equal(false);
    expect(report.kernel.privileges.reason).to.match(/^missing capability CAP_BPF \(CapEff [0-9a-f]{16}\)$/);
    const bpfAttempts = report.capture.attempts.filter((a) => BPF_MODES.includes(a.mode));
    expect(bpfAttempts.map((a) => a.mode)).to.deep.equal(BPF_MODES);
    for (const a of bpfAttempts) expect(a.reason, a.mode).to.match(/^missing capability CAP_BPF \(CapEff /);
    expect(report.capture.mode).to.equal('inotify');
    // the administrator's view: the text report and the log line
    const text = await runCli(['probe'], setpriv(unitCaps.filter((c) => c !== 'CAP_BPF'), NOBODY));
    expect(text.stdout).to.match(/^privileges: +no \(missing capability CAP_BPF \(CapEff [0-9a-f]{16}\)\)$/m);
    expect(text.stdout).to.match(/^ {2}missing CAP_BPF: no eBPF capture: real-time events come from inotify, without who-data$/m);
    expect(text.stderr).to.match(/WARNING: Capture mode 'tracepoint' unavailable: missing capability CAP_BPF \(CapEff [0-9a-f]{16}\)/);
  });

  it('without CAP_DAC_READ_SEARCH an unprivileged user cannot enter a root-only tracefs, and is told why', async function () {
    const tracefs = fs.statSync('/sys/kernel/tracing', { throwIfNoEntry: false });
    if (fullRootMode !== 'tracepoint' || !tracefs || (tracefs.mode & 0o005) !== 0) this.skip();
    const { report } = await probeJson(setpriv(unitCaps.filter((c) => c !== 'CAP_DAC_READ_SEARCH'), NOBODY));
    const tracepoint = report.capture.attempts.find((a) => a.mode === 'tracepoint')!;
    expect(tracepoint.reason).to.equal("/sys/kernel/tracing is not accessible (EACCES): tracefs is root-only, so the agent's user needs CAP_DAC_READ_SEARCH");
    expect(report.kernel.privileges.missing.map((g) => g.capability)).to.include('CAP_DAC_READ_SEARCH');
  });

  describe('run as an unprivileged user with the unit\'s capabilities', () => {
    let manager: TestManager;
    let tmp: { dir: string; cleanup: () => void };
    let agent: CliProcess | undefined;

    beforeEach(async () => {
      manager = await new TestManager().start();
      tmp = tempDir('wba-caps');
    });
    afterEach(async () => {
      agent?.child.kill('SIGKILL');
      await agent?.exited;
      agent = undefined;
      await manager.stop();
      tmp.cleanup();
    });

    it('enrolls, baselines a root-only file, and reports its change with who-data', async function () {
      if (!BPF_MODES.includes(fullRootMode)) this.skip();
      // Everything but the home belongs to root, as on a real host: the monitored tree 0700 root,
      // the password file 0600 root. The home's parent is searchable by all, like /var/lib
      // (better-sqlite3 checks the database directory with access(2), which ignores capabilities).
      fs.chmodSync(tmp.dir, 0o755);
      const tree = path.join(tmp.dir, 'tree');
      const home = path.join(tmp.dir, 'home');
      fs.mkdirSync(tree, { mode: 0o700 });
      const secret = path.join(tree, 'secret.txt');
      fs.writeFileSync(secret, 'root only\n', { mode: 0o600 });
      fs.mkdirSync(home, { mode: 0o750 });
      fs.chownSync(home, NOBODY, NOBODY);
      const passwordFile = path.join(tmp.dir, 'authd.pass');
      fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o600 });
      const conf = path.join(tmp.dir, 'ossec.conf');
      fs.writeFileSync(conf, agentConf({
        servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'caps-agent',
        extra: `<syscheck><frequency>43200</frequency><directories whodata="yes">${tree}</directories></syscheck>`,
      }));

      agent = startCli(['-c', conf, '--home', home, 'run'], setpriv(unitCaps, NOBODY));
      const { remoted } = manager;
      const ready = () => /scan ended: 1 files, 1 added/.test(agent!.stderr) && /Real-time capture mode: /.test(agent!.stderr);
      await remoted.waitFor('the baseline and the capture', ready, 60_000);
      expect(agent.stderr).to.include(`Real-time capture mode: ${fullRootMode} `);
      expect(agent.stderr).not.to.match(/WARNING: Capability .* is not effective/);

      const writer = spawn('/bin/sh', ['-c', `echo changed >> ${secret}`], { cwd: tree, stdio: 'ignore' });
      await new Promise((resolve) => writer.once('exit', resolve));
      await remoted.waitFor('the modification alert', () => remoted.alerts.some((a) => a.rule.id === '550'), 30_000);
      const alert = remoted.alerts.find((a) => a.rule.id === '550')!;
      const sc = alert.syscheck as { path: string; mode: string; sha256_after: string; audit: { process: { id: string; cwd: string; name: string } } };
      expect(sc.path).to.equal(secret);
      expect(sc.mode).to.equal('whodata');
      // the agent's user read the 0600 root file through CAP_DAC_READ_SEARCH
      expect(sc.sha256_after).to.equal(crypto.createHash('sha256').update(fs.readFileSync(secret)).digest('hex'));
      // the shell's executable, read in the kernel: no CAP_SYS_PTRACE, and the shell has exited
      expect(sc.audit.process).to.include({ id: String(writer.pid), cwd: tree, name: fs.realpathSync('/bin/sh') });
      // what the agent created is the agent user's
      expect(fs.statSync(path.join(home, 'etc', 'client.keys'))).to.include({ uid: NOBODY });
    });
  });

  it('passes systemd-analyze verify (ExecStart pointed at this build when not installed)', function () {
    if (!hasTool('systemd-analyze')) throw new Error('systemd-analyze is missing: npm run setup installs it (package systemd)');
    const tmp = tempDir('wba-unit');
    try {
      const verify = (text: string): string => {
        const file = path.join(tmp.dir, 'wazuh-bpf-agent.service');
        fs.writeFileSync(file, text);
        const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
        return r.stderr;
      };
      const installed = unitSetting(unit, 'ExecStart')[0]!;
      // verify insists that ExecStart's program exists; this checkout is not installed there
      const text = fs.existsSync(installed) ? unit : unit.replace(`ExecStart=${installed}`, `ExecStart=${process.execPath} ${CLI}`);
      expect(verify(text)).to.equal('');
      // the check can fail: a bad value is reported
      expect(verify(text.replace('ProtectHome=read-only', 'ProtectHome=sometimes'))).to.match(/ProtectHome|protect home/i);
    } finally {
      tmp.cleanup();
    }
  });
});
