// Reader for BTF, the BPF Type Format: the kernel's own type information (/sys/kernel/btf/vmlinux,
// Linux 5.4+ with CONFIG_DEBUG_INFO_BTF) and the .BTF section of a compiled BPF object. We ask it
// what a kernel function's prototype really is (vendors backport signature changes, so the
// release number cannot be trusted) and where a `const volatile` global sits in .rodata.
//
// Format: Documentation/bpf/btf.rst and include/uapi/linux/btf.h. A blob is a header, a type
// section and a string section. Types are numbered from 1 in the order they appear (0 is void);
// each is a 12-byte `struct btf_type` followed by kind-specific data whose size depends on the
// kind and its vlen, so every kind must be sized right or all later ids shift. Parsing makes one
// pass that records where each type starts; everything else is decoded on demand. Pure: no I/O.
import { ElfFile, STT_OBJECT } from './elf.js';

export class BtfError extends Error {
  constructor(message: string) {
    super(`BTF: ${message}`);
    this.name = 'BtfError';
  }
}

export interface BtfParam {
  /** '' when the prototype does not name it (and for the `...` of a variadic function). */
  name: string;
  /** C spelling of the type: `struct dentry *`, `struct inode **`, `umode_t`, `const char __user *`. */
  type: string;
}

export interface BtfFunc {
  /** Type id of the FUNC. */
  id: number;
  name: string;
  returns: string;
  params: BtfParam[];
  /** `vfs_unlink(struct mnt_idmap *idmap, struct inode *dir, ...)`: name and parameters, no return type; `f(void)` without parameters. */
  signature: string;
}

/** A member of a struct: byte offset and size (bitfields are not described). */
export interface StructMember {
  name: string;
  offset: number;
  size: number;
}

export interface DatasecVar {
  name: string;
  /** Byte offset of the variable in its section (e.g. in the .rodata map's value). */
  offset: number;
  size: number;
}

/** Where a relocatable object's variable is, from its ELF symbol: clang leaves DATASEC offsets to the linker. */
type SymbolOffset = (section: string, name: string) => number | undefined;

const BTF_MAGIC = 0xeb9f;
const BTF_VERSION = 1;
const HEADER_SIZE = 24;
const TYPE_SIZE = 12;
/** BTF_MAX_TYPE: type ids are 20 bits. */
const MAX_TYPES = 0xfffff;
/** libbpf's MAX_RESOLVE_DEPTH: longer modifier/pointer chains only come from cycles in broken BTF. */
const MAX_RESOLVE_DEPTH = 32;

const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;
const KIND_NAMES = ['UNKN', ...Object.keys(KIND)];

/** Bytes that follow the 12-byte btf_type, per kind (btf.rst section 2.2). */
function extraBytes(kind: number, vlen: number): number | undefined {
  switch (kind) {
    case KIND.INT: return 4; // u32 encoding/offset/bits
    case KIND.PTR: case KIND.FWD: case KIND.TYPEDEF: case KIND.VOLATILE: case KIND.CONST:
    case KIND.RESTRICT: case KIND.FUNC: case KIND.FLOAT: case KIND.TYPE_TAG: return 0;
    case KIND.ARRAY: return 12; // struct btf_array
    case KIND.STRUCT: case KIND.UNION: return 12 * vlen; // struct btf_member
    case KIND.ENUM: return 8 * vlen; // struct btf_enum
    case KIND.FUNC_PROTO: return 8 * vlen; // struct btf_param
    case KIND.VAR: return 4; // struct btf_var
    case KIND.DATASEC: return 12 * vlen; // struct btf_var_secinfo
    case KIND.DECL_TAG: return 4; // struct btf_decl_tag (Linux 5.16)
    case KIND.ENUM64: return 12 * vlen; // struct btf_enum64 (Linux 6.0)
    default: return undefined;
  }
}

interface RawType {
  id: number;
  /** Offset of the btf_type in the blob. */
  at: number;
  kind: number;
  vlen: number;
  kflag: boolean;
  nameOff: number;
  /** `size` for INT, ENUM, STRUCT, UNION, DATASEC, ENUM64, FLOAT; `type` for the others. */
  sizeOrType: number;
}

export function parseBtf(blob: Buffer): Btf {
  return Btf.parse(blob);
}

/**
 * The .BTF of a BPF object file. clang (`-target bpf -c`, checked with 14) writes 0 for every
 * DATASEC size and variable offset and leaves them to the linker; like libbpf when it opens an
 * object (btf_fixup_datasec), datasecVars() then takes each offset from the ELF symbol of the
 * same name. Objects linked by `bpftool gen object` carry real offsets and are read as they are.
 */
export function parseObjectBtf(elfFile: Buffer): Btf {
  const elf = ElfFile.parse(elfFile);
  const objects = elf.symbols().filter((s) => s.type === STT_OBJECT && s.section !== undefined);
  return Btf.parse(elf.sectionData('.BTF'), (section, name) => objects.find((s) => s.section === section && s.name === name)?.value);
}

export class Btf {
  private funcsByName: Map<string, number> | undefined;

  private constructor(
    private readonly blob: Buffer,
    /** offsets[id] = where type `id` starts in the blob; offsets[0] (void) is unused. */
    private readonly offsets: Uint32Array,
    /** Number of types, void not counted: ids run 1..typeCount. */
    readonly typeCount: number,
    private readonly strStart: number,
    private readonly strLen: number,
    private readonly symbolOffset: SymbolOffset | undefined,
  ) {}

  /** Use parseBtf() or parseObjectBtf(). */
  static parse(blob: Buffer, symbolOffset?: SymbolOffset): Btf {
    if (blob.length < HEADER_SIZE) throw new BtfError(`blob is ${blob.length} bytes, shorter than the ${HEADER_SIZE}-byte header`);
    const magic = blob.readUInt16LE(0);
    if (magic === 0x9feb) throw new BtfError('big-endian BTF; only little-endian is supported');
    if (magic !== BTF_MAGIC) throw new BtfError(`bad magic 0x${magic.toString(16)} (expected 0xeb9f)`);
    if (blob[2] !== BTF_VERSION) throw new BtfError(`version ${blob[2]}, only ${BTF_VERSION} is known`);
    const hdrLen = blob.readUInt32LE(4);
    const [typeOff, typeLen, strOff, strLen] = [8, 12, 16, 20].map((at) => blob.readUInt32LE(at));
    if (hdrLen < HEADER_SIZE || hdrLen > blob.length) throw new BtfError(`header length ${hdrLen} is not within ${HEADER_SIZE}..${blob.length}`);
    const body = blob.length - hdrLen;
    if (typeOff % 4 !== 0) throw new BtfError(`type section offset ${typeOff} is not 4-byte aligned`);
    if (typeOff + typeLen > body) throw new BtfError(`type section (offset ${typeOff}, ${typeLen} bytes) runs past the end of the blob (${body} bytes after the header)`);
    if (strOff + strLen > body) throw new BtfError(`string section (offset ${strOff}, ${strLen} bytes) runs past the end of the blob (${body} bytes after the header)`);
    if (typeOff < strOff + strLen && strOff < typeOff + typeLen) throw new BtfError('type and string sections overlap');
    const strStart = hdrLen + strOff;
    if (strLen === 0 || blob[strStart] !== 0 || blob[strStart + strLen - 1] !== 0) {
      throw new BtfError('string section must start and end with a NUL byte');
    }

    // Every type takes at least 12 bytes, which bounds the count and makes the loop terminate.
    const offsets = new Uint32Array(Math.floor(typeLen / TYPE_SIZE) + 1);
    const typeStart = hdrLen + typeOff;
    const typeEnd = typeStart + typeLen;
    let id = 0;
    for (let at = typeStart; at < typeEnd; ) {
      id++;
      if (id > MAX_TYPES) throw new BtfError(`more than ${MAX_TYPES} types`);
      if (at + TYPE_SIZE > typeEnd) throw new BtfError(`type ${id} at offset ${at} is cut off by the end of the type section`);
      const info = blob.readUInt32LE(at + 4);
      const kind = (info >>> 24) & 0x1f;
      const extra = extraBytes(kind, info & 0xffff);
      if (extra === undefined) throw new BtfError(`type ${id} at offset ${at} has unknown kind ${kind}`);
      const next = at + TYPE_SIZE + extra;
      if (next > typeEnd) throw new BtfError(`type ${id} (${KIND_NAMES[kind]}) at offset ${at} runs past the end of the type section`);
      offsets[id] = at;
      at = next;
    }
    return new Btf(blob, offsets, id, strStart, strLen, symbolOffset);
  }

  /** The kernel function (FUNC) of that name, with its prototype; the first one if several share it. */
  findFunc(name: string): BtfFunc | undefined {
    if (!this.funcsByName) {
      const index = new Map<string, number>();
      for (let id = 1; id <= this.typeCount; id++) {
        if (this.kindOf(id) !== KIND.FUNC) continue;
        const funcName = this.name(this.blob.readUInt32LE(this.offsets[id]));
        if (!index.has(funcName)) index.set(funcName, id);
      }
      this.funcsByName = index;
    }
    const id = this.funcsByName.get(name);
    if (id === undefined) return undefined;
    const proto = this.protoOf(id);
    const params = this.protoParams(proto).map((p) => ({
      name: p.name,
      type: p.variadic ? '...' : this.cType(p.type, ''),
      declaration: p.variadic ? '...' : this.cType(p.type, p.name),
    }));
    return {
      id,
      name,
      returns: this.cType(proto.sizeOrType, ''),
      params: params.map(({ name: n, type }) => ({ name: n, type })),
      signature: `${name}(${params.map((p) => p.declaration).join(', ') || 'void'})`,
    };
  }

  funcParams(name: string): BtfParam[] | undefined {
    return this.findFunc(name)?.params;
  }

  /**
   * 1-based index of the first parameter of `func` that is a pointer to `struct <structName>`,
   * looking through typedefs, qualifiers and type tags on both sides of the pointer (so
   * `struct dentry *const` counts, `struct dentry **` does not). Undefined when `func` is not
   * in this BTF or has no such parameter.
   */
  pointerParamIndex(func: string, structName: string): number | undefined {
    return this.pointerParamIndices(func, structName)?.[0];
  }

  /** Every such parameter's 1-based index, in order (vfs_link has two dentries); undefined when `func` is not here. */
  pointerParamIndices(func: string, structName: string): number[] | undefined {
    const f = this.findFunc(func);
    if (!f) return undefined;
    const params = this.protoParams(this.protoOf(f.id));
    const out: number[] = [];
    for (let i = 0; i < params.length; i++) {
      if (params[i].variadic) break;
      const ptr = this.skipModifiers(params[i].type);
      if (ptr === 0 || this.raw(ptr).kind !== KIND.PTR) continue;
      const target = this.skipModifiers(this.raw(ptr).sizeOrType);
      if (target === 0) continue;
      const t = this.raw(target);
      const isStruct = t.kind === KIND.STRUCT || (t.kind === KIND.FWD && !t.kflag);
      if (isStruct && this.name(t.nameOff) === structName) out.push(i + 1);
    }
    return out;
  }

  /**
   * The members of the first `struct <name>` with their byte offsets and sizes; undefined when
   * there is none. Used to check a record layout compiled into a BPF object against its decoder.
   */
  structMembers(name: string): StructMember[] | undefined {
    const t = this.typesOfKind(KIND.STRUCT).find((x) => this.name(x.nameOff) === name);
    if (!t) return undefined;
    return Array.from({ length: t.vlen }, (_, i) => {
      const at = t.at + TYPE_SIZE + 12 * i;
      const bits = this.blob.readUInt32LE(at + 8);
      const bitOffset = t.kflag ? bits & 0xffffff : bits;
      return { name: this.name(this.blob.readUInt32LE(at)), offset: bitOffset / 8, size: this.sizeOf(this.blob.readUInt32LE(at + 4)) };
    });
  }

  /** Size in bytes of type `id` (pointers: 8, the targets' word). */
  private sizeOf(id: number, depth = 0): number {
    if (depth > MAX_RESOLVE_DEPTH) throw new BtfError(`type ${id}: arrays nested more than ${MAX_RESOLVE_DEPTH} deep`);
    const t = this.raw(this.skipModifiers(id));
    if (t.kind === KIND.PTR) return 8;
    if (t.kind !== KIND.ARRAY) return t.sizeOrType;
    const elem = this.blob.readUInt32LE(t.at + TYPE_SIZE);
    return this.blob.readUInt32LE(t.at + TYPE_SIZE + 8) * this.sizeOf(elem, depth + 1);
  }

  /**
   * Variables of a data section (DATASEC, e.g. `.rodata` holding `const volatile` globals), in
   * BTF order; [] when there is no such DATASEC (a section without variables has none).
   */
  datasecVars(section: string): DatasecVar[] {
    const sec = this.typesOfKind(KIND.DATASEC).find((t) => this.name(t.nameOff) === section);
    if (!sec) return [];
    const fromSymbols = sec.sizeOrType === 0 && sec.vlen > 0;
    if (fromSymbols && !this.symbolOffset) {
      throw new BtfError(
        `DATASEC '${section}' has size 0: this is the .BTF of an unlinked clang object, whose variable offsets ` +
          'are in the ELF symbol table; read the object with parseObjectBtf()',
      );
    }
    const vars: DatasecVar[] = [];
    for (let i = 0; i < sec.vlen; i++) {
      const at = sec.at + TYPE_SIZE + 12 * i;
      const v = this.raw(this.blob.readUInt32LE(at));
      if (v.kind !== KIND.VAR) throw new BtfError(`DATASEC '${section}' entry ${i} is type ${v.id}, a ${KIND_NAMES[v.kind]}, not a VAR`);
      const name = this.name(v.nameOff);
      let offset = this.blob.readUInt32LE(at + 4);
      if (fromSymbols) {
        const symbolOffset = this.symbolOffset!(section, name);
        if (symbolOffset === undefined) throw new BtfError(`no ELF symbol for variable '${name}' in section '${section}'`);
        offset = symbolOffset;
      }
      vars.push({ name, offset, size: this.blob.readUInt32LE(at + 8) });
    }
    return vars;
  }

  /** Value of `enumerator` in `enum <enumName>` (ENUM or ENUM64), or undefined if either is absent. */
  enumValue(enumName: string, enumerator: string): bigint | undefined {
    for (const t of [...this.typesOfKind(KIND.ENUM), ...this.typesOfKind(KIND.ENUM64)]) {
      if (this.name(t.nameOff) !== enumName) continue;
      const entrySize = t.kind === KIND.ENUM ? 8 : 12;
      for (let i = 0; i < t.vlen; i++) {
        const at = t.at + TYPE_SIZE + entrySize * i;
        if (this.name(this.blob.readUInt32LE(at)) !== enumerator) continue;
        if (t.kind === KIND.ENUM64) {
          const value = (BigInt(this.blob.readUInt32LE(at + 8)) << 32n) | BigInt(this.blob.readUInt32LE(at + 4));
          return t.kflag ? BigInt.asIntN(64, value) : value; // kind_flag: signed (Linux 6.0)
        }
        return BigInt(t.kflag ? this.blob.readInt32LE(at + 4) : this.blob.readUInt32LE(at + 4));
      }
    }
    return undefined;
  }

  private raw(id: number): RawType {
    if (!Number.isInteger(id) || id < 1 || id > this.typeCount) throw new BtfError(`type id ${id} is out of range (1..${this.typeCount})`);
    const at = this.offsets[id];
    const info = this.blob.readUInt32LE(at + 4);
    return {
      id,
      at,
      kind: (info >>> 24) & 0x1f,
      vlen: info & 0xffff,
      kflag: info >>> 31 === 1,
      nameOff: this.blob.readUInt32LE(at),
      sizeOrType: this.blob.readUInt32LE(at + 8),
    };
  }

  private kindOf(id: number): number {
    return (this.blob.readUInt32LE(this.offsets[id] + 4) >>> 24) & 0x1f;
  }

  private typesOfKind(kind: number): RawType[] {
    const out: RawType[] = [];
    for (let id = 1; id <= this.typeCount; id++) if (this.kindOf(id) === kind) out.push(this.raw(id));
    return out;
  }

  private name(off: number): string {
    if (off >= this.strLen) throw new BtfError(`name offset ${off} is outside the string section (${this.strLen} bytes)`);
    const start = this.strStart + off;
    // The section ends with a NUL (checked in parse), so this stops inside it.
    return this.blob.toString('utf8', start, this.blob.indexOf(0, start));
  }

  private protoOf(funcId: number): RawType {
    const proto = this.raw(this.raw(funcId).sizeOrType);
    if (proto.kind !== KIND.FUNC_PROTO) throw new BtfError(`FUNC ${funcId} refers to type ${proto.id}, a ${KIND_NAMES[proto.kind]}, not a FUNC_PROTO`);
    return proto;
  }

  /** A variadic prototype ends with a parameter that has neither name nor type. */
  private protoParams(proto: RawType): { name: string; type: number; variadic: boolean }[] {
    return Array.from({ length: proto.vlen }, (_, i) => {
      const at = proto.at + TYPE_SIZE + 8 * i;
      const nameOff = this.blob.readUInt32LE(at);
      const type = this.blob.readUInt32LE(at + 4);
      return { name: this.name(nameOff), type, variadic: i === proto.vlen - 1 && nameOff === 0 && type === 0 };
    });
  }

  /** Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG to the type they decorate. */
  private skipModifiers(id: number): number {
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
      if (id === 0) return 0;
      const t = this.raw(id);
      if (t.kind !== KIND.TYPEDEF && !isQualifier(t.kind) && t.kind !== KIND.TYPE_TAG) return id;
      id = t.sizeOrType;
    }
    throw new BtfError(`type ${id}: more than ${MAX_RESOLVE_DEPTH} typedefs/qualifiers in a row (a reference cycle?)`);
  }

  /**
   * C declaration of type `id` with declarator `decl` (a name, or '' for an abstract type):
   * built inside out, the way C reads, so `int (*fn)(struct file *)` and `struct dentry *const`
   * come out right.
   */
  private cType(id: number, decl: string, depth = 0): string {
    if (depth > MAX_RESOLVE_DEPTH) throw new BtfError(`type ${id}: more than ${MAX_RESOLVE_DEPTH} levels of types (a reference cycle?)`);
    const withDecl = (base: string) => (decl ? `${base} ${decl}` : base);
    if (id === 0) return withDecl('void');
    const t = this.raw(id);
    const name = this.name(t.nameOff);
    switch (t.kind) {
      case KIND.INT: case KIND.FLOAT: case KIND.TYPEDEF:
        return withDecl(name);
      case KIND.STRUCT: case KIND.UNION: case KIND.ENUM: case KIND.ENUM64: case KIND.FWD: {
        const keyword = t.kind === KIND.STRUCT || (t.kind === KIND.FWD && !t.kflag) ? 'struct'
          : t.kind === KIND.ENUM || t.kind === KIND.ENUM64 ? 'enum' : 'union';
        return withDecl(`${keyword} ${name || '{...}'}`);
      }
      case KIND.PTR: {
        const target = t.sizeOrType === 0 ? undefined : this.raw(t.sizeOrType).kind;
        const inner = target === KIND.ARRAY || target === KIND.FUNC_PROTO ? `(*${decl})` : `*${decl}`;
        return this.cType(t.sizeOrType, inner, depth + 1);
      }
      case KIND.CONST: case KIND.VOLATILE: case KIND.RESTRICT: {
        const qualifier = t.kind === KIND.CONST ? 'const' : t.kind === KIND.VOLATILE ? 'volatile' : 'restrict';
        // A qualified pointer is qualified in its declarator (`T *const p`); anything else reads
        // better with the qualifier in front (`const char`).
        if (this.qualifiesPointer(t.sizeOrType, depth)) return this.cType(t.sizeOrType, decl ? `${qualifier} ${decl}` : qualifier, depth + 1);
        return `${qualifier} ${this.cType(t.sizeOrType, decl, depth + 1)}`;
      }
      case KIND.TYPE_TAG: {
        // The kernel spells btf_type_tag(user) as __user and writes it after the type: `const char __user *`.
        const tag = /^[A-Za-z_]\w*$/.test(name) ? `__${name}` : `__attribute__((btf_type_tag("${name}")))`;
        return this.cType(t.sizeOrType, decl ? `${tag} ${decl}` : tag, depth + 1);
      }
      case KIND.ARRAY: {
        const elem = this.blob.readUInt32LE(t.at + TYPE_SIZE);
        const nelems = this.blob.readUInt32LE(t.at + TYPE_SIZE + 8);
        return this.cType(elem, `${decl}[${nelems}]`, depth + 1);
      }
      case KIND.FUNC_PROTO: {
        const params = this.protoParams(t).map((p) => (p.variadic ? '...' : this.cType(p.type, '', depth + 1)));
        return this.cType(t.sizeOrType, `${decl}(${params.join(', ') || 'void'})`, depth + 1);
      }
      default: // FUNC, VAR, DATASEC, DECL_TAG name things; they are not the type of a value
        return withDecl(`${KIND_NAMES[t.kind]} ${name}`);
    }
  }

  private qualifiesPointer(id: number, depth: number): boolean {
    for (let d = depth; d <= MAX_RESOLVE_DEPTH; d++) {
      if (id === 0) return false;
      const t = this.raw(id);
      if (t.kind === KIND.PTR) return true;
      if (!isQualifier(t.kind) && t.kind !== KIND.TYPE_TAG) return false;
      id = t.sizeOrType;
    }
    throw new BtfError(`type ${id}: more than ${MAX_RESOLVE_DEPTH} qualifiers in a row (a reference cycle?)`);
  }
}

function isQualifier(kind: number): boolean {
  return kind === KIND.CONST || kind === KIND.VOLATILE || kind === KIND.RESTRICT;
}
