// The walk over hostile trees: names that are not UTF-8, paths at and beyond PATH_MAX, control
// characters in names; and how such paths are written into one-line log records.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { DirectoryConfig, SyscheckConfig } from '../../src/config/types.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/log.js';
import { MonitoredRoot } from '../../src/fim/access.js';
import { PATH_MAX, errnoText, printablePath, walkDirectory } from '../../src/fim/scan.js';
import { INVALID_NAMES, ODD_NAMES, REPLACEMENT_NAME, makeLongPaths, removeTree } from '../support/fim-hostile-tree.js';
import { tempDir } from '../support/manager.js';

function syscheckFor(root: string): SyscheckConfig {
  return parseAgentConfig(`<ossec_config><client><server><address>127.0.0.1</address></server></client>
    <syscheck><directories>${root}</directories></syscheck></ossec_config>`, 'x').syscheck;
}

function walk(syscheck: SyscheckConfig, log: MemoryLogger): string[] {
  const dir = syscheck.directories[0] as DirectoryConfig;
  return MonitoredRoot.with(dir.path, false, (root) => [...walkDirectory(root, dir, syscheck, syscheck.directories, log)].map((f) => f.path));
}

describe('fim: hostile names in log records', () => {
  it('escapes control characters, backslashes and bytes that are not UTF-8, and keeps the rest', () => {
    expect(printablePath('/a/new\nline\ttab\rcr')).to.equal('/a/new\\nline\\ttab\\rcr');
    expect(printablePath('/a/back\\slash "q" \'s\'')).to.equal('/a/back\\\\slash "q" \'s\'');
    expect(printablePath('/a/\x01\x1f\x7f')).to.equal('/a/\\x01\\x1f\\x7f');
    expect(printablePath('/é/€/😀/\uFFFD')).to.equal('/é/€/😀/\uFFFD');
    // an invalid byte, a truncated 3-byte sequence, an overlong '/', a UTF-16 surrogate (ED A0 80)
    const raw = Buffer.concat([Buffer.from('/x/'), Buffer.from([0xff, 0x41, 0xe2, 0x82, 0x2f, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xc3, 0xa9])]);
    expect(printablePath(raw)).to.equal('/x/\\xffA\\xe2\\x82/\\xc0\\xaf\\xed\\xa0\\x80é');
    // a backslash of the name itself cannot pass for an escaped byte
    expect(printablePath('/x/\\xff')).to.not.equal(printablePath(Buffer.from('/x/\xff', 'latin1')));
  });

  it('prints an errno the way Wazuh does', () => {
    expect(errnoText({ code: 'EACCES' })).to.equal('[(13)-(Permission denied)]');
    expect(errnoText({ code: 'ENAMETOOLONG' })).to.equal('[(36)-(Name too long)]');
    expect(errnoText({ code: 'SOMETHING_ELSE' })).to.equal('[(SOMETHING_ELSE)]');
  });
});

describe('fim: the walk over hostile trees', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => (tmp = tempDir('wba-hostile-walk')));
  afterEach(() => removeTree(tmp.dir));

  it('skips names that are not UTF-8 with one (6955) warning each, never a mangled or collided path', () => {
    const root = path.join(tmp.dir, 'tree');
    fs.mkdirSync(root);
    const rootBytes = Buffer.from(root);
    for (const name of INVALID_NAMES) fs.writeFileSync(Buffer.concat([rootBytes, Buffer.from('/'), name]), 'x');
    fs.writeFileSync(path.join(root, REPLACEMENT_NAME), 'a valid name with U+FFFD');
    const badDir = Buffer.concat([rootBytes, Buffer.from('/dir-\xc3(', 'latin1')]);
    fs.mkdirSync(badDir);
    fs.writeFileSync(Buffer.concat([badDir, Buffer.from('/inside')]), 'x');
    fs.writeFileSync(path.join(root, 'plain'), 'x');

    const log = new MemoryLogger();
    expect(walk(syscheckFor(root), log)).to.deep.equal([path.join(root, REPLACEMENT_NAME), path.join(root, 'plain')]);
    expect(log.records.map((r) => `${r.level} ${r.msg}`).sort()).to.deep.equal(
      [`${root}/bad\\xfe`, `${root}/bad\\xff`, `${root}/dir-\\xc3(`, `${root}/latin1-caf\\xe9`].map((p) =>
        `warn (6955): Ignoring file '${p}' due to unsupported name (non-UTF8).`),
    );
  });

  it('walks names of 255 bytes and a path of PATH_MAX - 1 bytes; longer ones get one (6720) warning', () => {
    const root = path.join(tmp.dir, 'tree');
    fs.mkdirSync(root);
    for (const name of ODD_NAMES) fs.writeFileSync(path.join(root, name), name);
    const { longest, tooLong } = makeLongPaths(path.join(root, 'deep'));
    expect(Buffer.byteLength(longest)).to.equal(PATH_MAX - 1);

    const log = new MemoryLogger();
    const found = walk(syscheckFor(root), log);
    expect(found.sort()).to.deep.equal([...ODD_NAMES.map((n) => path.join(root, n)), longest].sort());
    expect(log.records.map((r) => `${r.level} ${r.msg}`).sort()).to.deep.equal(tooLong.sort().map((p) =>
      `warn (6720): The path '${p}' is too long. The maximum length is ${PATH_MAX - 1} bytes.`));
    for (const r of log.records) expect(r.msg).to.not.match(/[\n\r]/);
  });
});
