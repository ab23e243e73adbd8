// libbpf.ts without the kernel: opening and editing an object before load needs no privilege.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { LibbpfError, openLibbpf, type LibbpfLevel } from '../../src/bpf/libbpf.js';

const OBJECT = fileURLToPath(new URL('../bpf/ringbuf_test.bpf.o', import.meta.url));

describe('libbpf bindings', () => {
  const libbpf = openLibbpf();

  it('turns NULL + errno into a LibbpfError carrying what libbpf printed', () => {
    const seen: [LibbpfLevel, string][] = [];
    libbpf.setLogger((level, text) => seen.push([level, text]));
    try {
      expect(() => libbpf.bpf_object__open_file('/nonexistent/x.bpf.o'))
        .to.throw(LibbpfError)
        .that.satisfies((err: LibbpfError) => {
          expect(err.op).to.equal('bpf_object__open_file');
          expect(err.errno).to.equal(2);
          expect(err.message).to.match(/^bpf_object__open_file: No such file or directory \(ENOENT\)\n/);
          expect(err.log).to.deep.equal(['libbpf: elf: failed to open /nonexistent/x.bpf.o: No such file or directory']);
          return true;
        });
    } finally {
      libbpf.setLogger(null);
    }
    expect(seen).to.deep.include(['warn', 'libbpf: elf: failed to open /nonexistent/x.bpf.o: No such file or directory']);
    expect(seen).to.deep.include(['debug', 'libbpf: loading object from /nonexistent/x.bpf.o']);
    expect(libbpf.recentLog().at(-1)).to.equal('libbpf: elf: failed to open /nonexistent/x.bpf.o: No such file or directory');
  });

  it('formats libbpf error codes', () => {
    expect(libbpf.libbpf_strerror(2)).to.equal('No such file or directory');
    expect(libbpf.libbpf_strerror(4007)).to.equal('Kernel verifier blocks program loading'); // LIBBPF_ERRNO__VERIFY
  });

  it('lists programs and maps, and edits .rodata before load', () => {
    const obj = libbpf.bpf_object__open_file(OBJECT);
    try {
      const names = [...libbpf.programs(obj)].map((p) => libbpf.bpf_program__name(p));
      expect(names).to.deep.equal(['on_unlinkat', 'rejected_by_verifier']);
      expect(libbpf.bpf_object__find_program_by_name(obj, 'nope')).to.equal(null);
      expect(libbpf.bpf_object__find_map_by_name(obj, 'nope')).to.equal(null);

      const rodata = libbpf.bpf_object__find_map_by_name(obj, '.rodata')!;
      expect(libbpf.bpf_map__value_size(rodata)).to.equal(16);
      expect(libbpf.bpf_map__initial_value(rodata)).to.deep.equal(Buffer.alloc(16));
      libbpf.writeInitialValue(rodata, 4, Buffer.from([1, 2, 3, 4]));
      expect([...libbpf.bpf_map__initial_value(rodata)]).to.deep.equal([0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(() => libbpf.writeInitialValue(rodata, 14, Buffer.alloc(4))).to.throw(RangeError);
      expect(() => libbpf.bpf_map__initial_value(libbpf.bpf_object__find_map_by_name(obj, 'rb')!)).to.throw(
        LibbpfError,
        /not a global-data map/,
      );
      // Not created in the kernel yet: that is what writeInitialValue relies on.
      expect(() => libbpf.bpf_map__fd(rodata)).to.throw(LibbpfError, /not created yet/);
    } finally {
      libbpf.bpf_object__close(obj);
    }
  });

  it('counts possible CPUs', () => {
    expect(libbpf.libbpf_num_possible_cpus()).to.be.at.least(1);
  });
});
