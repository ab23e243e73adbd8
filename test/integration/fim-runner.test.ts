// The FIM runner's sync schedule (Wazuh's FIMDB::runIntegrity and syncAlgorithm) against the test
// manager, with intervals of seconds: <interval> 1, <max_interval> 4, <response_timeout> 1, states
// paced at 25 a second. The first sync comes after the first scan; the manager, whose inventory
// is empty, answers no_data, and the states of the 120 files take about 5 s to go out. While they
// flow the checks are skipped and the interval doubles (2 s, then 4 s, max_interval): no second
// sync starts to cancel the first one's answers. The next sync, once they stopped, finds the
// inventory equal; the manager answers nothing, and at the check after it the interval is reset
// to 1 s.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/agent.js';
import { fimAgent } from '../support/fim-agent.js';
import { TestManager, tempDir } from '../support/manager.js';
import { until } from '../support/wait.js';

const FILES = 120;
const SKIPPED = /^Sync still in progress\. Skipped next sync and increased interval to '(\d+)s'$/;
const RESET = "Previous sync was successful. Sync interval is reset to: '1s'";

describe('fim runner: the integrity sync on Wazuh\'s schedule', function () {
  this.timeout(120_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let agent: Agent | undefined;

  before(async () => {
    manager = await new TestManager().start();
    tmp = tempDir('wba-fim-runner');
  });
  after(async () => {
    await agent?.stop();
    await manager.stop();
    tmp.cleanup();
  });

  it('skips the checks while the first sync\'s states flow, doubling the interval up to max_interval, then resets it once the manager is quiet', async () => {
    const tree = path.join(tmp.dir, 'tree');
    fs.mkdirSync(tree);
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(tree, `f${String(i).padStart(3, '0')}`), `content ${i}\n`);
    const started = fimAgent(manager, tmp.dir, `  <syscheck>
    <frequency>43200</frequency>
    <directories>${tree}</directories>
    <synchronization>
      <interval>1</interval><max_interval>4</max_interval><response_timeout>1</response_timeout><max_eps>25</max_eps>
    </synchronization>
  </syscheck>`);
    agent = started.agent;
    const { log } = started;
    await agent.start();
    const lines = () => log.records.map((r) => r.msg);
    await until('the interval reset', () => lines().includes(RESET), 60_000);
    const resetAt = lines().indexOf(RESET);
    await until('three syncs after the reset', () => lines().slice(resetAt).filter((m) => m === 'Executing FIM sync.').length >= 3, 30_000);

    const all = lines();
    expect(all.indexOf('FIM sync module started.'), 'the sync module starts after the first scan')
      .to.be.greaterThan(all.findIndex((m) => m.startsWith(`File integrity monitoring scan ended: ${FILES} files`)));
    const skipped = all.slice(0, resetAt).map((m) => SKIPPED.exec(m)?.[1]).filter((s) => s !== undefined).map(Number);
    expect(skipped.length, 'checks skipped while the states flowed').to.be.at.least(2);
    expect(skipped, 'each skip doubles the interval, up to max_interval').to.deep.equal(skipped.map((_, i) => Math.min(2 ** (i + 1), 4)));
    expect(all.slice(resetAt).filter((m) => SKIPPED.test(m)), 'nothing in progress after the reset').to.deep.equal([]);

    const states = manager.remoted.received(/^5:fim_file:\{"component":"fim_file","data":\{"attributes"/);
    const globals = manager.remoted.received(/^5:fim_file:.*"type":"integrity_check_global"/);
    expect(states.length, 'one no_data answer: each state once').to.equal(FILES);
    const [first, last] = [states[0]!.at, states.at(-1)!.at];
    expect(last - first, 'the states took seconds (max_eps 25)').to.be.at.least(3000);
    expect(globals.filter((g) => g.at > first && g.at < last), 'no sync started while they flowed').to.deep.equal([]);
    expect(globals.length, 'the first sync, the one after the states, and those after the reset').to.be.at.least(5);
  });
});
