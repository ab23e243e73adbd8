// The two checksums of Wazuh 4.14.7's FIM (wazuh-syscheckd), as pure functions.
//
// Paths below are relative to the Wazuh source root.
//
// 1. The per-file `checksum` attribute (create_db.c fim_get_checksum): SHA-1, printed as 40 lowercase
//    hex digits (os_crypto/sha1/sha1_op.c OS_SHA1_Str), of the text
//
//        "%llu:%s:%s:%s:%s:%s:%s:%lu:%llu:%s:%s:%s"
//        size:perm:attributes:uid:gid:user_name:group_name:mtime:inode:hash_md5:hash_sha1:hash_sha256
//
//    where a NULL string is written as "" (perm/attributes/uid/gid/user_name/group_name) and a hash
//    that is not checked is "" too (fim_get_data clears it before computing the checksum). On Linux
//    `attributes` (Windows file attributes) is always NULL, so the text has an empty field between
//    perm and uid ("14:rw-r--r--::0:0:root:root:..."). Fields whose check_* option is off keep their
//    zero value (size 0, mtime 0, perm/uid/gid/names ""), but `inode` is always the real st_ino,
//    even with check_inode="no" (fim_get_data sets data->inode unconditionally).
//
// 2. The range checksum of the integrity synchronization (shared_modules/rsync/src/
//    rsyncImplementation.cpp fillChecksum; the manager's twin is wazuh_db/wdb_integrity.c
//    wdb_calculate_stmt_checksum): SHA-1 over the concatenation, without separators, of the
//    `checksum` column (the 40-hex text above) of every entry whose path is in [begin, end],
//    taken in ascending path order ("WHERE path BETWEEN '?' and '?' ORDER BY path", syscheckd/src/
//    db/src/fimDBSpecialization.h), printed as lowercase hex (shared_modules/utils/stringHelper.h
//    asciiToHex). SQLite's default BINARY collation orders paths by their UTF-8 bytes (memcmp),
//    which is what comparePaths() does. The agent reads the entries from its baseline in that
//    order, a page at a time, and feeds them to a RangeChecksum, or to a RangeSplit when the
//    manager asks for a range to be split in two.

import { createHash } from 'node:crypto';

/** The fields fim_get_checksum() reads. Absent strings count as "", absent numbers as 0. */
export interface ChecksumFields {
  size?: number | bigint;
  perm?: string;
  /** Windows file attributes; never set on Linux. */
  attributes?: string;
  uid?: string;
  gid?: string;
  user_name?: string;
  group_name?: string;
  mtime?: number | bigint;
  /** Decimal st_ino (a string in 4.14 events). Always part of the checksum, even with check_inode off. */
  inode?: string | number | bigint;
  hash_md5?: string;
  hash_sha1?: string;
  hash_sha256?: string;
}

function unsignedDecimal(v: number | bigint | string | undefined): string {
  if (v === undefined) return '0';
  if (typeof v === 'string') return v === '' ? '0' : v;
  if (typeof v === 'bigint') return v.toString();
  return Math.trunc(v).toString();
}

/** The text fim_get_checksum() hashes (exported for tests and debugging). */
export function attributesChecksumInput(a: ChecksumFields): string {
  return [
    unsignedDecimal(a.size),
    a.perm ?? '',
    a.attributes ?? '',
    a.uid ?? '',
    a.gid ?? '',
    a.user_name ?? '',
    a.group_name ?? '',
    unsignedDecimal(a.mtime),
    unsignedDecimal(a.inode),
    a.hash_md5 ?? '',
    a.hash_sha1 ?? '',
    a.hash_sha256 ?? '',
  ].join(':');
}

/** The `checksum` attribute of a FIM file entry (create_db.c fim_get_checksum). */
export function attributesChecksum(a: ChecksumFields): string {
  return createHash('sha1').update(attributesChecksumInput(a), 'utf8').digest('hex');
}

/** SQLite BINARY collation: compares the UTF-8 bytes (memcmp, then length). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface ChecksummedEntry {
  path: string;
  /** The entry's 40-hex `checksum` attribute. */
  checksum: string;
}

/**
 * The checksum of a range of entries as the agent sends it in integrity_check_* messages:
 * sha1(checksum_1 + checksum_2 + ...), fed the entries in byte order of path. No entry gives
 * sha1("") (da39a3ee...), which the agent never sends for a global check (an empty table produces
 * integrity_clear instead).
 */
export class RangeChecksum {
  private readonly hash = createHash('sha1');

  add(entry: ChecksummedEntry): void {
    this.hash.update(entry.checksum, 'utf8');
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface RangeHalves {
  left: { end: string; tail: string; checksum: string };
  right: { begin: string; checksum: string };
}

/**
 * rsync's split of a range whose checksum the manager found different (rsyncImplementation.cpp
 * sendChecksumFail, fillChecksum with CHECKSUM_SPLIT). With `size` entries counted in the range,
 * middle = floor(size / 2); fed the range's entries in byte order of path, the first `middle` make
 * the left half (its checksum; its last path is the left's `end`), the next entry's path is both
 * the left's `tail` and the right's `begin`, and the right checksum covers that entry and every
 * one after it.
 */
export class RangeSplit {
  private readonly middle: number;
  private fed = 0;
  private half = new RangeChecksum();
  private left: { end: string; checksum: string } | undefined;
  private tail: string | undefined;

  constructor(size: number) {
    this.middle = Math.floor(size / 2);
  }

  add(entry: ChecksummedEntry): void {
    this.half.add(entry);
    this.fed++;
    if (this.fed === this.middle) {
      this.left = { end: entry.path, checksum: this.half.digest() };
      this.half = new RangeChecksum();
    } else if (this.fed === this.middle + 1) {
      this.tail = entry.path;
    }
  }

  /**
   * The two halves, once every entry of the range was fed; undefined when fewer than middle + 1
   * came (the range lost entries after they were counted): there is no right half to send.
   */
  halves(): RangeHalves | undefined {
    if (!this.left || this.tail === undefined) return undefined;
    return { left: { ...this.left, tail: this.tail }, right: { begin: this.tail, checksum: this.half.digest() } };
  }
}
