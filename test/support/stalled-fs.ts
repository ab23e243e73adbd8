// A filesystem that stops answering, as a hung network filesystem does: a minimal FUSE server
// (the kernel protocol read from /dev/fuse, no libfuse) whose root holds one regular file,
// `stalled`, whose reads are never answered. A thread that reads it sleeps in the kernel, and
// nothing JavaScript can do (Worker.terminate(), process.exit()) wakes it; a signal to the thread
// does (a kill, exit_group(2)): the server answers the kernel's interrupt with EINTR, as an NFS
// hard mount's killable waits end. Run as its own process (it blocks reading /dev/fuse):
// `node stalled-fs.js <mountpoint>` mounts (root only), prints "mounted", then "read stalled" at
// the first read it leaves unanswered. StalledFs drives it from a test.
// Structures: include/uapi/linux/fuse.h (protocol 7.31).
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The file the root holds, and its size (below file_max_size, so that it is hashed). */
export const STALLED_FILE = 'stalled';
const STALLED_SIZE = 16 << 20;

const OP = { LOOKUP: 1, FORGET: 2, GETATTR: 3, OPEN: 14, READ: 15, STATFS: 17, RELEASE: 18, FLUSH: 25, INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, INTERRUPT: 36, BATCH_FORGET: 42 };
const NO_REPLY = new Set([OP.FORGET, OP.BATCH_FORGET]);
const ENOENT = 2;
const EINTR = 4;
const ENOSYS = 38;
const ROOT_ID = 1n;
const FILE_ID = 2n;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** fuse_attr (88 bytes). */
function attr(id: bigint): Buffer {
  const b = Buffer.alloc(88);
  const dir = id === ROOT_ID;
  b.writeBigUInt64LE(id, 0);
  b.writeBigUInt64LE(dir ? 0n : BigInt(STALLED_SIZE), 8);
  b.writeBigUInt64LE(dir ? 0n : BigInt(STALLED_SIZE / 512), 16);
  b.writeUInt32LE(dir ? S_IFDIR | 0o755 : S_IFREG | 0o644, 60);
  b.writeUInt32LE(dir ? 2 : 1, 64);
  b.writeUInt32LE(4096, 80);
  return b;
}

/** The reply to one request: undefined (none), an errno, or the payload after fuse_out_header. */
function answer(opcode: number, nodeid: bigint, body: Buffer): Buffer | number | undefined {
  switch (opcode) {
    case OP.INIT: {
      const out = Buffer.alloc(64); // fuse_init_out
      out.writeUInt32LE(7, 0);
      out.writeUInt32LE(31, 4);
      out.writeUInt32LE(0, 8);
      out.writeUInt16LE(12, 16);
      out.writeUInt16LE(9, 18);
      out.writeUInt32LE(128 << 10, 20);
      out.writeUInt32LE(1, 24);
      return out;
    }
    case OP.LOOKUP: {
      const name = body.subarray(0, body.indexOf(0)).toString();
      if (nodeid !== ROOT_ID || name !== STALLED_FILE) return ENOENT;
      const out = Buffer.alloc(40); // fuse_entry_out before its attr; no caching
      out.writeBigUInt64LE(FILE_ID, 0);
      return Buffer.concat([out, attr(FILE_ID)]);
    }
    case OP.GETATTR:
      return Buffer.concat([Buffer.alloc(16), attr(nodeid)]); // fuse_attr_out
    case OP.OPEN:
    case OP.OPENDIR:
      return Buffer.alloc(16); // fuse_open_out
    case OP.READDIR: {
      if (body.readBigUInt64LE(8) > 0n) return Buffer.alloc(0); // offset: listed already
      const dirent = Buffer.alloc(24 + 8); // fuse_dirent, name padded to 8 bytes
      dirent.writeBigUInt64LE(FILE_ID, 0);
      dirent.writeBigUInt64LE(1n, 8);
      dirent.writeUInt32LE(STALLED_FILE.length, 16);
      dirent.writeUInt32LE(8 /* DT_REG */, 20);
      dirent.write(STALLED_FILE, 24);
      return dirent;
    }
    case OP.STATFS: {
      const out = Buffer.alloc(80); // fuse_kstatfs
      out.writeUInt32LE(4096, 40);
      out.writeUInt32LE(255, 44);
      return out;
    }
    case OP.RELEASE:
    case OP.RELEASEDIR:
    case OP.FLUSH:
      return Buffer.alloc(0);
    default:
      return NO_REPLY.has(opcode) ? undefined : ENOSYS;
  }
}

function serve(mountpoint: string): void {
  // loaded here only: the test process imports this module for StalledFs and needs no FFI
  return void import('koffi').then(({ default: koffi }) => {
    const mount = koffi.load('libc.so.6').func('int mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data)');
    const fd = fs.openSync('/dev/fuse', 'r+');
    if (mount('stalled-fs', mountpoint, 'fuse', 0, `fd=${fd},rootmode=40000,user_id=0,group_id=0`) !== 0) throw new Error(`mount: errno ${koffi.errno()}`);
    process.stdout.write('mounted\n');
    const buf = Buffer.alloc((128 << 10) + 4096);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENODEV') return; // unmounted
        if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'ENOENT') continue; // request interrupted
        throw e;
      }
      const opcode = buf.readUInt32LE(4);
      let unique = buf.readBigUInt64LE(8);
      if (opcode === OP.READ) {
        process.stdout.write('read stalled\n'); // and never answered
        continue;
      }
      let reply: Buffer | number | undefined;
      if (opcode === OP.INTERRUPT) {
        // fuse_interrupt_in: the request a signal interrupted ends with EINTR
        unique = buf.readBigUInt64LE(40);
        reply = EINTR;
      } else reply = answer(opcode, buf.readBigUInt64LE(16), buf.subarray(40, n));
      if (reply === undefined) continue;
      const payload = typeof reply === 'number' ? Buffer.alloc(0) : reply;
      const head = Buffer.alloc(16); // fuse_out_header
      head.writeUInt32LE(16 + payload.length, 0);
      head.writeInt32LE(typeof reply === 'number' ? -reply : 0, 4);
      head.writeBigUInt64LE(unique, 8);
      try {
        fs.writeSync(fd, Buffer.concat([head, payload]));
      } catch {
        // the request was interrupted meanwhile
      }
    }
  });
}

/** The stalled filesystem mounted at `mountpoint` for a test; unmount() when done. */
export class StalledFs {
  private readonly server: ChildProcess;
  private output = '';

  private constructor(readonly mountpoint: string) {
    this.server = spawn(process.execPath, [fileURLToPath(import.meta.url), mountpoint], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.server.stdout!.on('data', (d) => (this.output += d));
  }

  static async mount(mountpoint: string): Promise<StalledFs> {
    const s = new StalledFs(mountpoint);
    await s.until('mounted');
    return s;
  }

  /** Resolves once a read was left unanswered (a thread sleeps in it). */
  stalled(): Promise<void> {
    return this.until('read stalled');
  }

  private async until(line: string): Promise<void> {
    while (!this.output.includes(`${line}\n`)) {
      if (this.server.exitCode !== null) throw new Error(`the stalled filesystem's server exited (${this.server.exitCode}) before '${line}'`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Detaches the mount and ends the server: stalled reads then fail (ENOTCONN). */
  async unmount(): Promise<void> {
    execFileSync('umount', ['--lazy', this.mountpoint]);
    this.server.kill('SIGKILL');
    if (this.server.exitCode === null) await new Promise((r) => this.server.once('exit', r));
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) serve(process.argv[2]!);
