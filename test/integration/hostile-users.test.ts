// Local users against the agent (issue #13): the agent runs as root and monitors a tree that the
// unprivileged user `nobody` can write. Each attack runs as nobody, as a loop of at least 1,000
// iterations (sh, and perl where sh is too slow to race a scan), against the real file system,
// while the agent (the CLI, as an administrator runs it) reports to the test manager. Outside the
// tree: a root-only canary directory and file, and the agent's own client.keys. For every attack:
//   - no message the manager received carries the canary's text or hashes, nor client.keys'
//     lines, key or hashes;
//   - the agent did report the tree (it cannot pass by doing nothing);
//   - a change root makes to another monitored file reaches the manager during the attack and
//     after it (each within PROBE_TIMEOUT_MS);
//   - the agent is alive at the end, and SIGTERM stops it within STOP_BOUND_MS (times printed).
// Every check is made whatever the others found; the test fails listing all that did not hold.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { CliProcess, sigtermWithin, startCli } from '../support/cli.js';
import {
  Canary, NOBODY_GID, NOBODY_UID, Secret, UserRun, asNobody, clientKeysSecrets, leaks, makeCanary,
} from '../support/hostile-users.js';
import { TEST_PASSWORD, TestManager, agentConf, tempDir } from '../support/manager.js';

const root = process.geteuid?.() === 0;

/** Iterations of each attack loop (the issue asks for at least 1,000). */
const ITERATIONS = 1000;
/** How long a change root makes may take to reach the manager while an attack runs (generous: 2-core CI). */
const PROBE_TIMEOUT_MS = 30_000;
/** How long the agent may take to exit after SIGTERM (generous: a loaded 2-core CI machine). */
const STOP_BOUND_MS = 10_000;
/** Pause between two probes while an attack runs. */
const PROBE_EVERY_MS = 1000;
/** Files in the canary directory besides `shadow` (a scan through a swapped subtree reaches each). */
const CANARY_OTHERS = 19;

const SYSCHECK = '8:syscheck:';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The attack loops. Each runs in the directory it attacks, gets the iteration count as $1 and the
// target of its symlinks as $2 (more after it where said), stops at the first failing step and
// prints "done <iterations>" at the end.

/** dl/shadow created and edited, dl renamed away (unique names) and a symlink dl -> $2 put in its place. */
const DIRECTORY_SWAP = `
n=$1; target=$2; i=0
while [ $i -lt $n ]; do
  rm -f dl && mkdir dl && echo "dl/shadow of iteration $i" > dl/shadow && echo "edited $i" >> dl/shadow &&
    mv -T dl dl.$i && ln -s "$target" dl || exit 1
  i=$((i + 1))
done
echo done $i`;

/**
 * For scheduled scans, in perl (perl-base only): a shell loop's fork and exec per step swaps far
 * slower than a scan lists a directory and reads its files, so a scan would hardly ever see a
 * swap in between. Four subtrees dl0..dl3 hold files of the names given after $secs (the canary
 * directory's), each followed in walk order by five files of their own; each is swapped with a
 * symlink to $target at least $n times and for at least $secs seconds, so that a scan that lists
 * one as a directory reaches its later names through the link. The named files get new content
 * every 200 swaps, so that scans also diff them.
 */
const SUBTREE_SWAP_PL = `
use strict;
my ($n, $target, $secs, @names) = @ARGV;
my @dirs = map { "dl$_" } 0 .. 3;
sub put { my ($f, $text) = @_; open(my $h, '>', $f) or die "$f: $!"; print $h $text; close($h) or die "$f: $!"; }
for my $d (@dirs) {
  mkdir($d) or die "mkdir $d: $!";
  for my $f (@names) { put("$d/$f.$_", "filler $_\n") for 0 .. 4; }
}
my $end = time + $secs;
my $i = 0;
while ($i < $n || time < $end) {
  if ($i % 200 == 0) { for my $d (@dirs) { put("$d/$_", "my own $d/$_, version $i\n") for @names; } }
  for my $d (@dirs) { rename($d, "$d.real") or die "rename $d: $!"; symlink($target, $d) or die "symlink $d: $!"; }
  select(undef, undef, undef, 0.0005);
  for my $d (@dirs) { unlink($d) or die "unlink $d: $!"; rename("$d.real", $d) or die "rename $d.real: $!"; }
  select(undef, undef, undef, 0.0005);
  $i++;
}
print "done $i\n";
`;

/** f swapped between a regular file (new content each time) and a symlink to $2. */
const FILE_SYMLINK_RACE = `
n=$1; target=$2; i=0
while [ $i -lt $n ]; do
  echo "regular content $i" > f.new && mv -T f.new f && ln -s "$target" f.lnk && mv -T f.lnk f || exit 1
  i=$((i + 1))
done
echo done $i`;

/** f swapped between a regular file (new content each time) and a FIFO nobody ever writes. */
const FIFO_SWAP = `
n=$1; i=0
while [ $i -lt $n ]; do
  echo "regular content $i" > f.new && mv -T f.new f && mkfifo f.fifo && mv -T f.fifo f || exit 1
  i=$((i + 1))
done
echo done $i`;

/** A sparse 15 TiB file (touched again every 100 iterations) and a file appended to all along. */
const NEVER_ENDING = `
n=$1; i=0
truncate -s 15T big || exit 1
while [ $i -lt $n ]; do
  echo "line $i" >> grow || exit 1
  if [ $((i % 100)) -eq 0 ]; then echo "more $i" >> big || exit 1; fi
  sleep 0.005
  i=$((i + 1))
done
echo done $i`;

interface Attack {
  /** Which monitored directory it runs in: `live` (realtime, report_changes) or `sched` (scheduled scans only, report_changes). */
  in: 'live' | 'sched';
  /** A sh(1) script, or a perl one. */
  script: string;
  perl?: boolean;
  /** The arguments after the iteration count: the symlinks' target, names... */
  args?: (canary: Canary, home: string) => string[];
  /** <frequency> of scheduled scans (default 43200: only the one at start). */
  frequency?: number;
}

interface FimEvent {
  type: string;
  data: { path: string; type: string; mode: string };
}

function fimEvent(text: string): FimEvent | undefined {
  if (!text.startsWith(SYSCHECK)) return undefined;
  try {
    const j = JSON.parse(text.slice(SYSCHECK.length)) as FimEvent;
    return j.type === 'event' && typeof j.data?.path === 'string' ? j : undefined;
  } catch {
    return undefined;
  }
}

describe('hostile local users against the agent (issue #13)', function () {
  this.timeout(180_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let agent: CliProcess | undefined;
  let attacker: UserRun | undefined;

  before(function () {
    if (!root) this.skip(); // the agent's capture and setpriv need root
  });
  beforeEach(async () => {
    manager = await new TestManager().start();
    tmp = tempDir('wba-hostile-users');
    fs.chmodSync(tmp.dir, 0o755); // nobody reaches the tree below; the canary and the home stay closed
  });
  afterEach(async () => {
    if (attacker && attacker.child.exitCode === null && attacker.child.signalCode === null) {
      attacker.child.kill('SIGKILL'); // setpriv execs the loop: this is the loop itself
      await attacker.exited;
    }
    attacker = undefined;
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    agent = undefined;
    await manager.stop();
    tmp.cleanup();
  });

  /** Runs one attack against a fresh agent; returns what did not hold (empty: all did). */
  async function run(name: string, attack: Attack): Promise<string[]> {
    const problems: string[] = [];
    const tree = path.join(tmp.dir, 'tree');
    const live = path.join(tree, 'live');
    const sched = path.join(tree, 'sched');
    for (const d of [tree, live, sched]) {
      fs.mkdirSync(d);
      fs.chmodSync(d, 0o755);
      fs.chownSync(d, NOBODY_UID, NOBODY_GID);
    }
    const probe = path.join(live, 'probe.txt'); // root's, in the same real-time directory
    fs.writeFileSync(probe, 'root was here\n');
    fs.writeFileSync(path.join(sched, 'plain.txt'), 'plain\n');
    const canary = makeCanary(path.join(tmp.dir, 'canary'), CANARY_OTHERS);
    const home = path.join(tmp.dir, 'home');
    const passwordFile = path.join(tmp.dir, 'authd.pass');
    fs.writeFileSync(passwordFile, `${TEST_PASSWORD}\n`, { mode: 0o640 });
    const conf = path.join(tmp.dir, 'ossec.conf');
    fs.writeFileSync(conf, agentConf({
      servers: [{ port: manager.remoted.tcpPort }], authdPort: manager.authd.port, passwordFile, agentName: 'hostile-users',
      extra: `  <syscheck>
    <frequency>${attack.frequency ?? 43200}</frequency>
    <max_eps>0</max_eps>
    <directories realtime="yes" report_changes="yes">${live}</directories>
    <directories report_changes="yes">${sched}</directories>
  </syscheck>`,
    }).replace('<events_per_second>500</events_per_second>', '<events_per_second>1000</events_per_second>')
      .replace('<queue_size>5000</queue_size>', '<queue_size>100000</queue_size>'));

    const { remoted } = manager;
    agent = startCli(['-c', conf, '--home', home, 'run']);
    const a = agent;
    await remoted.waitFor('the baseline scan and the real-time capture', () => {
      if (a.child.exitCode !== null) throw new Error(`the agent exited (${a.child.exitCode}):\n${a.stderr}`);
      return /scan ended/.test(a.stderr) && /Real-time capture mode/.test(a.stderr);
    }, 60_000);
    const secrets: Secret[] = [...canary.secrets, ...clientKeysSecrets(path.join(home, 'etc', 'client.keys'))];

    // The FIM events so far, kept up to date incrementally (the predicate runs on every message).
    const events: FimEvent[] = [];
    let seen = 0;
    const fimEvents = () => {
      for (; seen < remoted.messages.length; seen++) {
        const e = fimEvent(remoted.messages[seen]!.text);
        if (e) events.push(e);
      }
      return events;
    };
    const probeEvents = () => fimEvents().filter((e) => e.data.path === probe && e.data.type === 'modified').length;
    const latencies: number[] = [];
    let probes = 0;
    let probing = true;
    /** root changes the probe file; false when the change did not reach the manager in time. */
    const probeOnce = async (when: string): Promise<boolean> => {
      const before = probeEvents();
      const t0 = Date.now();
      fs.appendFileSync(probe, `probe ${++probes}\n`);
      try {
        await remoted.waitFor(`the change to ${probe}`, () => probeEvents() > before, PROBE_TIMEOUT_MS);
        latencies.push(Date.now() - t0);
        return true;
      } catch {
        problems.push(`root's change ${probes} to ${probe} (${when}) did not reach the manager within ${PROBE_TIMEOUT_MS} ms`);
        return (probing = false);
      }
    };

    const dir = attack.in === 'live' ? live : sched;
    const scansBefore = a.stderr.match(/scan ended/g)?.length ?? 0;
    const args = [String(ITERATIONS), ...attack.args?.(canary, home) ?? []];
    attacker = asNobody(dir, attack.perl ? ['perl', '-e', attack.script, ...args] : ['sh', '-c', attack.script, 'sh', ...args]);
    const user = attacker;
    let attacking = true;
    void user.exited.then(() => (attacking = false));
    await sleep(300);
    let during = 0;
    while (attacking && probing) {
      if (await probeOnce('during the attack')) during++;
      await Promise.race([user.exited, sleep(PROBE_EVERY_MS)]);
    }
    const attackRun = await user.exited;
    const done = /^done (\d+)$/m.exec(attackRun.stdout);
    expect(attackRun.code, `the attack loop as nobody failed:\n${attackRun.stderr}`).to.equal(0);
    expect(Number(done?.[1])).to.be.at.least(ITERATIONS);
    if (probing && during === 0) problems.push('no probe ran during the attack'); // the attack was too short to tell
    if (probing) await probeOnce('after the attack'); // behind everything the attack left queued
    const scans = (a.stderr.match(/scan ended/g)?.length ?? 0) - scansBefore;

    const alive = a.child.exitCode === null && a.child.signalCode === null;
    if (!alive) problems.push(`the agent died during the attack (exit ${a.child.exitCode ?? a.child.signalCode})`);
    const stop = alive ? await sigtermWithin(a, STOP_BOUND_MS) : undefined;
    if (stop && !stop.stopped) problems.push(`SIGTERM did not stop the agent within ${STOP_BOUND_MS} ms (SIGKILLed; its threads were waiting in: ${stop.waits})`);

    const texts = remoted.messages.map((m) => m.text);
    problems.push(...leaks(texts, secrets));
    const attackEvents = fimEvents().filter((e) => e.data.path.startsWith(`${dir}/`));
    if (!attackEvents.length) problems.push(`the agent reported nothing under ${dir}: no evidence it looked at the attack at all`);
    if (attack.frequency !== undefined && scans < 2) problems.push(`only ${scans} scheduled scans ended during the attack`);

    const ms = (v: number) => `${Math.round(v)} ms`;
    console.log(`      [${name}] ${done?.[1]} iterations as nobody in ${ms(attackRun.ms)}; ` +
      `${attackEvents.length} FIM events for the attacked directory, ${texts.length} messages in all` +
      (attack.frequency !== undefined ? `, ${scans} scheduled scans ended` : '') + '; ' +
      `probes ${latencies.length}/${probes} reached the manager (max ${latencies.length ? ms(Math.max(...latencies)) : '-'}); ` +
      `SIGTERM -> ${stop ? (stop.stopped ? `exit ${stop.code} in ${ms(stop.ms)}` : `still running after ${ms(stop.ms)}`) : 'not sent (dead)'} ` +
      `(bound ${ms(STOP_BOUND_MS)})`);
    if (problems.length) console.log(problems.map((p) => `        - ${p}`).join('\n'));
    return problems;
  }

  it(`a directory swapped for a symlink to a root-only directory (realtime, report_changes): nothing of the canary leaks; SIGTERM within ${STOP_BOUND_MS} ms`, async () => {
    const problems = await run('directory swap, real-time', { in: 'live', script: DIRECTORY_SWAP, args: (c) => [c.dir] });
    expect(problems).to.deep.equal([]);
  });

  it(`a subtree swapped with a symlink to a root-only directory under scheduled scans every second (report_changes): nothing of the canary leaks; SIGTERM within ${STOP_BOUND_MS} ms`, async () => {
    const problems = await run('subtree swap, scheduled scans', { in: 'sched', script: SUBTREE_SWAP_PL, perl: true, args: (c) => [c.dir, '8', ...c.names], frequency: 1 });
    expect(problems).to.deep.equal([]);
  });

  it(`a file raced against a symlink to a root-only file: nothing of it leaks; SIGTERM within ${STOP_BOUND_MS} ms`, async () => {
    const problems = await run('file/symlink race, canary', { in: 'live', script: FILE_SYMLINK_RACE, args: (c) => [c.file] });
    expect(problems).to.deep.equal([]);
  });

  it(`a file raced against a symlink to the agent's own client.keys: nothing of it leaks; SIGTERM within ${STOP_BOUND_MS} ms`, async () => {
    const problems = await run('file/symlink race, client.keys', { in: 'live', script: FILE_SYMLINK_RACE, args: (_c, home) => [path.join(home, 'etc', 'client.keys')] });
    expect(problems).to.deep.equal([]);
  });

  it(`a file swapped with a FIFO: the agent stays alive and responsive; SIGTERM within ${STOP_BOUND_MS} ms`, async () => {
    const problems = await run('FIFO swap', { in: 'live', script: FIFO_SWAP });
    expect(problems).to.deep.equal([]);
  });

  it(`a sparse 15 TiB file and a file appended to all along: other changes still arrive; SIGTERM within ${STOP_BOUND_MS} ms`, async () => {
    const problems = await run('never-ending files', { in: 'live', script: NEVER_ENDING });
    expect(problems).to.deep.equal([]);
  });
});
