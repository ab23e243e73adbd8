// End to end against a REAL Wazuh 4.14.7 manager (built by ../shared/wazuh-manager in CI, or
// `docker compose up` for users): the agent's own CLI enrolls, runs, and its events must come
// out of the manager's analysisd as alerts in alerts.json. No manager = failure, not a skip.
// (test/support/real-manager.ts: where it is).
//
// FIM is real: the agent monitors a directory with who-data (eBPF capture in the best mode this
// kernel allows) and a child process creates, modifies and deletes a file in it. Then user nobody
// swaps a directory of a monitored tree for a symlink to a root-only directory, again and again:
// nothing of the file behind that symlink (its content, its hashes) may reach alerts.json.
import { expect } from 'chai';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AlertsTail } from '../support/alerts-tail.js';
import { CLI, runCli } from '../support/cli.js';
import { tempDir } from '../support/manager.js';
import { ADDRESS, ALERTS, PASSWORD, requireManager } from '../support/real-manager.js';

describe('end to end with a real Wazuh manager', function () {
  this.timeout(180_000);
  const agentName = `e2e-${process.pid}-${Date.now() % 100000}`;
  const { dir, cleanup } = tempDir('wba-e2e');
  const conf = path.join(dir, 'ossec.conf');
  const home = path.join(dir, 'home');
  const passFile = path.join(dir, 'authd.pass');
  const watched = path.join(dir, 'watched');
  let agentLog = '';
  let agent: ChildProcess | undefined;
  let tail: AlertsTail;

  const startAgent = () => {
    agentLog = '';
    agent = spawn(process.execPath, [CLI, '-c', conf, '--home', home, 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr!.on('data', (d) => (agentLog += d));
  };
  /** The agent's ossec.conf: `watched` with who-data, plus any `syscheck` options and directories. */
  const writeConf = (syscheck = '<frequency>43200</frequency>') => fs.writeFileSync(
    conf,
    `<ossec_config>
  <client>
    <server><address>${ADDRESS}</address><port>1514</port><protocol>tcp</protocol><retry_interval>2</retry_interval></server>
    <notify_time>5</notify_time>
    <time-reconnect>30</time-reconnect>
    <enrollment>
      <agent_name>${agentName}</agent_name>
      <authorization_pass_path>${passFile}</authorization_pass_path>
      <delay_after_enrollment>1</delay_after_enrollment>
    </enrollment>
  </client>
  <syscheck>
    ${syscheck}
    <directories whodata="yes" report_changes="yes">${watched}</directories>
  </syscheck>
</ossec_config>
`,
  );
  /** Resolves once the agent's log matches `re` (from `from` on in the log). */
  const logShows = async (what: string, re: RegExp, timeoutMs = 60_000, from = 0) => {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(agentLog.slice(from))) {
      if (Date.now() > deadline) throw new Error(`agent log shows no ${what} within ${timeoutMs} ms:\n${agentLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const stopAgent = async () => {
    const p = agent;
    agent = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };

  before(async () => {
    await requireManager();
    fs.writeFileSync(passFile, `${PASSWORD}\n`, { mode: 0o600 });
    fs.mkdirSync(watched);
    writeConf();
    tail = new AlertsTail(ALERTS, agentName);
  });

  after(async () => {
    await stopAgent();
    cleanup();
  });

  it('enrolls with wazuh-authd through the CLI (client.keys 0640)', async () => {
    const r = await runCli(['-c', conf, '--home', home, 'enroll']);
    const output = r.stdout + r.stderr;
    expect(r.code, output).to.equal(0);
    const keys = path.join(home, 'etc', 'client.keys');
    expect(fs.statSync(keys).mode & 0o777).to.equal(0o640);
    expect(fs.readFileSync(keys, 'utf8')).to.match(new RegExp(`^\\d{3,} ${agentName} any [0-9a-f]{64}\\n$`));
    expect(output).to.not.include(PASSWORD);
  });

  it('connects: the manager raises rule 501 (new agent connected)', async () => {
    startAgent();
    const a = await tail.waitFor('rule 501', (x) => x.rule.id === '501');
    expect(a.rule.description).to.equal('New wazuh agent connected.');
  });

  it('reports real file changes with who-data: rules 554 (added), 550 (modified), 553 (deleted)', async () => {
    const deadline = Date.now() + 60_000;
    while (!/Real-time capture mode: /.test(agentLog) || !/File integrity monitoring scan ended/.test(agentLog)) {
      if (Date.now() > deadline) throw new Error(`agent did not start capture and its first scan:\n${agentLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const file = path.join(watched, 'watched.txt');
    const sh = (script: string) => execFileSync('/bin/sh', ['-c', script], { cwd: watched });
    sh(`echo created > ${file}`);
    const added = await tail.waitFor('rule 554', (x) => x.rule.id === '554' && x.syscheck?.path === file);
    expect(added.syscheck!.mode).to.equal('whodata');
    sh(`echo modified >> ${file}`);
    const modified = await tail.waitFor('rule 550', (x) => x.rule.id === '550' && x.syscheck?.path === file);
    expect(modified.syscheck!.changed_attributes).to.include.members(['size', 'md5', 'sha1', 'sha256']);
    expect(modified.syscheck!.diff).to.equal('1a2\n> modified\n'); // report_changes
    sh(`rm ${file}`);
    const deleted = await tail.waitFor('rule 553', (x) => x.rule.id === '553' && x.syscheck?.path === file);
    expect(deleted.syscheck!.mode).to.equal('whodata');
    const audit = deleted.syscheck!.audit as { process: { name: string; cwd: string }; user: { id: string } };
    expect(audit.process.name).to.match(/(^|\/)rm$/);
    expect(audit.process.cwd).to.equal(watched);
    expect(audit.user.id).to.equal(String(process.getuid!()));
  });

  it('restarts with the same key and counters: the manager raises rule 503 (agent started)', async () => {
    await stopAgent();
    startAgent();
    const a = await tail.waitFor('rule 503', (x) => x.rule.id === '503');
    expect(a.full_log).to.equal(`ossec: Agent started: '${agentName}->any'.`);
    // remoted answered the keepalives that confirm delivery, so the stop left nothing to re-send
    expect(agentLog).to.match(/Started \(pid/);
    expect(agentLog).to.not.match(/events not confirmed by the manager/);
  });

  // A user who can write in a monitored tree makes a path the agent is about to read (dl/shadow)
  // lead outside the tree, into a directory that user cannot read, by renaming the directory dl
  // away and putting a symlink in its place. The agent, running as root, must never read, hash or
  // diff what is behind that symlink. (The 1,000-iteration stress is in the integration suite;
  // this is the real manager's view of it, with realtime and who-data.)
  describe('a monitored directory swapped for a symlink by user nobody', function () {
    this.timeout(150_000);
    const ITERATIONS = 100;
    const token = `canary-${crypto.randomBytes(24).toString('hex')}`;
    let base: string;
    let canaryDir: string;
    let canaryFile: string;
    let trees: { realtime: string; whodata: string };

    before(async () => {
      // under /tmp, 0755: every user can reach the trees, only root the canary
      base = fs.mkdtempSync('/tmp/wba-e2e-');
      fs.chmodSync(base, 0o755);
      canaryDir = path.join(base, 'canary');
      fs.mkdirSync(canaryDir, { mode: 0o700 });
      canaryFile = path.join(canaryDir, 'shadow');
      fs.writeFileSync(canaryFile, `root:$6$${token}:19000:0:99999:7:::\n`, { mode: 0o600 });
      trees = { realtime: path.join(base, 'realtime'), whodata: path.join(base, 'whodata') };
      for (const t of Object.values(trees)) {
        fs.mkdirSync(t, { mode: 0o755 });
        fs.chownSync(t, 65534, 65534);
      }
      await stopAgent();
      // a short frequency: a scheduled scan also walks the swapped tree after the attack
      writeConf(`<frequency>10</frequency>
    <max_eps>0</max_eps>
    <directories realtime="yes" report_changes="yes">${trees.realtime}</directories>
    <directories whodata="yes" report_changes="yes">${trees.whodata}</directories>`);
      startAgent();
      await logShows('capture and first scan', /Real-time capture mode: [\s\S]*File integrity monitoring scan ended|File integrity monitoring scan ended[\s\S]*Real-time capture mode: /);
    });

    after(() => {
      if (base) fs.rmSync(base, { recursive: true, force: true }); // rm does not follow the dl symlink
    });

    it('reports the tree, and no alert carries the content or the hashes of the file behind the symlink', async () => {
      // nobody, in each tree at once: create dl/shadow, edit it, rename dl away, symlink dl to
      // the canary directory, try to append through it (refused: only the agent could read it)
      const script = `set -eu
cd "$1"; i=0
while [ "$i" -lt "$3" ]; do
  mkdir dl
  echo "nobody line $i" > dl/shadow
  sleep 0.01
  echo "nobody edit $i" >> dl/shadow
  mv dl "old.$i"
  ln -s "$2" dl
  if echo x >> dl/shadow 2>/dev/null; then echo "nobody could write through dl" >&2; exit 3; fi
  sleep 0.02
  if [ "$i" -lt $(($3 - 1)) ]; then rm dl; fi
  i=$((i + 1))
done`;
      const attack = (tree: string) => new Promise<void>((resolve, reject) => {
        const p = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sh', '-c', script, 'sh', tree, canaryDir, String(ITERATIONS)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr!.on('data', (d) => (err += d));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`attack in ${tree} exited ${code}: ${err}`))));
      });
      await Promise.all(Object.values(trees).map(attack));
      for (const t of Object.values(trees)) expect(fs.readlinkSync(path.join(t, 'dl'))).to.equal(canaryDir); // left swapped

      // a scheduled scan that starts after the attack walks the swapped trees
      await logShows('scheduled scan after the attack', /File integrity monitoring scan started\.[\s\S]*File integrity monitoring scan ended/, 40_000, agentLog.length);
      // proof the agent kept working: files root creates afterwards, and the files the attack left
      for (const t of Object.values(trees)) {
        const proof = path.join(t, 'proof');
        fs.writeFileSync(proof, 'created by root after the attack\n');
        await tail.waitFor(`rule 554 for ${proof}`, (x) => x.rule.id === '554' && x.syscheck?.path === proof, 30_000);
        const left = path.join(t, `old.${ITERATIONS - 1}`, 'shadow');
        await tail.waitFor(`rule 554 for ${left}`, (x) => x.rule.id === '554' && x.syscheck?.path === left, 30_000);
      }
      await tail.settle(3000);

      const content = fs.readFileSync(canaryFile);
      const needles: Record<string, string> = { token };
      for (const h of ['md5', 'sha1', 'sha256']) needles[h] = crypto.createHash(h).update(content).digest('hex');
      const leaks = tail.alerts.flatMap((a) => {
        const json = JSON.stringify(a);
        const found = Object.keys(needles).filter((k) => json.toLowerCase().includes(needles[k]!));
        return found.length ? [`rule ${a.rule.id} ${a.syscheck?.path ?? a.full_log?.slice(0, 80)} (${a.syscheck?.mode ?? '-'}): ${found.join(', ')}`] : [];
      });
      const shown = leaks.slice(0, 20).join('\n') + (leaks.length > 20 ? `\n... and ${leaks.length - 20} more` : '');
      expect(leaks.length, `${leaks.length} of ${tail.alerts.length} alerts of ${agentName} carry the canary ${canaryFile}:\n${shown}`).to.equal(0);
    });
  });
});
