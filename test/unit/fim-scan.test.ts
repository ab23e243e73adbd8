import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { parseAgentConfig } from '../../src/config/load.js';
import { MonitoredRoot } from '../../src/fim/access.js';
import { FirstScanProgress } from '../../src/fim/first-scan.js';
import { DEFAULT_CHECKS } from '../../src/fim/state.js';
import { configFor, expandDirectories, expandGlob, walkDirectory, walkOrder } from '../../src/fim/scan.js';
import type { DirectoryConfig } from '../../src/config/types.js';
import { tempDir } from '../support/manager.js';

const dir = (p: string, over: Partial<DirectoryConfig> = {}): DirectoryConfig => ({
  path: p, wildcard: false, realtime: false, whodata: false, reportChanges: false, checks: { ...DEFAULT_CHECKS },
  recursionLevel: 256, followSymbolicLink: false, diffSizeLimitKb: 51200, line: 1, ...over,
});

describe('fim: which files belong to which directory', () => {
  it('expands wildcard directories like glob(3)', () => {
    const { dir: root, cleanup } = tempDir('wba-glob');
    try {
      for (const d of ['home/alice/.ssh', 'home/bob/.ssh', 'home/carol', 'home/.hidden/.ssh']) fs.mkdirSync(path.join(root, d), { recursive: true });
      expect(expandGlob(`${root}/home/*/.ssh`)).to.deep.equal([`${root}/home/alice/.ssh`, `${root}/home/bob/.ssh`]);
      expect(expandGlob(`${root}/home/[!a]*`)).to.deep.equal([`${root}/home/bob`, `${root}/home/carol`]);
      expect(expandGlob(`${root}/home/?ob`)).to.deep.equal([`${root}/home/bob`]);
      const expanded = expandDirectories([dir(`${root}/home/*/.ssh`, { wildcard: true, whodata: true }), dir(`${root}/home/bob/.ssh`)]);
      // an entry configured explicitly wins over the wildcard's expansion
      expect(expanded.map((d) => [d.path, d.whodata]).sort()).to.deep.equal([[`${root}/home/alice/.ssh`, true], [`${root}/home/bob/.ssh`, false]]);
    } finally {
      cleanup();
    }
  });

  it('gives a path to the deepest configured directory, within its recursion_level', () => {
    const dirs = [dir('/etc'), dir('/etc/ssh', { recursionLevel: 0, reportChanges: true })];
    expect(configFor('/etc/hosts', dirs)?.path).to.equal('/etc');
    expect(configFor('/etc/ssh/sshd_config', dirs)?.path).to.equal('/etc/ssh');
    expect(configFor('/etc/ssh/deeper/file', dirs)).to.equal(undefined);
    expect(configFor('/etcetera/x', dirs)).to.equal(undefined);
  });
});

describe('fim: walk order and the first scan\'s progress', () => {
  it('walkOrder is the order walkDirectory yields, not the byte order of the paths', () => {
    const { dir: root, cleanup } = tempDir('wba-walk-order');
    try {
      // 'a-b' and 'a.txt' sort before 'a/…' as paths ('-' and '.' are below '/'), but come after
      // a's files in the walk; '😀' (UTF-16 D83D) before '\uE000' as sort() compares, after it as code points
      const files = ['a/x', 'a/y/z', 'a-b/x', 'a.txt', 'B', 'b/\uE000', 'b/😀', 'é/1', 'é/10', 'é/9'];
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
        fs.writeFileSync(path.join(root, f), f);
      }
      const syscheck = parseAgentConfig(`<ossec_config><client><server><address>127.0.0.1</address></server></client>
        <syscheck><directories>${root}</directories></syscheck></ossec_config>`, 'x').syscheck;
      const dir = syscheck.directories[0]!;
      const walked = MonitoredRoot.with(root, false, (r) => [...walkDirectory(r, dir, syscheck, syscheck.directories)].map((f) => f.path));
      expect(walked).to.have.length(files.length);
      expect([...walked].sort(walkOrder)).to.deep.equal(walked);
      expect([...walked].sort()).to.not.deep.equal(walked);
      expect(walkOrder(`${root}/a`, `${root}/a/x`), 'a directory before what it holds').to.be.below(0);
      expect(walkOrder(`${root}/b`, `${root}/b`)).to.equal(0);
    } finally {
      cleanup();
    }
  });

  it('covers what the first scan stored, per directory, and only moves forward', () => {
    let p = FirstScanProgress.none;
    expect(p.covers('/etc', '/etc/hosts')).to.equal(false);
    p = p.past('/etc', '/etc/b/x')!;
    expect(p.covers('/etc', '/etc/a/zzz')).to.equal(true);
    expect(p.covers('/etc', '/etc/b/x')).to.equal(true);
    expect(p.covers('/etc', '/etc/b-c'), 'after b/ in the walk, though before it as bytes').to.equal(false);
    expect(p.covers('/usr/bin', '/usr/bin/a'), 'another directory: not reached').to.equal(false);
    expect(p.past('/etc', '/etc/a/zzz'), 'behind the progress: nothing to write').to.equal(undefined);
    expect(p.past('/etc', '/etc/b/x')).to.equal(undefined);
    const whole = p.whole('/etc');
    expect(whole.covers('/etc', '/etc/zzz')).to.equal(true);
    expect(whole.past('/etc', '/etc/zzz')).to.equal(undefined);

    const stored = FirstScanProgress.parse(whole.past('/usr/bin', '/usr/bin/ls')!.toString())!;
    expect(stored.covers('/etc', '/etc/zzz')).to.equal(true);
    expect(stored.covers('/usr/bin', '/usr/bin/cat')).to.equal(true);
    expect(stored.covers('/usr/bin', '/usr/bin/man')).to.equal(false);
    expect(FirstScanProgress.parse(undefined), 'no first scan unfinished').to.equal(undefined);
  });

  it('a damaged progress covers nothing (no crash, no additions reported where it cannot tell)', () => {
    for (const damaged of ['', '{', 'null', '[1]', '"x"', '{"/etc": 5, "/usr": null}', '{"__proto__": "/x", "constructor": true}']) {
      const p = FirstScanProgress.parse(damaged)!;
      expect(p.covers('/etc', '/etc/a'), damaged).to.equal(false);
      expect(p.covers('/x', '/x'), damaged).to.equal(false);
    }
    const proto = FirstScanProgress.parse('{"__proto__": "/x/y"}')!;
    expect(proto.covers('__proto__', '/x/a'), 'a key like any other').to.equal(true);
  });
});
