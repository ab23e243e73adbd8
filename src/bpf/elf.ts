// Just enough of ELF64 little-endian to take a compiled BPF object (clang -target bpf) apart:
// a section's bytes (.BTF) and the symbol table (where each global variable sits in .rodata).
// Layouts from the System V gABI and /usr/include/elf.h. Pure: buffers in, values out.

export class ElfError extends Error {
  constructor(message: string) {
    super(`ELF: ${message}`);
    this.name = 'ElfError';
  }
}

export interface ElfSection {
  index: number;
  name: string;
  /** sh_type: SHT_PROGBITS 1, SHT_SYMTAB 2, SHT_STRTAB 3, SHT_NOBITS 8 (no file contents), ... */
  type: number;
  /** File offset of the contents. */
  offset: number;
  /** Size in memory; for SHT_NOBITS (.bss) there are no bytes in the file. */
  size: number;
  /** sh_link: for SHT_SYMTAB, the index of its string table. */
  link: number;
}

export interface ElfSymbol {
  name: string;
  /** Name of the section the symbol is defined in; undefined for undefined, absolute and common symbols. */
  section: string | undefined;
  /** st_value: in a relocatable object, the offset inside its section. */
  value: number;
  size: number;
  /** STT_*: STT_NOTYPE 0, STT_OBJECT 1, STT_FUNC 2, STT_SECTION 3, STT_FILE 4. */
  type: number;
  /** STB_*: STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2. */
  bind: number;
}

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
export const STT_OBJECT = 1;

const ELF64_EHDR_SIZE = 64;
const ELF64_SHDR_SIZE = 64;
const ELF64_SYM_SIZE = 24;
const SHN_UNDEF = 0;
/** Section indices from here up are reserved (SHN_ABS, SHN_COMMON, SHN_XINDEX ...), not real sections. */
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export class ElfFile {
  private constructor(private readonly file: Buffer, readonly sections: readonly ElfSection[]) {}

  static parse(file: Buffer): ElfFile {
    if (file.length < ELF64_EHDR_SIZE) throw new ElfError(`file is ${file.length} bytes, shorter than an ELF64 header`);
    if (file.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('bad magic (not an ELF file)');
    if (file[4] !== 2) throw new ElfError(`EI_CLASS ${file[4]}: only ELF64 is supported`);
    if (file[5] !== 1) throw new ElfError(`EI_DATA ${file[5]}: only little-endian is supported`);
    const shoff = u64(file, 0x28, 'e_shoff');
    const shentsize = file.readUInt16LE(0x3a);
    let shnum = file.readUInt16LE(0x3c);
    let shstrndx = file.readUInt16LE(0x3e);
    if (shoff === 0) throw new ElfError('no section header table');
    if (shentsize !== ELF64_SHDR_SIZE) throw new ElfError(`e_shentsize ${shentsize}, expected ${ELF64_SHDR_SIZE}`);
    // Extended numbering (gABI): with 0xff00 sections or more, the real counts live in section 0.
    if (shoff + ELF64_SHDR_SIZE > file.length) throw new ElfError(`section header table at ${shoff} is past the end of the file`);
    if (shnum === 0) shnum = u64(file, shoff + 32, 'section 0 sh_size');
    if (shstrndx === SHN_XINDEX) shstrndx = file.readUInt32LE(shoff + 40);
    if (shoff + shnum * ELF64_SHDR_SIZE > file.length) {
      throw new ElfError(`section header table (${shnum} entries at ${shoff}) runs past the end of the file (${file.length} bytes)`);
    }
    const raw = Array.from({ length: shnum }, (_, index) => {
      const at = shoff + index * ELF64_SHDR_SIZE;
      const s = {
        index,
        nameOff: file.readUInt32LE(at),
        type: file.readUInt32LE(at + 4),
        offset: u64(file, at + 24, `section ${index} sh_offset`),
        size: u64(file, at + 32, `section ${index} sh_size`),
        link: file.readUInt32LE(at + 40),
      };
      if (s.type !== SHT_NOBITS && s.offset + s.size > file.length) {
        throw new ElfError(`section ${index} (${s.offset}+${s.size}) runs past the end of the file (${file.length} bytes)`);
      }
      return s;
    });
    if (shstrndx === SHN_UNDEF || shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} is not a section (of ${shnum})`);
    const names = raw[shstrndx];
    const sections = raw.map(({ nameOff, ...s }) => ({ ...s, name: cString(file, names, nameOff, `section ${s.index} name`) }));
    return new ElfFile(file, sections);
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The file bytes of the named section (a view, not a copy). */
  sectionData(name: string): Buffer {
    const s = this.section(name);
    if (!s) throw new ElfError(`no section '${name}'`);
    if (s.type === SHT_NOBITS) throw new ElfError(`section '${name}' has no contents in the file (SHT_NOBITS)`);
    return this.file.subarray(s.offset, s.offset + s.size);
  }

  /** Entries of .symtab (the null symbol 0 left out); [] when the object has no symbol table. */
  symbols(): ElfSymbol[] {
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!symtab) return [];
    const strtab = this.sections[symtab.link];
    if (!strtab) throw new ElfError(`.symtab links to string table ${symtab.link}, which does not exist`);
    const out: ElfSymbol[] = [];
    for (let at = symtab.offset + ELF64_SYM_SIZE; at + ELF64_SYM_SIZE <= symtab.offset + symtab.size; at += ELF64_SYM_SIZE) {
      const info = this.file[at + 4];
      const shndx = this.file.readUInt16LE(at + 6);
      out.push({
        name: cString(this.file, strtab, this.file.readUInt32LE(at), 'symbol name'),
        section: shndx !== SHN_UNDEF && shndx < SHN_LORESERVE ? this.sections[shndx]?.name : undefined,
        value: u64(this.file, at + 8, 'st_value'),
        size: u64(this.file, at + 16, 'st_size'),
        type: info & 0xf,
        bind: info >> 4,
      });
    }
    return out;
  }
}

/** The bytes of one section of an ELF64 little-endian file, e.g. `.BTF` of a `*.bpf.o`. */
export function readElfSection(file: Buffer, name: string): Buffer {
  return ElfFile.parse(file).sectionData(name);
}

function u64(buf: Buffer, at: number, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} ${v} is out of range`);
  return Number(v);
}

function cString(file: Buffer, table: { offset: number; size: number; index: number }, off: number, what: string): string {
  if (off >= table.size) throw new ElfError(`${what}: offset ${off} is outside string table ${table.index} (${table.size} bytes)`);
  const start = table.offset + off;
  const end = file.indexOf(0, start);
  if (end < 0 || end >= table.offset + table.size) throw new ElfError(`${what}: string at ${off} in table ${table.index} is not NUL-terminated`);
  return file.toString('latin1', start, end);
}
