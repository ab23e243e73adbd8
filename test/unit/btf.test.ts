// BTF and ELF readers: blobs built by test/support/btf-builder.ts for every kernel prototype we
// care about and for broken input; the real /sys/kernel/btf/vmlinux checked against bpftool; a
// BPF object compiled by clang checked against bpftool's static linker.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Btf, BtfError, parseBtf, parseObjectBtf } from '../../src/bpf/btf.js';
import { ElfError, ElfFile, STT_OBJECT, readElfSection } from '../../src/bpf/elf.js';
import { BtfBuilder, vfsBtf } from '../support/btf-builder.js';
import { FIXTURES } from '../support/fixtures.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

describe('BTF reader', () => {
  describe('VFS prototypes of each kernel generation', () => {
    it('5.10: vfs_unlink(dir, dentry, delegated_inode) has its dentry 2nd', () => {
      const btf = parseBtf(vfsBtf('5.10'));
      expect(btf.funcParams('vfs_unlink')).to.deep.equal([
        { name: 'dir', type: 'struct inode *' },
        { name: 'dentry', type: 'struct dentry *' },
        { name: 'delegated_inode', type: 'struct inode **' },
      ]);
      expect(btf.findFunc('vfs_unlink')?.signature).to.equal('vfs_unlink(struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)');
      expect(btf.findFunc('vfs_unlink')?.returns).to.equal('int');
      expect(btf.pointerParamIndex('vfs_unlink', 'dentry')).to.equal(2);
      expect(btf.pointerParamIndex('vfs_unlink', 'inode')).to.equal(1);
    });

    it('6.1: vfs_unlink(struct user_namespace *, ...) has its dentry 3rd', () => {
      const btf = parseBtf(vfsBtf('6.1'));
      expect(btf.findFunc('vfs_unlink')?.signature).to.equal(
        'vfs_unlink(struct user_namespace *mnt_userns, struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)',
      );
      expect(btf.pointerParamIndex('vfs_unlink', 'dentry')).to.equal(3);
    });

    it('6.12: vfs_unlink(struct mnt_idmap *, ...) has its dentry 3rd, mnt_idmap being a forward declaration', () => {
      const btf = parseBtf(vfsBtf('6.12'));
      expect(btf.funcParams('vfs_unlink')?.map((p) => p.type)).to.deep.equal(['struct mnt_idmap *', 'struct inode *', 'struct dentry *', 'struct inode **']);
      expect(btf.pointerParamIndex('vfs_unlink', 'dentry')).to.equal(3);
      expect(btf.pointerParamIndex('vfs_unlink', 'mnt_idmap')).to.equal(1);
    });

    it('vfs_rename: six arguments before 5.12, struct renamedata * after', () => {
      const old = parseBtf(vfsBtf('5.10'));
      expect(old.findFunc('vfs_rename')?.signature).to.equal(
        'vfs_rename(struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir, struct dentry *new_dentry, ' +
          'struct inode **delegated_inode, unsigned int flags)',
      );
      expect(old.pointerParamIndex('vfs_rename', 'dentry')).to.equal(2);
      expect(old.pointerParamIndex('vfs_rename', 'renamedata')).to.equal(undefined);
      const now = parseBtf(vfsBtf('6.12'));
      expect(now.funcParams('vfs_rename')).to.deep.equal([{ name: 'rd', type: 'struct renamedata *' }]);
      expect(now.pointerParamIndex('vfs_rename', 'renamedata')).to.equal(1);
      expect(now.pointerParamIndex('vfs_rename', 'dentry')).to.equal(undefined);
    });

    it('vfs_create keeps typedef names (umode_t, bool) in parameter types', () => {
      const btf = parseBtf(vfsBtf('6.1'));
      expect(btf.funcParams('vfs_create')?.slice(3)).to.deep.equal([
        { name: 'mode', type: 'umode_t' },
        { name: 'want_excl', type: 'bool' },
      ]);
      expect(btf.pointerParamIndex('vfs_create', 'dentry')).to.equal(3);
    });

    it('an absent function is undefined everywhere', () => {
      const btf = parseBtf(vfsBtf('6.1'));
      expect(btf.findFunc('vfs_frobnicate')).to.equal(undefined);
      expect(btf.funcParams('vfs_frobnicate')).to.equal(undefined);
      expect(btf.pointerParamIndex('vfs_frobnicate', 'dentry')).to.equal(undefined);
    });
  });

  describe('pointer parameters through qualifiers, typedefs and tags', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const dentryStruct = b.struct('dentry', 192);
    const dentry = b.ptr(dentryStruct);
    const path_ = b.struct('path', 16);
    const f = (name: string, params: [string, number][]) => b.func(name, b.funcProto(int, params));
    f('const_target', [['path', b.ptr(b.const(path_))], ['dentry', b.ptr(b.const(dentryStruct))]]);
    f('const_pointer', [['a', int], ['dentry', b.const(dentry)]]);
    f('typedef_pointer', [['a', int], ['d', b.typedef('dentry_ptr', dentry)]]);
    f('typedef_struct', [['d', b.ptr(b.typedef('dentry_t', dentryStruct))]]);
    f('tagged', [['a', int], ['b', int], ['d', b.ptr(b.typeTag('rcu', b.volatile(dentryStruct)))]]);
    f('not_a_pointer_to_struct', [['pp', b.ptr(dentry)], ['u', b.ptr(b.union('dentry', 8, []))], ['fu', b.ptr(b.fwd('dentry', true))]]);
    f('forward', [['a', int], ['d', b.ptr(b.fwd('dentry'))]]);
    const btf = parseBtf(b.build());

    it('counts `const struct dentry *` and `struct dentry *const`', () => {
      expect(btf.pointerParamIndex('const_target', 'dentry')).to.equal(2);
      expect(btf.pointerParamIndex('const_target', 'path')).to.equal(1);
      expect(btf.funcParams('const_target')?.map((p) => p.type)).to.deep.equal(['const struct path *', 'const struct dentry *']);
      expect(btf.pointerParamIndex('const_pointer', 'dentry')).to.equal(2);
      expect(btf.findFunc('const_pointer')?.signature).to.equal('const_pointer(int a, struct dentry *const dentry)');
    });

    it('looks through typedefs on either side of the pointer and through type tags', () => {
      expect(btf.pointerParamIndex('typedef_pointer', 'dentry')).to.equal(2);
      expect(btf.funcParams('typedef_pointer')?.[1].type).to.equal('dentry_ptr');
      expect(btf.pointerParamIndex('typedef_struct', 'dentry')).to.equal(1);
      expect(btf.pointerParamIndex('tagged', 'dentry')).to.equal(3);
      expect(btf.funcParams('tagged')?.[2].type).to.equal('volatile struct dentry __rcu *');
      expect(btf.pointerParamIndex('forward', 'dentry')).to.equal(2);
    });

    it('does not count `struct dentry **`, `union dentry *` or a forward-declared union', () => {
      expect(btf.pointerParamIndex('not_a_pointer_to_struct', 'dentry')).to.equal(undefined);
      expect(btf.funcParams('not_a_pointer_to_struct')?.map((p) => p.type)).to.deep.equal(['struct dentry **', 'union dentry *', 'union dentry *']);
    });
  });

  it('spells C types: function pointers, arrays, tags, qualifiers, variadics, void', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const char = b.int('char', 1, { signed: true, char: true });
    const file = b.ptr(b.struct('file', 256));
    const handler = b.ptr(b.funcProto(int, [['', file], ['', int]]));
    const names = b.ptr(b.array(char, int, 16));
    b.func('spelled', b.funcProto(b.ptr(0), [
      ['fn', handler],
      ['names', names],
      ['user', b.ptr(b.typeTag('user', b.const(char)))],
      ['cv', b.const(b.volatile(int))],
      ['restricted', b.restrict(b.ptr(char))],
      ['tagged', b.ptr(b.typeTag('address_space(1)', 0))],
      ['', 0],
    ]));
    b.func('no_params', b.funcProto(0, []));
    const btf = parseBtf(b.build());
    expect(btf.findFunc('spelled')).to.deep.include({ returns: 'void *' });
    expect(btf.funcParams('spelled')).to.deep.equal([
      { name: 'fn', type: 'int (*)(struct file *, int)' },
      { name: 'names', type: 'char (*)[16]' },
      { name: 'user', type: 'const char __user *' },
      { name: 'cv', type: 'const volatile int' },
      { name: 'restricted', type: 'char *restrict' },
      { name: 'tagged', type: 'void __attribute__((btf_type_tag("address_space(1)"))) *' },
      { name: '', type: '...' },
    ]);
    expect(btf.findFunc('spelled')?.signature).to.equal(
      'spelled(int (*fn)(struct file *, int), char (*names)[16], const char __user *user, const volatile int cv, ' +
        'char *restrict restricted, void __attribute__((btf_type_tag("address_space(1)"))) *tagged, ...)',
    );
    expect(btf.findFunc('no_params')).to.deep.include({ returns: 'void', params: [], signature: 'no_params(void)' });
  });

  it('sizes every kind right, so types after all of them keep their ids', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const long = b.int('long', 8, { signed: true });
    const s = b.struct('two', 16, [{ name: 'a', type: int, bitOffset: 0 }, { name: 'b', type: long, bitOffset: 64 }]);
    b.union('either', 8, [{ name: 'i', type: int, bitOffset: 0 }, { name: 'l', type: long, bitOffset: 0 }]);
    b.enum('bpf_map_type', [['BPF_MAP_TYPE_UNSPEC', 0], ['BPF_MAP_TYPE_HASH', 1], ['BPF_MAP_TYPE_RINGBUF', 27]]);
    b.enum64('big', [['BIG_LOW', 1n], ['BIG_HIGH', 0x1_0000_0002n]]);
    b.enum64('signed_big', [['MINUS_ONE', -1n]], true);
    b.enum('signed_small', [['MINUS_TWO', -2]]);
    b.fwd('later');
    b.float('double', 8);
    b.array(int, int, 3);
    b.restrict(b.ptr(int));
    b.declTag('bpf_kfunc', s, -1);
    b.declTag('member_tag', s, 1);
    b.typeTag('percpu', int);
    const v = b.var('counter', long);
    b.datasec('.data', 8, [{ type: v, offset: 0, size: 8 }]);
    const last = b.func('after_everything', b.funcProto(int, [['two', b.ptr(s)]]), 0);
    const btf = parseBtf(b.build());
    expect(btf.typeCount).to.equal(last);
    expect(btf.findFunc('after_everything')).to.deep.include({ id: last, signature: 'after_everything(struct two *two)' });
    expect(btf.enumValue('bpf_map_type', 'BPF_MAP_TYPE_RINGBUF')).to.equal(27n);
    expect(btf.enumValue('bpf_map_type', 'BPF_MAP_TYPE_ARENA')).to.equal(undefined);
    expect(btf.enumValue('big', 'BIG_HIGH')).to.equal(0x1_0000_0002n);
    expect(btf.enumValue('signed_big', 'MINUS_ONE')).to.equal(-1n);
    expect(btf.enumValue('signed_small', 'MINUS_TWO')).to.equal(4294967294n); // kind_flag clear: unsigned
    expect(btf.enumValue('no_such_enum', 'X')).to.equal(undefined);
    expect(btf.datasecVars('.data')).to.deep.equal([{ name: 'counter', offset: 0, size: 8 }]);
  });

  describe('DATASEC variables', () => {
    it('gives name, offset and size of each variable of a laid-out section', () => {
      const b = new BtfBuilder();
      const u32 = b.const(b.volatile(b.int('unsigned int', 4)));
      const u64 = b.const(b.volatile(b.int('unsigned long long', 8)));
      const a = b.var('unlink_dentry_arg', u32);
      const c = b.var('wakeup_bytes', u32);
      const d = b.var('limit', u64);
      b.datasec('.rodata', 16, [{ type: a, offset: 0, size: 4 }, { type: c, offset: 4, size: 4 }, { type: d, offset: 8, size: 8 }]);
      const btf = parseBtf(b.build());
      expect(btf.datasecVars('.rodata')).to.deep.equal([
        { name: 'unlink_dentry_arg', offset: 0, size: 4 },
        { name: 'wakeup_bytes', offset: 4, size: 4 },
        { name: 'limit', offset: 8, size: 8 },
      ]);
      expect(btf.datasecVars('.bss')).to.deep.equal([]);
    });

    it('refuses the unset layout of an unlinked clang object instead of reporting every offset as 0', () => {
      const b = new BtfBuilder();
      const int = b.int('int', 4, { signed: true });
      b.datasec('.rodata', 0, [{ type: b.var('x', int), offset: 0, size: 4 }, { type: b.var('y', int), offset: 0, size: 4 }]);
      expect(() => parseBtf(b.build()).datasecVars('.rodata')).to.throw(BtfError, /DATASEC '\.rodata' has size 0.*parseObjectBtf/);
    });

    it('rejects a DATASEC entry that is not a VAR', () => {
      const b = new BtfBuilder();
      const int = b.int('int', 4, { signed: true });
      b.datasec('.rodata', 4, [{ type: int, offset: 0, size: 4 }]);
      expect(() => parseBtf(b.build()).datasecVars('.rodata')).to.throw(BtfError, "DATASEC '.rodata' entry 0 is type 1, a INT, not a VAR");
    });
  });

  describe('broken blobs fail with a clear error, never hang', () => {
    const good = vfsBtf('6.1');
    const header = (h: Parameters<BtfBuilder['build']>[0]) => {
      const b = new BtfBuilder();
      b.int('int', 4);
      return b.build(h);
    };
    const cases: [string, () => Buffer, RegExp][] = [
      ['empty', () => Buffer.alloc(0), /shorter than the 24-byte header/],
      ['bad magic', () => header({ magic: 0x1234 }), /bad magic 0x1234/],
      ['big-endian', () => header({ magic: 0x9feb }), /big-endian/],
      ['unknown version', () => header({ version: 2 }), /version 2/],
      ['header length below 24', () => header({ hdrLen: 16 }), /header length 16/],
      ['header length past the end', () => header({ hdrLen: 4096 }), /header length 4096/],
      ['type section offset out of range', () => header({ typeOff: 0x10000 }), /type section \(offset 65536, 16 bytes\) runs past the end/],
      ['type section offset unaligned', () => header({ typeOff: 2 }), /not 4-byte aligned/],
      ['type section length out of range', () => header({ typeLen: 0xffffff00 }), /type section .* runs past the end/],
      ['string section out of range', () => header({ strLen: 1000 }), /string section .* runs past the end/],
      ['sections overlap', () => header({ strOff: 8 }), /overlap/],
      ['string section without a final NUL', () => header({ strLen: 3 }), /NUL/],
      ['truncated blob', () => good.subarray(0, good.length - 40), /runs past the end of the blob/],
      ['type cut by the type section end', () => { const b = Buffer.from(good); b.writeUInt32LE(b.readUInt32LE(12) - 20, 12); return b; }, /type \d+ .* (runs past|is cut off by) the end of the type section/],
      ['unknown kind', () => { const b = new BtfBuilder(); b.type(20, 'x', 0, 0); return b.build(); }, /type 1 at offset 24 has unknown kind 20/],
      ['kind 0 (UNKN)', () => { const b = new BtfBuilder(); b.int('int', 4); b.type(0, '', 0, 0); return b.build(); }, /type 2 at offset 40 has unknown kind 0/],
      ['vlen larger than the section', () => { const b = new BtfBuilder(); b.type(4, 's', 0xffff, 8); return b.build(); }, /type 1 \(STRUCT\) at offset 24 runs past/],
    ];
    for (const [what, blob, message] of cases) {
      it(what, () => expect(() => parseBtf(blob())).to.throw(BtfError, message));
    }

    it('bad references surface when used: type ids, name offsets, cycles', () => {
      const b = new BtfBuilder();
      const int = b.int('int', 4);
      b.func('dangling', b.funcProto(int, [['p', b.ptr(999)]]));
      const loop = b.typedef('loop', 5); // refers to itself
      b.func('cyclic_typedef', b.funcProto(int, [['l', b.ptr(loop)]]));
      const constLoop = b.const(9);
      b.func('cyclic_const', b.funcProto(int, [['c', constLoop]]));
      const ptrLoop = b.ptr(12);
      b.func('cyclic_pointer', b.funcProto(int, [['p', ptrLoop]]));
      b.func('not_a_proto', int);
      expect([loop, constLoop, ptrLoop]).to.deep.equal([5, 9, 12]);
      const btf = parseBtf(b.build());
      expect(() => btf.findFunc('dangling')).to.throw(BtfError, 'type id 999 is out of range (1..15)');
      expect(btf.funcParams('cyclic_typedef')).to.deep.equal([{ name: 'l', type: 'loop *' }]); // a typedef is shown by name
      expect(() => btf.pointerParamIndex('cyclic_typedef', 'dentry')).to.throw(BtfError, /type 5: more than 32 typedefs\/qualifiers in a row \(a reference cycle\?\)/);
      expect(() => btf.findFunc('cyclic_const')).to.throw(BtfError, /type 9: more than 32 qualifiers in a row/);
      expect(() => btf.findFunc('cyclic_pointer')).to.throw(BtfError, /type 12: more than 32 levels of types/);
      expect(() => btf.findFunc('not_a_proto')).to.throw(BtfError, 'FUNC 15 refers to type 1, a INT, not a FUNC_PROTO');

      const func = new BtfBuilder();
      func.func('f', func.funcProto(0, []));
      const badFunc = func.build();
      badFunc.writeUInt32LE(0xffff, 24 + 12); // name_off of the FUNC
      expect(() => parseBtf(badFunc).findFunc('f')).to.throw(BtfError, /name offset 65535 is outside the string section/);
    });

    it('survives random damage: either parses or throws BtfError', function () {
      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let i = 0; i < 3000; i++) {
        const blob = Buffer.from(good.subarray(0, Math.floor(random() * 1.2 * good.length)));
        for (let flips = 1 + Math.floor(random() * 4); flips > 0 && blob.length > 0; flips--) {
          blob[Math.floor(random() * blob.length)] ^= 1 << Math.floor(random() * 8);
        }
        let btf: Btf;
        try {
          btf = parseBtf(blob);
        } catch (e) {
          expect(e).to.be.instanceOf(BtfError);
          continue;
        }
        for (const use of [
          () => btf.pointerParamIndex('vfs_unlink', 'dentry'),
          () => btf.funcParams('vfs_rename'),
          () => btf.datasecVars('.rodata'),
          () => btf.enumValue('bpf_map_type', 'BPF_MAP_TYPE_RINGBUF'),
        ]) {
          try {
            use();
          } catch (e) {
            expect(e).to.be.instanceOf(BtfError);
          }
        }
      }
    });
  });

  describe('this machine', () => {
    const bpftool = hasTool('bpftool', ['version']);

    it('parses /sys/kernel/btf/vmlinux and finds vfs_unlink\'s dentry where bpftool sees it', function () {
      if (!fs.existsSync(VMLINUX)) this.skip();
      const blob = fs.readFileSync(VMLINUX);
      const start = process.hrtime.bigint();
      const btf = parseBtf(blob);
      const parsed = process.hrtime.bigint();
      const unlink = btf.findFunc('vfs_unlink');
      const indexed = process.hrtime.bigint();
      console.log(`      vmlinux BTF: ${blob.length} bytes, ${btf.typeCount} types, parse ${ms(parsed - start)} ms, function index + lookup ${ms(indexed - parsed)} ms`);
      expect(unlink?.signature).to.match(/^vfs_unlink\(/);
      const index = btf.pointerParamIndex('vfs_unlink', 'dentry');
      const release = os.release();
      const [major, minor] = release.split('.').map(Number);
      expect(index).to.equal(major > 5 || (major === 5 && minor >= 12) ? 3 : 2);
      if (release.startsWith('6.18.')) expect(unlink?.signature).to.equal('vfs_unlink(struct mnt_idmap *idmap, struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)');
      if (!bpftool) {
        console.log('      bpftool not installed: checked against the release rule only');
        return;
      }
      const dump = bpftoolRaw(VMLINUX);
      expect(btf.typeCount).to.equal(dump.lastId);
      for (const [func, struct] of [['vfs_unlink', 'dentry'], ['vfs_create', 'dentry'], ['vfs_rename', 'dentry'], ['vfs_rename', 'renamedata'], ['notify_change', 'dentry']]) {
        expect(btf.pointerParamIndex(func, struct), `${func} ${struct}`).to.equal(dump.pointerParamIndex(func, struct));
      }
    });

    it('agrees with bpftool on every FUNC of vmlinux: id, parameter count and names', function () {
      if (!fs.existsSync(VMLINUX) || !bpftool) this.skip();
      const btf = parseBtf(fs.readFileSync(VMLINUX));
      const dump = bpftoolRaw(VMLINUX);
      let funcs = 0;
      for (const [id, t] of dump.types) {
        if (t.kind !== 'FUNC' || dump.firstFunc.get(t.name) !== id) continue;
        funcs++;
        const mine = btf.findFunc(t.name);
        const proto = dump.types.get(Number(/type_id=(\d+)/.exec(t.rest)![1]))!;
        const names = proto.lines.map((l) => /^'([^']*)'/.exec(l)![1].replace('(anon)', ''));
        if (mine?.id !== id || mine.params.map((p) => p.name).join() !== names.join()) {
          expect.fail(`${t.name}: bpftool says [${id}] (${names.join(', ')}), we say [${mine?.id}] ${mine?.signature}`);
        }
      }
      expect(funcs).to.be.greaterThan(1000);
    });
  });
});

describe('ELF reader and BPF objects', () => {
  const clang = hasTool('clang', ['--version']);
  const bpftool = hasTool('bpftool', ['version']);
  let tmp: string;
  let object: string;

  before(function () {
    if (!clang) return;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'btf-test-'));
    object = path.join(tmp, 'rodata.bpf.o');
    execFileSync('clang', ['-g', '-O2', '-target', 'bpf', '-c', path.join(FIXTURES, 'btf/rodata.bpf.c'), '-o', object]);
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('finds .rodata variables of a clang-compiled object where libbpf and bpftool\'s linker put them', function () {
    if (!clang) {
      console.log('      clang not installed: cannot compile test/fixtures/btf/rodata.bpf.c');
      this.skip();
    }
    const file = fs.readFileSync(object);
    const vars = parseObjectBtf(file).datasecVars('.rodata');
    expect(vars).to.deep.equal([{ name: 'x', offset: 0, size: 4 }, { name: 'y', offset: 8, size: 8 }]);
    // clang leaves the layout to the linker: the raw .BTF says size 0, every offset 0.
    expect(() => parseBtf(readElfSection(file, '.BTF')).datasecVars('.rodata')).to.throw(BtfError, /size 0/);
    const symbols = ElfFile.parse(file).symbols().filter((s) => s.section === '.rodata' && s.type === STT_OBJECT);
    expect(symbols.map(({ name, value, size }) => ({ name, offset: value, size }))).to.have.deep.members(vars);
    if (!bpftool) return;
    expect(bpftoolRaw(object).datasec('.rodata')).to.deep.equal({ size: 0, vars: vars.map((v) => ({ ...v, offset: 0 })) });
    const linked = path.join(tmp, 'rodata.linked.o');
    execFileSync('bpftool', ['gen', 'object', linked, object]);
    expect(bpftoolRaw(linked).datasec('.rodata')).to.deep.equal({ size: 16, vars });
    expect(parseObjectBtf(fs.readFileSync(linked)).datasecVars('.rodata')).to.deep.equal(vars);
    expect(parseBtf(readElfSection(fs.readFileSync(linked), '.BTF')).datasecVars('.rodata')).to.deep.equal(vars);
  });

  it('reads sections by name and says what is wrong with a broken file', function () {
    if (!clang) this.skip();
    const file = fs.readFileSync(object);
    expect(readElfSection(file, '.BTF').readUInt16LE(0)).to.equal(0xeb9f);
    expect(() => readElfSection(file, '.nope')).to.throw(ElfError, "ELF: no section '.nope'");
    expect(() => readElfSection(Buffer.from('hello, world'), '.BTF')).to.throw(ElfError, /shorter than an ELF64 header/);
    expect(() => readElfSection(Buffer.alloc(64), '.BTF')).to.throw(ElfError, /bad magic/);
    const elf32 = Buffer.from(file);
    elf32[4] = 1;
    expect(() => readElfSection(elf32, '.BTF')).to.throw(ElfError, /only ELF64/);
    const bigEndian = Buffer.from(file);
    bigEndian[5] = 2;
    expect(() => readElfSection(bigEndian, '.BTF')).to.throw(ElfError, /only little-endian/);
    expect(() => readElfSection(file.subarray(0, file.length - 100), '.BTF')).to.throw(ElfError, /section header table .* runs past the end/);
    const badOffset = Buffer.from(file);
    const shoff = Number(file.readBigUInt64LE(0x28));
    const btfIndex = ElfFile.parse(file).section('.BTF')!.index;
    badOffset.writeBigUInt64LE(BigInt(file.length), shoff + btfIndex * 64 + 24);
    expect(() => readElfSection(badOffset, '.BTF')).to.throw(ElfError, new RegExp(`section ${btfIndex} .* runs past the end of the file`));
  });
});

function ms(ns: bigint): string {
  return (Number(ns) / 1e6).toFixed(1);
}

function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface RawEntry {
  kind: string;
  name: string;
  rest: string;
  lines: string[];
}

/** `bpftool btf dump file <f> format raw`, indexed: an independent reading of the same bytes. */
function bpftoolRaw(file: string) {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'raw'], { maxBuffer: 1 << 28 }).toString();
  const types = new Map<number, RawEntry>();
  const firstFunc = new Map<string, number>();
  let current: RawEntry | undefined;
  let lastId = 0;
  for (const line of out.split('\n')) {
    const m = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (m) {
      lastId = Number(m[1]);
      current = { kind: m[2], name: m[3] === '(anon)' ? '' : m[3], rest: m[4], lines: [] };
      types.set(lastId, current);
      if (current.kind === 'FUNC' && !firstFunc.has(current.name)) firstFunc.set(current.name, lastId);
    } else if (line.startsWith('\t') && current) {
      current.lines.push(line.slice(1));
    }
  }
  const typeId = (text: string) => Number(/type_id=(\d+)/.exec(text)![1]);
  return {
    types,
    firstFunc,
    lastId,
    /** Same question as Btf.pointerParamIndex, answered from bpftool's text. */
    pointerParamIndex(func: string, struct: string): number | undefined {
      const proto = types.get(typeId(types.get(firstFunc.get(func)!)!.rest))!;
      const skip = (id: number) => {
        for (let t = types.get(id); t && ['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(t.kind); t = types.get(id)) id = typeId(t.rest);
        return id;
      };
      const i = proto.lines.findIndex((l) => {
        const ptr = types.get(skip(typeId(l)));
        if (ptr?.kind !== 'PTR') return false;
        const target = types.get(skip(typeId(ptr.rest)));
        return (target?.kind === 'STRUCT' || (target?.kind === 'FWD' && /fwd_kind=struct/.test(target.rest))) && target.name === struct;
      });
      return i < 0 ? undefined : i + 1;
    },
    datasec(name: string) {
      const sec = [...types.values()].find((t) => t.kind === 'DATASEC' && t.name === name)!;
      return {
        size: Number(/size=(\d+)/.exec(sec.rest)![1]),
        vars: sec.lines.map((l) => {
          const v = /offset=(\d+) size=(\d+) \(VAR '([^']*)'\)/.exec(l)!;
          return { name: v[3], offset: Number(v[1]), size: Number(v[2]) };
        }),
      };
    },
  };
}
