// A small BTF encoder for tests, written from Documentation/bpf/btf.rst independently of the
// parser (its own kind numbers and layouts), so that both have to agree with the format rather
// than with each other. Methods append one type and return its id; build() lays out
// header + type section + string section. vfsBtf() builds the VFS prototypes of real kernels.

const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

export interface HeaderOverrides {
  magic?: number;
  version?: number;
  hdrLen?: number;
  typeOff?: number;
  typeLen?: number;
  strOff?: number;
  strLen?: number;
}

export class BtfBuilder {
  private readonly types: Buffer[] = [];
  private readonly strings: Buffer[] = [Buffer.from([0])];
  private readonly stringOffsets = new Map<string, number>([['', 0]]);
  private stringBytes = 1;

  /** Offset of `s` in the string section, adding it once. */
  str(s: string): number {
    let off = this.stringOffsets.get(s);
    if (off === undefined) {
      off = this.stringBytes;
      const bytes = Buffer.from(`${s}\0`, 'utf8');
      this.strings.push(bytes);
      this.stringBytes += bytes.length;
      this.stringOffsets.set(s, off);
    }
    return off;
  }

  /** Any type: btf_type (name, info from kind/vlen/kflag, size-or-type) followed by raw u32 words. */
  type(kind: number, name: string, vlen: number, sizeOrType: number, words: number[] = [], kflag = false): number {
    const b = Buffer.alloc(12 + 4 * words.length);
    b.writeUInt32LE(this.str(name), 0);
    b.writeUInt32LE(((kflag ? 1 : 0) << 31 | (kind & 0x1f) << 24 | (vlen & 0xffff)) >>> 0, 4);
    b.writeUInt32LE(sizeOrType >>> 0, 8);
    words.forEach((w, i) => b.writeUInt32LE(w >>> 0, 12 + 4 * i));
    this.types.push(b);
    return this.types.length;
  }

  int(name: string, size: number, encoding: { signed?: boolean; char?: boolean; bool?: boolean } = {}): number {
    const enc = (encoding.signed ? 1 : 0) | (encoding.char ? 2 : 0) | (encoding.bool ? 4 : 0);
    return this.type(KIND.INT, name, 0, size, [(enc << 24) | (size * 8)]);
  }

  ptr(target: number): number {
    return this.type(KIND.PTR, '', 0, target);
  }

  struct(name: string, size = 0, members: { name: string; type: number; bitOffset: number }[] = []): number {
    return this.type(KIND.STRUCT, name, members.length, size, members.flatMap((m) => [this.str(m.name), m.type, m.bitOffset]));
  }

  union(name: string, size: number, members: { name: string; type: number; bitOffset: number }[]): number {
    return this.type(KIND.UNION, name, members.length, size, members.flatMap((m) => [this.str(m.name), m.type, m.bitOffset]));
  }

  /** A forward declaration: `struct name;` (or `union name;`). */
  fwd(name: string, union = false): number {
    return this.type(KIND.FWD, name, 0, 0, [], union);
  }

  typedef(name: string, target: number): number {
    return this.type(KIND.TYPEDEF, name, 0, target);
  }

  const(target: number): number {
    return this.type(KIND.CONST, '', 0, target);
  }

  volatile(target: number): number {
    return this.type(KIND.VOLATILE, '', 0, target);
  }

  restrict(target: number): number {
    return this.type(KIND.RESTRICT, '', 0, target);
  }

  typeTag(tag: string, target: number): number {
    return this.type(KIND.TYPE_TAG, tag, 0, target);
  }

  array(elem: number, index: number, nelems: number): number {
    return this.type(KIND.ARRAY, '', 0, 0, [elem, index, nelems]);
  }

  enum(name: string, values: [string, number][], size = 4): number {
    return this.type(KIND.ENUM, name, values.length, size, values.flatMap(([n, v]) => [this.str(n), v]));
  }

  enum64(name: string, values: [string, bigint][], signed = false): number {
    const words = values.flatMap(([n, v]) => [this.str(n), Number(BigInt.asUintN(64, v) & 0xffffffffn), Number(BigInt.asUintN(64, v) >> 32n)]);
    return this.type(KIND.ENUM64, name, values.length, 8, words, signed);
  }

  float(name: string, size: number): number {
    return this.type(KIND.FLOAT, name, 0, size);
  }

  /** `componentIdx` -1 tags the type itself, otherwise a member or parameter. */
  declTag(tag: string, target: number, componentIdx: number): number {
    return this.type(KIND.DECL_TAG, tag, 0, target, [componentIdx]);
  }

  /** `[name, type]` pairs; `['', 0]` last makes it variadic. */
  funcProto(ret: number, params: [string, number][]): number {
    return this.type(KIND.FUNC_PROTO, '', params.length, ret, params.flatMap(([n, t]) => [this.str(n), t]));
  }

  /** linkage: 0 static, 1 global, 2 extern (carried in vlen). */
  func(name: string, proto: number, linkage = 1): number {
    return this.type(KIND.FUNC, name, linkage, proto);
  }

  /** linkage: 0 static, 1 global allocated, 2 extern. */
  var(name: string, type: number, linkage = 1): number {
    return this.type(KIND.VAR, name, 0, type, [linkage]);
  }

  datasec(name: string, size: number, vars: { type: number; offset: number; size: number }[]): number {
    return this.type(KIND.DATASEC, name, vars.length, size, vars.flatMap((v) => [v.type, v.offset, v.size]));
  }

  /** The blob: 24-byte header, types at offset 0, strings right after; fields can be overridden to break it. */
  build(h: HeaderOverrides = {}): Buffer {
    const types = Buffer.concat(this.types);
    const strings = Buffer.concat(this.strings);
    const header = Buffer.alloc(24);
    header.writeUInt16LE(h.magic ?? 0xeb9f, 0);
    header.writeUInt8(h.version ?? 1, 2);
    header.writeUInt8(0, 3);
    header.writeUInt32LE(h.hdrLen ?? 24, 4);
    header.writeUInt32LE(h.typeOff ?? 0, 8);
    header.writeUInt32LE(h.typeLen ?? types.length, 12);
    header.writeUInt32LE(h.strOff ?? types.length, 16);
    header.writeUInt32LE(h.strLen ?? strings.length, 20);
    return Buffer.concat([header, types, strings]);
  }
}

export type VfsStyle = '5.10' | '6.1' | '6.12';

/**
 * BTF with the VFS functions as the kernels of `style` declare them: 5.10 (Debian 11), 6.1
 * (Debian 12: struct user_namespace *), 6.12 (Debian 13: struct mnt_idmap *, here only forward
 * declared, as a kernel that never defines it would have it).
 */
export function vfsBtf(style: VfsStyle): Buffer {
  const b = new BtfBuilder();
  const int = b.int('int', 4, { signed: true });
  const uint = b.int('unsigned int', 4);
  const umode = b.typedef('umode_t', b.typedef('u16', b.int('unsigned short', 2)));
  const bool = b.int('_Bool', 1, { bool: true });
  const inode = b.ptr(b.struct('inode', 600));
  const dentry = b.ptr(b.struct('dentry', 192));
  const first: [string, number][] =
    style === '5.10' ? [] : style === '6.1' ? [['mnt_userns', b.ptr(b.struct('user_namespace', 512))]] : [['idmap', b.ptr(b.fwd('mnt_idmap'))]];
  b.func('vfs_unlink', b.funcProto(int, [...first, ['dir', inode], ['dentry', dentry], ['delegated_inode', b.ptr(inode)]]));
  b.func('vfs_create', b.funcProto(int, [...first, ['dir', inode], ['dentry', dentry], ['mode', umode], ['want_excl', b.typedef('bool', bool)]]));
  // the other hooked functions, with their real parameter lists of each era
  const iattr = b.ptr(b.struct('iattr', 80));
  const name = b.ptr(b.const(b.int('char', 1, { char: true })));
  b.func('notify_change', b.funcProto(int, [...first, ['dentry', dentry], ['attr', iattr], ['delegated_inode', b.ptr(inode)]]));
  b.func('vfs_link', b.funcProto(int, [...first, ['old_dentry', dentry], ['dir', inode], ['new_dentry', dentry], ['delegated_inode', b.ptr(inode)]]));
  b.func('vfs_symlink', b.funcProto(int, [...first, ['dir', inode], ['dentry', dentry], ['oldname', name]]));
  b.func('vfs_mkdir', b.funcProto(int, [...first, ['dir', inode], ['dentry', dentry], ['mode', umode]]));
  b.func('security_inode_rmdir', b.funcProto(int, [['dir', inode], ['dentry', dentry]]));
  if (style === '5.10') {
    const params: [string, number][] = [
      ['old_dir', inode], ['old_dentry', dentry], ['new_dir', inode], ['new_dentry', dentry], ['delegated_inode', b.ptr(inode)], ['flags', uint],
    ];
    b.func('vfs_rename', b.funcProto(int, params));
  } else {
    b.func('vfs_rename', b.funcProto(int, [['rd', b.ptr(b.struct('renamedata', 64))]]));
  }
  return b.build();
}
