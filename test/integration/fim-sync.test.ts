// Integrity synchronization beside real-time alerts (issue 16). A test manager that answers every
// integrity check with no_data makes the agent send the state of each of its 3,000 files, as fast as
// the client buffer goes (<synchronization><max_eps> 0; some 6 s at 500 a second). Files deleted meanwhile
// must still reach the manager within a second, and no sync message may sit in the durable spool:
// they are regenerable, so they wait in a small lane in memory, behind the events.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/agent.js';
import { decodeRecordAt } from '../../src/spool/record.js';
import { fimAgent } from '../support/fim-agent.js';
import { TestManager, tempDir } from '../support/manager.js';
import { sleep, until } from '../support/wait.js';

const FILES = 3000;
const DELETIONS = 20;
/** The requirement for an alert while a sync runs. */
const ALERT_WITHIN_MS = 1000;

/** The messages of every record in the spool's segment files, sent or not. */
function spooledMessages(dir: string): string[] {
  const messages: string[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.seg'))) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(path.join(dir, name));
    } catch {
      continue; // removed once the manager confirmed all of it
    }
    for (let offset = 0; ;) {
      const r = decodeRecordAt(buf, offset);
      if (r.kind !== 'record') break;
      messages.push(r.entry.message);
      offset += r.size;
    }
  }
  return messages;
}

describe('integrity sync beside real-time alerts', function () {
  this.timeout(120_000);
  let manager: TestManager;
  let tmp: { dir: string; cleanup: () => void };
  let agent: Agent | undefined;

  before(async () => {
    manager = await new TestManager({ answerNoData: true }).start();
    tmp = tempDir('wba-fim-sync');
  });
  after(async () => {
    await agent?.stop();
    await manager.stop();
    tmp.cleanup();
  });

  it('deletions reach the manager within 1 s while no_data answers stream, and the spool holds no sync message', async () => {
    const tree = path.join(tmp.dir, 'tree');
    fs.mkdirSync(tree);
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(tree, `f${String(i).padStart(4, '0')}`), `content ${i}\n`);
    const started = fimAgent(manager, tmp.dir, `  <syscheck>
    <frequency>43200</frequency>
    <directories whodata="yes">${tree}</directories>
    <synchronization><interval>2</interval><max_eps>0</max_eps></synchronization>
  </syscheck>`);
    agent = started.agent;
    const { log } = started;
    await agent.start();
    const spoolDir = agent.paths.spoolDir;
    await until('the first scan', () => log.has('info', new RegExp(`File integrity monitoring scan ended: ${FILES} files`)), 60_000);
    const states = () => manager.remoted.received(/^5:fim_file:\{"component":"fim_file","data":\{"attributes"/);
    await until('state answers streaming', () => states().length >= 500, 30_000);

    // the spool, watched all along: its largest count of sync messages
    let spooledSync = 0;
    const watch = setInterval(() => {
      spooledSync = Math.max(spooledSync, spooledMessages(spoolDir).filter((m) => m.startsWith('5:')).length);
    }, 100);
    const deleted = new Map<string, number>();
    const statesBefore = states().length;
    try {
      for (let i = 0; i < DELETIONS; i++) {
        const file = path.join(tree, `f${String(i * 7).padStart(4, '0')}`);
        fs.unlinkSync(file);
        deleted.set(file, Date.now());
        await sleep(200);
      }
      const arrived = () => new Map(manager.remoted.received(/^8:syscheck:.*"type":"deleted"/).map((m) => {
        const data = (JSON.parse(m.text.slice('8:syscheck:'.length)) as { data: { path: string } }).data;
        return [data.path, m.at] as const;
      }));
      // the old shared queue kept them minutes behind thousands of states: wait long enough to say how late they were
      await until('every deletion at the manager', () => [...deleted.keys()].every((p) => arrived().has(p)), 60_000).catch(() => undefined);
      const late = [...deleted].map(([p, at]) => ({ file: path.basename(p), ms: (arrived().get(p) ?? Infinity) - at }))
        .filter((d) => !(d.ms <= ALERT_WITHIN_MS));
      clearInterval(watch);
      expect(spooledSync, 'sync messages in the spool').to.equal(0);
      expect(late, 'deletions later than 1 s at the manager').to.deep.equal([]);
      expect(states().length - statesBefore, 'states kept streaming meanwhile').to.be.at.least(200);
    } finally {
      clearInterval(watch);
    }
  });
});
