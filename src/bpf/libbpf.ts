// Typed koffi bindings for libbpf.so.1 (libbpf 1.x): the FFI surface the loader and the ring-buffer
// reader need, with C names kept. No policy here: callers decide what to open, load and attach.
//
// libbpf 1.x reports errors as NULL + errno (pointer results) or as a negative errno (int results);
// both become a LibbpfError. Pointers are koffi 3's BigInt addresses, branded per C type.

import koffi from 'koffi';
import os from 'node:os';

export type BpfObject = bigint & { readonly __c: 'struct bpf_object *' };
export type BpfProgram = bigint & { readonly __c: 'struct bpf_program *' };
export type BpfMap = bigint & { readonly __c: 'struct bpf_map *' };
export type BpfLink = bigint & { readonly __c: 'struct bpf_link *' };

export type LibbpfLevel = 'warn' | 'info' | 'debug';
/** Receives every libbpf message, formatted, without its trailing newline. */
export type LibbpfLogger = (level: LibbpfLevel, text: string) => void;

/** The first fields of the kernel's struct bpf_map_info (BPF_OBJ_GET_INFO_BY_FD). */
export interface BpfMapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  name: string;
}

export const BPF_MAP_TYPE_RINGBUF = 27;
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

export const LIBRARY = 'libbpf.so.1';
const LEVELS: readonly LibbpfLevel[] = ['warn', 'info', 'debug']; // enum libbpf_print_level
/** Lines of warn/info messages kept so a failure can show what libbpf (and the verifier) said last. */
const LOG_TAIL_LINES = 200;
/** Of those, how many a LibbpfError's message repeats (all are in its `log`). */
const ERROR_MESSAGE_LINES = 20;

export class LibbpfUnavailable extends Error {
  constructor(reason: string) {
    super(`cannot load ${LIBRARY} (${reason}); install it with: apt-get install libbpf1`);
    this.name = 'LibbpfUnavailable';
  }
}

export class LibbpfError extends Error {
  /** `op` is the libbpf function that failed, `errno` positive; `log` the libbpf lines it printed. */
  constructor(
    readonly op: string,
    readonly errno: number,
    description: string,
    readonly log: readonly string[] = [],
  ) {
    const code = errnoName(errno);
    const tail = log.slice(-ERROR_MESSAGE_LINES);
    super(`${op}: ${description}${code ? ` (${code})` : ''}${tail.length ? `\n${tail.join('\n')}` : ''}`);
    this.name = 'LibbpfError';
  }
}

export interface Libbpf {
  bpf_object__open_file(path: string): BpfObject;
  /** On failure the error's `log` holds the verifier's last lines. */
  bpf_object__load(obj: BpfObject): void;
  bpf_object__close(obj: BpfObject): void;
  bpf_object__find_program_by_name(obj: BpfObject, name: string): BpfProgram | null;
  /** `prev` null gives the first program; null at the end. */
  bpf_object__next_program(obj: BpfObject, prev: BpfProgram | null): BpfProgram | null;
  /** bpf_object__for_each_program. */
  programs(obj: BpfObject): Generator<BpfProgram>;
  bpf_program__name(prog: BpfProgram): string;
  bpf_program__set_autoload(prog: BpfProgram, autoload: boolean): void;
  bpf_program__attach(prog: BpfProgram): BpfLink;
  bpf_link__destroy(link: BpfLink): void;
  bpf_object__find_map_by_name(obj: BpfObject, name: string): BpfMap | null;
  bpf_map__fd(map: BpfMap): number;
  bpf_map__set_max_entries(map: BpfMap, maxEntries: number): void;
  bpf_map__value_size(map: BpfMap): number;
  /** A copy of libbpf's image of a .rodata/.data/.bss map (what the kernel gets at load). */
  bpf_map__initial_value(map: BpfMap): Buffer;
  /**
   * Writes `bytes` at `offset` into that image, e.g. a `const volatile` setting. Before load only:
   * afterwards the kernel has its copy (and .rodata is frozen), so this throws instead.
   */
  writeInitialValue(map: BpfMap, offset: number, bytes: Uint8Array): void;

  bpf_map_update_elem(fd: number, key: Uint8Array, value: Uint8Array, flags?: number): void;
  /**
   * Fills `value` (per-CPU maps: roundup(value_size, 8) × libbpf_num_possible_cpus() bytes);
   * false when the key is absent.
   */
  bpf_map_lookup_elem(fd: number, key: Uint8Array, value: Uint8Array): boolean;
  /** False when the key is absent. */
  bpf_map_delete_elem(fd: number, key: Uint8Array): boolean;
  /** Writes the key after `key` (the first key when null) into `next`; false after the last key. */
  bpf_map_get_next_key(fd: number, key: Uint8Array | null, next: Uint8Array): boolean;
  bpf_obj_get_info_by_fd(fd: number): BpfMapInfo;

  libbpf_num_possible_cpus(): number;
  libbpf_strerror(errno: number): string;
  /** Where libbpf's messages go besides the kept tail; null: only the tail (nothing on stderr). */
  setLogger(logger: LibbpfLogger | null): void;
  /** The last warn/info lines libbpf printed (at most 200). */
  recentLog(): string[];
}

let instance: Libbpf | undefined;

/** Loads libbpf.so.1 on first use and routes its messages through setLogger. */
export function openLibbpf(): Libbpf {
  instance ??= bind();
  return instance;
}

function bind(): Libbpf {
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(LIBRARY);
  } catch (err) {
    throw new LibbpfUnavailable((err as Error).message);
  }
  const libc = koffi.load('libc.so.6');
  // libbpf_print_fn_t. Its `va_list ap` arrives as a pointer on x86-64 and arm64 (an array type on
  // the first, a large struct passed by reference on the second): handed as is to vsnprintf.
  const printFn = koffi.pointer(koffi.proto('int', ['int', 'const char *', 'void *']));

  const f = {
    open_file: lib.func('void *bpf_object__open_file(const char *path, const void *opts)'),
    load: lib.func('int bpf_object__load(void *obj)'),
    close: lib.func('void bpf_object__close(void *obj)'),
    find_program_by_name: lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
    next_program: lib.func('void *bpf_object__next_program(void *obj, void *prog)'),
    program_name: lib.func('const char *bpf_program__name(void *prog)'),
    set_autoload: lib.func('int bpf_program__set_autoload(void *prog, bool autoload)'),
    attach: lib.func('void *bpf_program__attach(void *prog)'),
    link_destroy: lib.func('int bpf_link__destroy(void *link)'),
    find_map_by_name: lib.func('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    map_fd: lib.func('int bpf_map__fd(void *map)'),
    set_max_entries: lib.func('int bpf_map__set_max_entries(void *map, uint32_t max_entries)'),
    value_size: lib.func('uint32_t bpf_map__value_size(void *map)'),
    initial_value: lib.func('void *bpf_map__initial_value(void *map, _Out_ size_t *psize)'),
    update_elem: lib.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
    lookup_elem: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    delete_elem: lib.func('int bpf_map_delete_elem(int fd, const void *key)'),
    get_next_key: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    obj_get_info_by_fd: lib.func('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *info_len)'),
    num_possible_cpus: lib.func('int libbpf_num_possible_cpus()'),
    strerror: lib.func('int libbpf_strerror(int err, void *buf, size_t size)'),
    set_print: lib.func('libbpf_set_print', 'void *', [printFn]),
    vsnprintf: libc.func('int vsnprintf(void *buf, size_t size, const char *fmt, void *ap)'),
  };

  const strerror = (errno: number): string => {
    const buf = Buffer.alloc(256);
    f.strerror(errno, buf, buf.length);
    return cString(buf);
  };

  const log = new LogTail(LOG_TAIL_LINES);
  let logger: LibbpfLogger | null = null;
  const format = vaFormatter(f.vsnprintf);
  // Registered for the life of the process: libbpf keeps the pointer.
  f.set_print(
    koffi.register((level: number, fmt: string, ap: bigint): number => {
      try {
        const text = format(fmt, ap).replace(/\n$/, '');
        const name = LEVELS[level] ?? 'debug';
        if (name !== 'debug') log.push(text);
        logger?.(name, text);
      } catch {
        // An exception must not unwind through libbpf's C frames.
      }
      return 0;
    }, printFn),
  );

  /** Runs a libbpf call returning 0 or -errno; throws with the lines it logged. */
  const check = (op: string, call: () => number): number => {
    const mark = log.mark();
    const ret = call();
    if (ret < 0) throw new LibbpfError(op, -ret, strerror(-ret), log.since(mark));
    return ret;
  };
  /** Same for calls returning a pointer, NULL + errno on failure. */
  const checkPtr = <T extends bigint>(op: string, call: () => bigint | null): T => {
    const mark = log.mark();
    const ptr = call();
    if (ptr === null || ptr === 0n) {
      const errno = koffi.errno() || os.constants.errno.EINVAL;
      throw new LibbpfError(op, errno, strerror(errno), log.since(mark));
    }
    return ptr as T;
  };
  /** Map syscalls where ENOENT is an answer, not an error. */
  const found = (op: string, ret: number): boolean => {
    if (ret === -os.constants.errno.ENOENT) return false;
    if (ret < 0) throw new LibbpfError(op, -ret, strerror(-ret));
    return true;
  };

  /** libbpf's own memory for a global-data map's image; NULL (errno untouched) for other maps. */
  const initialImage = (map: BpfMap): { ptr: bigint; size: number } => {
    const size = [0];
    const ptr: bigint | null = f.initial_value(map, size);
    if (ptr === null) {
      throw new LibbpfError('bpf_map__initial_value', os.constants.errno.EINVAL, 'not a global-data map (.rodata, .data, .bss)');
    }
    return { ptr, size: size[0]! };
  };

  const api: Libbpf = {
    bpf_object__open_file: (path) =>
      checkPtr('bpf_object__open_file', () => f.open_file(path, null)),
    bpf_object__load: (obj) => void check('bpf_object__load', () => f.load(obj)),
    bpf_object__close: (obj) => f.close(obj),
    bpf_object__find_program_by_name: (obj, name) => f.find_program_by_name(obj, name),
    bpf_object__next_program: (obj, prev) => f.next_program(obj, prev),
    *programs(obj) {
      for (let p = f.next_program(obj, null); p !== null; p = f.next_program(obj, p)) yield p;
    },
    bpf_program__name: (prog) => f.program_name(prog),
    bpf_program__set_autoload: (prog, autoload) =>
      void check('bpf_program__set_autoload', () => f.set_autoload(prog, autoload)),
    bpf_program__attach: (prog) => checkPtr('bpf_program__attach', () => f.attach(prog)),
    bpf_link__destroy: (link) => void check('bpf_link__destroy', () => f.link_destroy(link)),
    bpf_object__find_map_by_name: (obj, name) => f.find_map_by_name(obj, name),
    bpf_map__fd(map) {
      // libbpf 1.1 returns the map's fd field as is: -1 (not -errno) until the object is loaded.
      const fd = f.map_fd(map);
      if (fd < 0) throw new LibbpfError('bpf_map__fd', os.constants.errno.EBADF, 'map not created yet (object not loaded)');
      return fd;
    },
    bpf_map__set_max_entries: (map, maxEntries) =>
      void check('bpf_map__set_max_entries', () => f.set_max_entries(map, maxEntries)),
    bpf_map__value_size: (map) => f.value_size(map),
    bpf_map__initial_value(map) {
      const { ptr, size } = initialImage(map);
      return copyOut(ptr, size);
    },
    writeInitialValue(map, offset, bytes) {
      // Once the map exists in the kernel (it has an fd), writes would still land in libbpf's
      // memory but reach nothing: a silent no-op worth refusing.
      if (f.map_fd(map) >= 0) throw new LibbpfError('writeInitialValue', os.constants.errno.EBUSY, 'map already loaded');
      const { ptr, size } = initialImage(map);
      if (!Number.isInteger(offset) || offset < 0 || offset + bytes.length > size) {
        throw new RangeError(`writeInitialValue: ${bytes.length} bytes at ${offset} outside the ${size}-byte image`);
      }
      new Uint8Array(koffi.view(ptr, size)).set(bytes, offset);
    },
    bpf_map_update_elem: (fd, key, value, flags = BPF_ANY) =>
      void check('bpf_map_update_elem', () => f.update_elem(fd, key, value, flags)),
    bpf_map_lookup_elem: (fd, key, value) => found('bpf_map_lookup_elem', f.lookup_elem(fd, key, value)),
    bpf_map_delete_elem: (fd, key) => found('bpf_map_delete_elem', f.delete_elem(fd, key)),
    bpf_map_get_next_key: (fd, key, next) => found('bpf_map_get_next_key', f.get_next_key(fd, key, next)),
    bpf_obj_get_info_by_fd(fd) {
      const info = Buffer.alloc(88); // sizeof(struct bpf_map_info) in 6.x; the kernel fills what it knows
      check('bpf_obj_get_info_by_fd', () => f.obj_get_info_by_fd(fd, info, [info.length]));
      return {
        type: info.readUInt32LE(0),
        id: info.readUInt32LE(4),
        keySize: info.readUInt32LE(8),
        valueSize: info.readUInt32LE(12),
        maxEntries: info.readUInt32LE(16),
        mapFlags: info.readUInt32LE(20),
        name: cString(info.subarray(24, 40)),
      };
    },
    libbpf_num_possible_cpus: () => check('libbpf_num_possible_cpus', () => f.num_possible_cpus()),
    libbpf_strerror: strerror,
    setLogger: (fn) => {
      logger = fn;
    },
    recentLog: () => log.since(0),
  };
  return api;
}

/**
 * vsnprintf over libbpf's va_list. A va_list is consumed by use, so a message longer than the
 * buffer (a verifier log can be megabytes) is retried from a byte copy of the va_list taken before
 * the first attempt: that is what va_copy does on x86-64 and arm64. Elsewhere: truncated.
 */
function vaFormatter(vsnprintf: (buf: Buffer, size: number, fmt: string, ap: bigint) => number) {
  const vaListSize = ({ x64: 24, arm64: 32 } as Record<string, number>)[process.arch];
  const usual = Buffer.alloc(64 * 1024);
  return (fmt: string, ap: bigint): string => {
    const saved = vaListSize ? copyOut(ap, vaListSize) : null;
    let buf = usual;
    let n = vsnprintf(buf, buf.length, fmt, ap);
    if (n >= buf.length && saved) {
      buf = Buffer.alloc(n + 1);
      new Uint8Array(koffi.view(ap, saved.length)).set(saved);
      n = vsnprintf(buf, buf.length, fmt, ap);
    }
    return n < 0 ? fmt : buf.toString('utf8', 0, Math.min(n, buf.length - 1));
  };
}

/** The last `capacity` lines, with marks so a call can take the lines it caused. */
class LogTail {
  private readonly lines: string[] = [];
  private pushed = 0;
  constructor(private readonly capacity: number) {}
  push(text: string): void {
    for (const line of text.split('\n')) {
      this.lines.push(line);
      this.pushed++;
    }
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }
  mark(): number {
    return this.pushed;
  }
  since(mark: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - (this.pushed - mark)));
  }
}

/** Copies C memory into a Buffer. (Buffer.from(koffi.view(…)) would alias it, not copy it.) */
function copyOut(ptr: bigint, length: number): Buffer {
  return Buffer.from(new Uint8Array(koffi.view(ptr, length)));
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

function errnoName(errno: number): string | undefined {
  return Object.entries(os.constants.errno).find(([, value]) => value === errno)?.[0];
}
