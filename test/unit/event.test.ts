// The capture's event contract: the decoder's offset table against the compiled BPF object's BTF,
// and decoding of hand-laid records (offsets written out here, not taken from the decoder).
import { expect } from 'chai';
import fs from 'node:fs';
import { parseBtf, parseObjectBtf } from '../../src/bpf/btf.js';
import { DEFAULT_OBJECT } from '../../src/bpf/loader.js';
import { EventDecodeError, checkEventLayout, decodeEvent } from '../../src/capture/event.js';
import { ProcessPaths } from '../../src/capture/process-paths.js';
import { BtfBuilder } from '../support/btf-builder.js';

interface Ref { anchor?: number; kind: 1 | 2 | 3; components: string[] }

/** A fim_event record as bpf/fim.h lays it out: 200-byte header, then path data. */
function record(o: {
  op: number; source: number; attrs?: number; refs: Partial<Record<number, Ref>>; pid?: number; tid?: number; whoGen?: number; reused?: boolean;
}): Buffer {
  const head = Buffer.alloc(200);
  const data: Buffer[] = [];
  let dataLen = 0;
  head.writeBigUInt64LE(123456789n, 0); // ktime_ns
  head.writeBigUInt64LE(42n, 8); // ino
  head.writeUInt32LE((8 << 20) | 1, 16); // dev
  head.writeUInt32LE(o.op, 20);
  head.writeUInt32LE(o.source, 24);
  head.writeUInt32LE(o.pid ?? 1000, 28); // tgid
  head.writeUInt32LE(o.tid ?? 1001, 32); // pid (thread)
  head.writeUInt32LE(999, 36); // ppid
  head.writeUInt32LE(0, 40); // uid
  head.writeUInt32LE(0, 44); // euid
  head.writeUInt32LE(0, 48); // gid
  head.writeUInt32LE(0xffffffff, 52); // loginuid unset
  head.write('chmod', 56);
  head.write('bash', 72);
  for (const [slot, ref] of Object.entries(o.refs)) {
    if (!ref) continue;
    // leaf first, NUL-terminated, as the BPF walk writes them (a string: one component)
    const bytes = Buffer.from(ref.components.map((c) => `${c}\0`).join(''));
    const at = 88 + Number(slot) * 12;
    head.writeUInt32LE(ref.anchor ?? 0, at);
    head.writeUInt16LE(dataLen, at + 4);
    head.writeUInt16LE(bytes.length, at + 6);
    head.writeUInt16LE(ref.components.length, at + 8);
    head.writeUInt8(ref.kind, at + 10);
    data.push(bytes);
    dataLen += bytes.length;
  }
  head.writeUInt32LE(dataLen, 184);
  head.writeUInt32LE(o.attrs ?? 0, 188);
  head.writeUInt32LE(o.whoGen ?? 1, 192);
  head.writeUInt32LE(o.reused ? 1 : 0, 196); // FIM_EVENT_WHO_REUSED
  return Buffer.concat([head, ...data]);
}

const anchors = (id: number) => (id === 7 ? '/srv/watched' : undefined);
const decode = (rec: Buffer, paths = new ProcessPaths()) => decodeEvent(rec, anchors, paths);

describe('capture event contract', () => {
  it('the decoder\'s offsets are those of struct fim_event in the compiled BPF object (BTF)', () => {
    expect(checkEventLayout(parseObjectBtf(fs.readFileSync(DEFAULT_OBJECT)))).to.deep.equal([]);
  });

  it('says which member moved, and when the struct is missing', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const u64 = b.int('unsigned long long', 8);
    // ino and dev swapped: the kind of drift a header edit without the decoder would make
    b.struct('fim_event', 16, [{ name: 'ktime_ns', type: u64, bitOffset: 0 }, { name: 'dev', type: u32, bitOffset: 64 }, { name: 'ino', type: u64, bitOffset: 96 }]);
    const problems = checkEventLayout(parseBtf(b.build()));
    expect(problems).to.include('struct fim_event.ino is at 12 (8 bytes) in the object, at 8 (8 bytes) in the decoder');
    expect(problems).to.include('struct fim_event.dev is at 8 (4 bytes) in the object, at 16 (4 bytes) in the decoder');
    expect(problems).to.include("struct fim_event has no member 'attrs'");
    expect(problems).to.include("the object's BTF has no struct fim_path_ref");
  });

  it('decodes an attribute change: anchored path, which attributes, both executables', () => {
    const e = decode(record({
      op: 5, source: 1, attrs: 0x1 | 0x20 | 0x40 /* mode, mtime, ctime (not reported) */,
      refs: {
        0: { anchor: 7, kind: 1, components: ['a.txt', 'sub'] },
        4: { kind: 2, components: ['tmp'] },
        6: { kind: 2, components: ['chmod', 'bin', 'usr'] },
        7: { kind: 2, components: ['bash', 'bin', 'usr'] },
      },
    }));
    expect(e).to.deep.include({ op: 'attrib', source: 'kprobe', path: '/srv/watched/sub/a.txt', attributes: ['mode', 'mtime'], inode: 42n, truncated: false });
    expect(e.who).to.deep.include({ pid: 1000, tid: 1001, ppid: 999, comm: 'chmod', parentComm: 'bash', cwd: '/tmp', exe: '/usr/bin/chmod', parentExe: '/usr/bin/bash', loginuid: undefined });
  });

  it('decodes each new operation, and a tracepoint name relative to the working directory', () => {
    const ops: [number, string][] = [[6, 'link'], [7, 'symlink'], [8, 'mkdir'], [9, 'rmdir'], [10, 'write']];
    for (const [code, op] of ops) {
      const e = decode(record({ op: code, source: 3, refs: { 1: { kind: 3, components: ['new'] }, 4: { kind: 2, components: ['watched', 'srv'] } } }));
      expect(e, op).to.deep.include({ op, source: 'tracepoint', path: '/srv/watched/new' });
      expect(e.attributes, op).to.equal(undefined);
      expect(e.who?.exe, op).to.equal(undefined); // a kernel thread: no executable
    }
  });

  it('refuses records it cannot read', () => {
    expect(() => decode(Buffer.alloc(100))).to.throw(EventDecodeError, /shorter than the 200-byte header/);
    expect(() => decode(record({ op: 11, source: 1, refs: {} }))).to.throw(EventDecodeError, /unknown operation 11/);
    const cut = record({ op: 1, source: 1, refs: { 0: { anchor: 7, kind: 1, components: ['x'] } } });
    expect(() => decode(cut.subarray(0, cut.length - 1))).to.throw(EventDecodeError, /runs past the record/);
  });
});

describe('process paths named by a later event of the same thread', () => {
  const walk = { 4: { kind: 2 as const, components: ['work', 'home'] }, 6: { kind: 2 as const, components: ['rm', 'bin', 'usr'] } };
  const named = (o: { tid: number; gen: number }) => record({ op: 9, source: 3, refs: { 1: { kind: 3, components: ['d'] } }, tid: o.tid, whoGen: o.gen, reused: true });

  it('takes the walk the event names: its cwd resolves a relative name, and its executable', () => {
    const paths = new ProcessPaths();
    decode(record({ op: 1, source: 3, refs: { ...walk, 1: { kind: 3, components: ['f'] } }, tid: 50, whoGen: 3 }), paths);
    const e = decode(named({ tid: 50, gen: 3 }), paths);
    expect(e.path).to.equal('/home/work/d');
    expect(e.who).to.deep.include({ cwd: '/home/work', exe: '/usr/bin/rm', tid: 50 });
  });

  it('never another walk: an older or unknown one leaves the paths unknown', () => {
    const paths = new ProcessPaths();
    decode(record({ op: 1, source: 3, refs: { ...walk, 1: { kind: 3, components: ['f'] } }, tid: 50, whoGen: 4 }), paths);
    for (const e of [decode(named({ tid: 50, gen: 3 }), paths), decode(named({ tid: 51, gen: 4 }), paths)]) {
      expect(e.path).to.equal(undefined);
      expect(e.who?.cwd).to.equal(undefined);
      expect(e.who?.exe).to.equal(undefined);
    }
  });

  it('keeps at most its capacity, dropping the thread least recently named', () => {
    const paths = new ProcessPaths(2);
    const set = (exe: string) => ({ cwd: '/', parentCwd: '/', exe, parentExe: undefined });
    paths.walked(1, 1, set('/bin/a'));
    paths.walked(2, 1, set('/bin/b'));
    expect(paths.named(1, 1)?.exe).to.equal('/bin/a'); // 1 is now the most recent
    paths.walked(3, 1, set('/bin/c'));
    expect([paths.named(1, 1)?.exe, paths.named(2, 1)?.exe, paths.named(3, 1)?.exe]).to.deep.equal(['/bin/a', undefined, '/bin/c']);
  });
});
