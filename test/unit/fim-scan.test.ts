import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CHECKS } from '../../src/fim/format.js';
import { configFor, expandDirectories, expandGlob } from '../../src/fim/scan.js';
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
