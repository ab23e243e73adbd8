// The capture's event contract: the decoder's offset table against the compiled BPF object's BTF,
// and decoding of hand-laid records (offsets written out here, not taken from the decoder).
import { expect } from 'chai';
import fs from 'node:fs';
import { parseBtf, parseObjectBtf } from '../../src/bpf/btf.js';
import { DEFAULT_OBJECT } from '../../src/bpf/loader.js';
import { EventDecodeError, WhoData, checkEventLayout, decodeEvent } from '../../src/capture/event.js';
import { ExeMemory } from '../../src/capture/exe-memory.js';
import { BtfBuilder } from '../support/btf-builder.js';

interface Ref { anchor?: number; kind: 1 | 2 | 3; components: string[] }

/** A fim_event record as bpf/fim.h lays it out: 192-byte header, then path data. */
function record(o: { op: number; source: number; attrs?: number; refs: Partial<Record<number, Ref>>; pid?: number }): Buffer {
  const head = Buffer.alloc(192);
  const data: Buffer[] = [];
  let dataLen = 0;
  head.writeBigUInt64LE(123456789n, 0); // ktime_ns
  head.writeBigUInt64LE(42n, 8); // ino
  head.writeUInt32LE((8 << 20) | 1, 16); // dev
  head.writeUInt32LE(o.op, 20);
  head.writeUInt32LE(o.source, 24);
  head.writeUInt32LE(o.pid ?? 1000, 28); // tgid
  head.writeUInt32LE(1001, 32); // pid (thread)
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
  return Buffer.concat([head, ...data]);
}

const anchors = (id: number) => (id === 7 ? '/srv/watched' : undefined);

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
    const e = decodeEvent(record({
      op: 5, source: 1, attrs: 0x1 | 0x20 | 0x40 /* mode, mtime, ctime (not reported) */,
      refs: {
        0: { anchor: 7, kind: 1, components: ['a.txt', 'sub'] },
        4: { kind: 2, components: ['tmp'] },
        6: { kind: 2, components: ['chmod', 'bin', 'usr'] },
        7: { kind: 2, components: ['bash', 'bin', 'usr'] },
      },
    }), anchors);
    expect(e).to.deep.include({ op: 'attrib', source: 'kprobe', path: '/srv/watched/sub/a.txt', attributes: ['mode', 'mtime'], inode: 42n, truncated: false });
    expect(e.who).to.deep.include({ pid: 1000, tid: 1001, ppid: 999, comm: 'chmod', parentComm: 'bash', cwd: '/tmp', exe: '/usr/bin/chmod', parentExe: '/usr/bin/bash', loginuid: undefined });
  });

  it('decodes each new operation, and a tracepoint name relative to the working directory', () => {
    const ops: [number, string][] = [[6, 'link'], [7, 'symlink'], [8, 'mkdir'], [9, 'rmdir'], [10, 'write']];
    for (const [code, op] of ops) {
      const e = decodeEvent(record({ op: code, source: 3, refs: { 1: { kind: 3, components: ['new'] }, 4: { kind: 2, components: ['watched', 'srv'] } } }), anchors);
      expect(e, op).to.deep.include({ op, source: 'tracepoint', path: '/srv/watched/new' });
      expect(e.attributes, op).to.equal(undefined);
      expect(e.who?.exe, op).to.equal(undefined); // a kernel thread: no executable
    }
  });

  it('refuses records it cannot read', () => {
    expect(() => decodeEvent(Buffer.alloc(100), anchors)).to.throw(EventDecodeError, /shorter than the 192-byte header/);
    expect(() => decodeEvent(record({ op: 11, source: 1, refs: {} }), anchors)).to.throw(EventDecodeError, /unknown operation 11/);
    const cut = record({ op: 1, source: 1, refs: { 0: { anchor: 7, kind: 1, components: ['x'] } } });
    expect(() => decodeEvent(cut.subarray(0, cut.length - 1), anchors)).to.throw(EventDecodeError, /runs past the record/);
  });
});

describe('executables of exiting processes', () => {
  const who = (pid: number, comm: string, exe?: string): WhoData => ({
    pid, tid: pid, ppid: 1, uid: 0, euid: 0, gid: 0, loginuid: undefined, comm, parentComm: 'init', cwd: '/', parentCwd: '/', ...(exe ? { exe } : {}),
  });

  it('names a close at exit after the process\'s earlier event; not a recycled pid running something else', () => {
    const m = new ExeMemory();
    m.fill(who(10, 'sh', '/usr/bin/dash'));
    const atExit = who(10, 'sh');
    m.fill(atExit);
    expect(atExit.exe).to.equal('/usr/bin/dash');
    const recycled = who(10, 'python3');
    m.fill(recycled);
    expect(recycled.exe).to.equal(undefined);
  });

  it('keeps at most its capacity, dropping the least recently named', () => {
    const m = new ExeMemory(2);
    m.fill(who(1, 'a', '/bin/a'));
    m.fill(who(2, 'b', '/bin/b'));
    m.fill(who(1, 'a', '/bin/a')); // 1 is now the most recent
    m.fill(who(3, 'c', '/bin/c'));
    const [one, two] = [who(1, 'a'), who(2, 'b')];
    m.fill(one);
    m.fill(two);
    expect([one.exe, two.exe]).to.deep.equal(['/bin/a', undefined]);
  });
});
