import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import winston from 'winston';
import { OssecLogFile, rotatedPath } from '../../src/log-file.js';
import { formatRecord } from '../../src/log.js';
import { tempDir } from '../support/manager.js';
import { fillFilesystem } from '../support/disk.js';

describe('ossec.log rotation', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => (tmp = tempDir('wba-log')));
  afterEach(() => tmp.cleanup());

  function logger(now: () => Date, keepDays?: number) {
    const transport = new OssecLogFile({ logDir: tmp.dir, json: false, now, keepDays });
    const format = winston.format.printf((info) => formatRecord(info.level, String(info.message), false, now()));
    return { log: winston.createLogger({ format, transports: [transport] }), transport };
  }
  const flush = () => new Promise((r) => setImmediate(r));

  it('names rotated files as wazuh-monitord does', () => {
    expect(rotatedPath('/var/ossec/logs', 'log', new Date(2026, 10, 5))).to.equal('/var/ossec/logs/ossec/2026/Nov/ossec-05.log.gz');
    expect(rotatedPath('/l', 'json', new Date(2027, 0, 31))).to.equal('/l/ossec/2027/Jan/ossec-31.json.gz');
  });

  it('moves the day to ossec/YYYY/Mon/ossec-DD.log.gz at the first line of the next day, and drops files past keepDays', async () => {
    let now = new Date(2026, 10, 24, 23, 59, 58);
    const stale = rotatedPath(tmp.dir, 'log', new Date(2026, 9, 1));
    fs.mkdirSync(path.dirname(stale), { recursive: true });
    fs.writeFileSync(stale, 'old');
    const kept = rotatedPath(tmp.dir, 'log', new Date(2026, 10, 1));
    fs.mkdirSync(path.dirname(kept), { recursive: true });
    fs.writeFileSync(kept, 'recent');
    const { log, transport } = logger(() => now, 31);
    log.info('before midnight');
    await flush();
    now = new Date(2026, 10, 25, 0, 0, 1);
    log.info('after midnight');
    await flush();
    transport.close();
    const rotated = rotatedPath(tmp.dir, 'log', new Date(2026, 10, 24));
    expect(zlib.gunzipSync(fs.readFileSync(rotated)).toString()).to.equal('2026/11/24 23:59:58 wazuh-bpf-agent: INFO: before midnight\n');
    expect(fs.readFileSync(path.join(tmp.dir, 'ossec.log'), 'utf8')).to.equal('2026/11/25 00:00:01 wazuh-bpf-agent: INFO: after midnight\n');
    expect(fs.existsSync(stale), 'older than 31 days').to.equal(false);
    expect(fs.existsSync(kept)).to.equal(true);
  });

  it('rotates a log left from an earlier day when the agent starts again', async () => {
    const file = path.join(tmp.dir, 'ossec.log');
    fs.writeFileSync(file, 'yesterday\n');
    const yesterday = new Date(2026, 10, 24, 12);
    fs.utimesSync(file, yesterday, yesterday);
    const { log, transport } = logger(() => new Date(2026, 10, 25, 8));
    log.info('today');
    await flush();
    transport.close();
    expect(zlib.gunzipSync(fs.readFileSync(rotatedPath(tmp.dir, 'log', yesterday))).toString()).to.equal('yesterday\n');
    expect(fs.readFileSync(file, 'utf8')).to.match(/INFO: today\n$/);
  });

  it('on a full disk counts the lines it cannot write (no half line, no throw) and says how many once it can again', async function () {
    if (process.geteuid?.() !== 0) this.skip(); // mounts a tiny tmpfs
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', tmp.dir]);
    try {
      const now = new Date(2026, 10, 25, 8);
      const { log, transport } = logger(() => now);
      log.info('first');
      await flush();
      const filler = fillFilesystem(tmp.dir);
      for (let i = 0; i < 2000; i++) log.info(`line ${i} ${'x'.repeat(100)}`);
      await flush();
      const during = fs.readFileSync(path.join(tmp.dir, 'ossec.log'), 'utf8');
      expect(during.endsWith('\n'), 'whole lines only').to.equal(true);
      const written = during.split('\n').length - 2;
      expect(written).to.be.lessThan(2000);
      fs.rmSync(filler);
      log.info('space is back');
      await flush();
      transport.close();
      const lines = fs.readFileSync(path.join(tmp.dir, 'ossec.log'), 'utf8').trimEnd().split('\n');
      expect(lines.at(-2)).to.equal(`2026/11/25 08:00:00 wazuh-bpf-agent: WARNING: ${2000 - written} log lines could not be written to ${path.join(tmp.dir, 'ossec.log')} (ENOSPC: no space left on device, write).`);
      expect(lines.at(-1)).to.equal('2026/11/25 08:00:00 wazuh-bpf-agent: INFO: space is back');
    } finally {
      execFileSync('umount', ['--lazy', tmp.dir]);
    }
  });
});
