// Kernel facts: release parsing, the VFS argument layouts (override > BTF > release), the pure
// probe rules, and the whole report on this machine (6.18 without kprobes, with BTF).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { parseBtf } from '../../src/bpf/btf.js';
import {
  KernelReport,
  RefusalFacts,
  decodeCapabilities,
  explainBpfRefusal,
  ensureTracefs,
  fentryPreconditions,
  parseKernelRelease,
  parseLockdown,
  parseMemlockLimit,
  probeKernel,
  probePrivileges,
  readVmlinuxBtf,
  DENTRY_RULES,
  LayoutHook,
  resolveCreateDentryArg,
  resolveDentryArg,
  resolveHookLayout,
  otherDentryArg,
  resolveRenameAbi,
  resolveUnlinkDentryArg,
  ringbufSupport,
} from '../../src/bpf/kernel.js';
import { BtfBuilder, vfsBtf } from '../support/btf-builder.js';

const btf510 = parseBtf(vfsBtf('5.10'));
const btf61 = parseBtf(vfsBtf('6.1'));
const btf612 = parseBtf(vfsBtf('6.12'));

describe('kernel', () => {
  describe('parseKernelRelease', () => {
    const table: [string, [number, number, number]][] = [
      ['6.1.0-47-cloud-amd64', [6, 1, 0]],
      ['5.10.0-32-cloud-amd64', [5, 10, 0]],
      ['6.12.117+deb13-cloud-amd64', [6, 12, 117]],
      ['4.18.0-553.el8_10.x86_64', [4, 18, 0]],
      ['6.18.44-fc-v782', [6, 18, 44]],
      ['5.15.0-1034-azure', [5, 15, 0]],
      ['6.8.0', [6, 8, 0]],
      ['6.1', [6, 1, 0]],
      ['6.6.30-rc1+', [6, 6, 30]],
    ];
    for (const [release, [major, minor, patch]] of table) {
      it(release, () => expect(parseKernelRelease(release)).to.deep.equal({ major, minor, patch }));
    }
    it('refuses what is not a version', () => {
      expect(() => parseKernelRelease('linux')).to.throw("cannot read a kernel version from release 'linux'");
      expect(() => parseKernelRelease('6')).to.throw(/cannot read/);
    });
  });

  describe('vfs_unlink dentry argument', () => {
    const byRelease: [string, 2 | 3][] = [
      ['4.18.0-553.el8_10.x86_64', 2],
      ['5.10.0-32-cloud-amd64', 2],
      ['5.11.22', 2],
      ['5.12.0', 3],
      ['6.1.0-47-cloud-amd64', 3],
      ['6.12.117+deb13-cloud-amd64', 3],
    ];
    for (const [release, index] of byRelease) {
      it(`without BTF, release ${release} → ${index}`, () => {
        const choice = resolveUnlinkDentryArg({ release });
        expect(choice).to.deep.equal({ index, source: 'release', detail: choice.detail });
        expect(choice.detail).to.match(index === 2 ? /^release \d+\.\d+\.\d+ < 5\.12$/ : /^release \d+\.\d+\.\d+ >= 5\.12$/);
      });
    }

    it('says which release rule it applied', () => {
      expect(resolveUnlinkDentryArg({ release: '5.10.0-32-cloud-amd64' }).detail).to.equal('release 5.10.0 < 5.12');
      expect(resolveUnlinkDentryArg({ release: '6.12.117+deb13-cloud-amd64' }).detail).to.equal('release 6.12.117 >= 5.12');
    });

    it('reads the prototype from BTF: 5.10 → 2, 6.1 → 3, 6.12 → 3', () => {
      expect(resolveUnlinkDentryArg({ btf: btf510, release: '5.10.0-32-cloud-amd64' })).to.deep.equal({
        index: 2,
        source: 'btf',
        detail: 'BTF: vfs_unlink(struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)',
      });
      expect(resolveUnlinkDentryArg({ btf: btf61, release: '6.1.0-47-cloud-amd64' })).to.deep.equal({
        index: 3,
        source: 'btf',
        detail: 'BTF: vfs_unlink(struct user_namespace *mnt_userns, struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)',
      });
      expect(resolveUnlinkDentryArg({ btf: btf612, release: '6.12.117+deb13-cloud-amd64' })).to.deep.equal({
        index: 3,
        source: 'btf',
        detail: 'BTF: vfs_unlink(struct mnt_idmap *idmap, struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)',
      });
    });

    it('believes BTF over the release number (backports, both ways)', () => {
      expect(resolveUnlinkDentryArg({ btf: btf61, release: '5.10.0-32-cloud-amd64' })).to.include({ index: 3, source: 'btf' });
      expect(resolveUnlinkDentryArg({ btf: btf510, release: '6.1.0-47-cloud-amd64' })).to.include({ index: 2, source: 'btf' });
    });

    it('lets an explicit override win over BTF and release', () => {
      expect(resolveUnlinkDentryArg({ btf: btf612, release: '6.12.0', override: 2 })).to.deep.equal({ index: 2, source: 'override', detail: 'set explicitly to 2' });
      expect(resolveUnlinkDentryArg({ release: '5.10.0', override: 3 })).to.include({ index: 3, source: 'override' });
    });

    it('falls back to the release, saying why, when BTF lacks the function or has an unknown shape', () => {
      const b = new BtfBuilder();
      b.int('int', 4);
      expect(resolveUnlinkDentryArg({ btf: parseBtf(b.build()), release: '6.1.0' })).to.deep.equal({
        index: 3,
        source: 'release',
        detail: 'BTF has no vfs_unlink; release 6.1.0 >= 5.12',
      });
      const odd = new BtfBuilder();
      const int = odd.int('int', 4, { signed: true });
      const inode = odd.ptr(odd.struct('inode', 600));
      odd.func('vfs_unlink', odd.funcProto(int, [['a', inode], ['b', inode], ['c', inode], ['dentry', odd.ptr(odd.struct('dentry', 192))]]));
      expect(resolveUnlinkDentryArg({ btf: parseBtf(odd.build()), release: '5.10.0' })).to.deep.equal({
        index: 2,
        source: 'release',
        detail: 'BTF: vfs_unlink(struct inode *a, struct inode *b, struct inode *c, struct dentry *dentry) has no struct dentry * as argument 2 or 3; release 5.10.0 < 5.12',
      });
    });
  });

  describe('vfs_rename and vfs_create', () => {
    it('vfs_rename: struct renamedata * from 5.12, six arguments before; BTF first', () => {
      expect(resolveRenameAbi({ release: '5.10.0-32-cloud-amd64' })).to.deep.equal({ abi: 'args', source: 'release', detail: 'release 5.10.0 < 5.12' });
      expect(resolveRenameAbi({ release: '5.12.1' })).to.include({ abi: 'renamedata', source: 'release' });
      expect(resolveRenameAbi({ btf: btf612, release: '6.12.117' })).to.deep.equal({ abi: 'renamedata', source: 'btf', detail: 'BTF: vfs_rename(struct renamedata *rd)' });
      expect(resolveRenameAbi({ btf: btf510, release: '6.1.0' })).to.include({ abi: 'args', source: 'btf' });
      expect(resolveRenameAbi({ btf: btf61, release: '5.10.0' })).to.include({ abi: 'renamedata', source: 'btf' });
      expect(resolveRenameAbi({ btf: btf61, release: '6.1.0', override: 'args' })).to.deep.equal({ abi: 'args', source: 'override', detail: 'set explicitly to args' });
    });

    it('vfs_create: dentry 2nd before 5.12, 3rd after; BTF first', () => {
      expect(resolveCreateDentryArg({ release: '5.10.0' })).to.include({ index: 2, source: 'release' });
      expect(resolveCreateDentryArg({ release: '6.1.0' })).to.include({ index: 3, source: 'release' });
      expect(resolveCreateDentryArg({ btf: btf510, release: '6.1.0' })).to.deep.equal({
        index: 2,
        source: 'btf',
        detail: 'BTF: vfs_create(struct inode *dir, struct dentry *dentry, umode_t mode, bool want_excl)',
      });
      expect(resolveCreateDentryArg({ btf: btf612, release: '5.10.0' })).to.include({ index: 3, source: 'btf' });
    });

    // the layouts bpf/fim.bpf.c is given for the other hooks; BTF wins over a misleading release
    const hooks: [LayoutHook, number, number][] = [['setattr', 1, 2], ['link', 3, 4], ['symlink', 2, 3], ['mkdir', 2, 3], ['rmdir', 2, 2]];
    for (const [hook, before, since] of hooks) {
      it(`${DENTRY_RULES[hook].func}: dentry argument ${before} before 5.12, ${since} since; BTF first`, () => {
        expect(resolveDentryArg(hook, { release: '5.10.0' })).to.include({ index: before, source: 'release' });
        expect(resolveDentryArg(hook, { release: '6.12.0' })).to.include({ index: since, source: 'release' });
        expect(resolveDentryArg(hook, { btf: btf510, release: '6.12.0' })).to.include({ index: before, source: 'btf' });
        expect(resolveDentryArg(hook, { btf: btf61, release: '5.10.0' })).to.include({ index: since, source: 'btf' });
        expect(resolveDentryArg(hook, { btf: btf612, release: '5.10.0' })).to.include({ index: since, source: 'btf' });
        expect(resolveDentryArg(hook, { btf: btf612, release: '5.10.0', override: before })).to.include({ index: before, source: 'override' });
      });
    }

    it('vfs_link: the new dentry (the last of two), not the old one', () => {
      expect(resolveDentryArg('link', { btf: btf612, release: '6.12.0' })).to.deep.equal({
        index: 4,
        source: 'btf',
        detail: 'BTF: vfs_link(struct mnt_idmap *idmap, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, struct inode **delegated_inode)',
      });
      expect(resolveHookLayout({ btf: btf510, release: '5.10.0' })).to.deep.include({ link: resolveDentryArg('link', { btf: btf510, release: '5.10.0' }) });
    });

    it('a function without a dentry where expected falls back to the release, saying why', () => {
      const b = new BtfBuilder();
      b.func('vfs_mkdir', b.funcProto(b.int('int', 4, { signed: true }), [['dir', b.ptr(b.struct('inode', 600))]]));
      const choice = resolveDentryArg('mkdir', { btf: parseBtf(b.build()), release: '6.1.0' });
      expect(choice).to.deep.equal({ index: 3, source: 'release', detail: 'BTF: vfs_mkdir(struct inode *dir) has no struct dentry * as argument 2 or 3; release 6.1.0 >= 5.12' });
    });

    it('the negative controls\' wrong argument: the other era\'s, or the one before a dentry that never moved', () => {
      expect(otherDentryArg('unlink', 3)).to.equal(2);
      expect(otherDentryArg('setattr', 1)).to.equal(2);
      expect(otherDentryArg('link', 4)).to.equal(3);
      expect(otherDentryArg('rmdir', 2)).to.equal(1);
    });
  });

  describe('probe rules', () => {
    it('ring buffer: BTF enum bpf_map_type decides, else release >= 5.8', () => {
      const withRingbuf = new BtfBuilder();
      withRingbuf.enum('bpf_map_type', [['BPF_MAP_TYPE_UNSPEC', 0], ['BPF_MAP_TYPE_RINGBUF', 27]]);
      const without = new BtfBuilder();
      without.enum('bpf_map_type', [['BPF_MAP_TYPE_UNSPEC', 0], ['BPF_MAP_TYPE_SK_STORAGE', 24]]);
      // A backport: the release says 4.18, the kernel has the map type.
      expect(ringbufSupport(parseBtf(withRingbuf.build()), '4.18.0-553.el8_10.x86_64')).to.deep.equal({
        ok: true,
        reason: 'BTF: enum bpf_map_type has BPF_MAP_TYPE_RINGBUF (27)',
      });
      expect(ringbufSupport(parseBtf(without.build()), '5.10.0')).to.deep.equal({ ok: false, reason: 'BTF: enum bpf_map_type has no BPF_MAP_TYPE_RINGBUF' });
      expect(ringbufSupport(undefined, '5.8.0')).to.deep.equal({ ok: true, reason: 'release 5.8.0 >= 5.8' });
      expect(ringbufSupport(undefined, '5.7.19')).to.deep.equal({ ok: false, reason: 'release 5.7.19 < 5.8' });
    });

    it('fentry: needs BTF and an architecture/release with BPF trampolines', () => {
      expect(fentryPreconditions(false, '6.1.0', 'x86_64')).to.include({ ok: false });
      expect(fentryPreconditions(true, '5.4.0', 'x86_64')).to.deep.equal({ ok: false, reason: 'x86_64 release 5.4.0 < 5.5: no BPF trampolines' });
      expect(fentryPreconditions(true, '5.5.0', 'x86_64')).to.include({ ok: true });
      expect(fentryPreconditions(true, '5.15.0', 'aarch64')).to.include({ ok: false });
      expect(fentryPreconditions(true, '6.1.0', 'aarch64')).to.include({ ok: true });
      expect(fentryPreconditions(true, '6.1.0', 'mips')).to.deep.equal({ ok: false, reason: 'no BPF trampoline known for mips' });
    });

    it('decodes CapEff bits: DAC_OVERRIDE 1, DAC_READ_SEARCH 2, SYS_ADMIN 21, PERFMON 38, BPF 39', () => {
      const none = { capDacOverride: false, capDacReadSearch: false, capSysAdmin: false, capPerfmon: false, capBpf: false };
      // full root here, except CAP_SYS_RESOURCE (bit 24)
      expect(decodeCapabilities('000001fffeffffff')).to.deep.equal({
        capDacOverride: true, capDacReadSearch: true, capSysAdmin: true, capPerfmon: true, capBpf: true,
      });
      expect(decodeCapabilities('0000000000200000')).to.deep.equal({ ...none, capSysAdmin: true });
      expect(decodeCapabilities('000000c000000004')).to.deep.equal({ ...none, capDacReadSearch: true, capPerfmon: true, capBpf: true });
      expect(decodeCapabilities('0000000000080002')).to.deep.equal({ ...none, capDacOverride: true });
      expect(decodeCapabilities('0000008000000000')).to.deep.equal({ ...none, capBpf: true });
      expect(() => decodeCapabilities('zz')).to.throw(/not a hex mask/);
    });

    it('privileges: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON; names what is missing and what it costs', () => {
      const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;
      const missing = (capEff: string) => probePrivileges(status(capEff)).missing.map((g) => g.capability);
      expect(probePrivileges(status('0000000000200000'))).to.include({ ok: true, reason: 'CAP_SYS_ADMIN effective' });
      expect(probePrivileges(status('000000c000000000'))).to.include({ ok: true, reason: 'CAP_BPF and CAP_PERFMON effective' });
      expect(probePrivileges(status('0000008000000000'))).to.include({ ok: false, capBpf: true, capPerfmon: false, reason: 'missing capability CAP_PERFMON (CapEff 0000008000000000)' });
      expect(probePrivileges(status('0000004000000004')).reason).to.equal('missing capability CAP_BPF (CapEff 0000004000000004)');
      expect(probePrivileges(status('0000000000000000')).reason).to.equal('missing capabilities CAP_BPF and CAP_PERFMON (CapEff 0000000000000000)');
      expect(missing('000001fffeffffff')).to.deep.equal([]);
      // the systemd unit's set lacks nothing (executables in who-data are read in the kernel)
      expect(missing('000000c000000004')).to.deep.equal([]);
      // CAP_SYS_ADMIN stands in for BPF+PERFMON, CAP_DAC_OVERRIDE for DAC_READ_SEARCH
      expect(missing('0000000000280002')).to.deep.equal([]);
      expect(missing('0000000000000000')).to.deep.equal(['CAP_BPF', 'CAP_PERFMON', 'CAP_DAC_READ_SEARCH']);
      expect(() => probePrivileges('Name:\tnode\n')).to.throw(/no CapEff/);
    });

    it('reads RLIMIT_MEMLOCK from /proc/self/limits', () => {
      const limits = (v: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         ${v}\n`;
      expect(parseMemlockLimit(limits('65536                65536                bytes'))).to.equal(65536);
      expect(parseMemlockLimit(limits('unlimited            unlimited            bytes'))).to.equal(undefined);
      expect(() => parseMemlockLimit('Max open files 1024 1024 files\n')).to.throw(/Max locked memory/);
    });

    it('explains a refused load or attach: memlock before 5.11, perf_event_paranoid 3, else lockdown', () => {
      const facts: RefusalFacts = {
        memlockBytes: 65536, memcgAccounting: false, perfEventParanoid: 3, capSysAdmin: false, lockdown: { mode: 'none', reason: 'none: no restriction' },
      };
      const load = 'fentry: load failed: bpf_object__load: Operation not permitted (EPERM)';
      const attach = 'kprobe: attach failed: kprobe_vfs_unlink: bpf_program__attach: Permission denied (EACCES)';
      expect(explainBpfRefusal(load, facts)).to.equal('RLIMIT_MEMLOCK is 65536 bytes and this kernel (before 5.11) charges BPF maps to it: ' +
        'start the agent with LimitMEMLOCK=infinity (systemd) or ulimit -l unlimited, or grant CAP_SYS_RESOURCE');
      expect(explainBpfRefusal(load, { ...facts, memlockBytes: undefined })).to.equal('kernel lockdown: none: no restriction');
      expect(explainBpfRefusal(load, { ...facts, memcgAccounting: true })).to.equal('kernel lockdown: none: no restriction');
      expect(explainBpfRefusal(attach, facts)).to.equal('kernel.perf_event_paranoid is 3: this kernel allows perf events (kprobes, tracepoints) ' +
        'only with CAP_SYS_ADMIN; set it to 2 (sysctl) for CAP_PERFMON to suffice');
      expect(explainBpfRefusal(attach, { ...facts, perfEventParanoid: 2 })).to.equal(undefined);
      expect(explainBpfRefusal(attach, { ...facts, capSysAdmin: true })).to.equal(undefined);
      expect(explainBpfRefusal('no kprobe PMU', facts)).to.equal(undefined);
    });

    it('reads the active lockdown level', () => {
      expect(parseLockdown('none [integrity] confidentiality\n')).to.equal('integrity');
      expect(parseLockdown('[none] integrity confidentiality\n')).to.equal('none');
      expect(parseLockdown('')).to.equal(undefined);
    });
  });

  describe('this machine', () => {
    const root = process.geteuid?.() === 0;

    it('reads the vmlinux BTF, or says why not', () => {
      const vmlinux = readVmlinuxBtf();
      if (fs.existsSync('/sys/kernel/btf/vmlinux')) {
        expect(vmlinux.btf?.typeCount).to.be.greaterThan(10000);
        expect(vmlinux.reason).to.match(/^\d+ types, parsed in [\d.]+ ms$/);
      }
      expect(readVmlinuxBtf('/nonexistent/vmlinux')).to.deep.equal({
        path: '/nonexistent/vmlinux',
        reason: 'no /nonexistent/vmlinux: kernel built without CONFIG_DEBUG_INFO_BTF, or older than 5.4',
      });
      const notBtf = readVmlinuxBtf('/proc/self/status');
      expect(notBtf).to.not.have.property('btf');
      expect(notBtf.reason).to.match(/^BTF: bad magic 0x[0-9a-f]+ \(expected 0xeb9f\)$/);
    });

    it('probeKernel() gives a sane, JSON-serialisable report', function () {
      if (!root) this.skip();
      expect(ensureTracefs()).to.include({ ok: true });
      const report = probeKernel();
      console.log(`      ${JSON.stringify(report)}`);
      const roundTrip: KernelReport = JSON.parse(JSON.stringify(report));
      expect(roundTrip).to.deep.equal(report);
      expect(report.release).to.equal(fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
      expect(report.btf).to.include({ present: true, path: '/sys/kernel/btf/vmlinux', sizeBytes: fs.statSync('/sys/kernel/btf/vmlinux').size });
      expect(report.vfsUnlink).to.include({ index: 3, source: 'btf' });
      expect(report.vfsUnlink.detail).to.match(/^BTF: vfs_unlink\(struct (mnt_idmap|user_namespace) \*\w+, struct inode \*dir, struct dentry \*dentry/);
      expect(report.vfsRename).to.include({ abi: 'renamedata', source: 'btf' });
      expect(report.vfsCreate).to.include({ index: 3, source: 'btf' });
      expect(report.ringbuf.ok).to.equal(true);
      expect(report.tracepoints).to.deep.equal({ ok: true, reason: '/sys/kernel/tracing/events/syscalls/sys_enter_unlinkat present' });
      expect(report.privileges).to.include({ ok: true, root: true, capSysAdmin: true });
      expect(report.lsm).to.be.an('array');
      // kprobes against what the kernel was built with (this machine: CONFIG_KPROBES off).
      const kprobeEvents = kernelConfig('CONFIG_KPROBE_EVENTS');
      if (kprobeEvents !== undefined) expect(report.kprobes.ok).to.equal(kprobeEvents === 'y');
      if (report.release.startsWith('6.18.') && kprobeEvents !== 'y') {
        expect(report.kprobes).to.deep.equal({
          ok: false,
          reason: 'no kprobe PMU (/sys/bus/event_source/devices/kprobe/type): kernel built without CONFIG_KPROBES/CONFIG_KPROBE_EVENTS',
        });
      }
      expect(report.fentry.ok).to.equal(report.machine === 'x86_64' || report.machine === 'aarch64' || report.machine === 's390x');
    });

    it('mounts tracefs when it is missing, and then sees the syscall tracepoints (private mount namespace)', function () {
      if (!root || !hasUnshare()) this.skip();
      const script = `
        const k = await import(${JSON.stringify(new URL('../../src/bpf/kernel.js', import.meta.url).href)});
        console.log(JSON.stringify([k.probeTracepoints(), k.ensureTracefs(), k.probeTracepoints(), k.ensureTracefs()]));`;
      const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        'umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; exec "$0" --input-type=module -e "$1"', process.execPath, script]);
      const [before, mount, after, again] = JSON.parse(out.toString());
      expect(before).to.deep.equal({ ok: false, reason: 'tracefs is not mounted (ensureTracefs() mounts it at /sys/kernel/tracing)' });
      expect(mount).to.deep.equal({ ok: true, mounted: true, reason: 'mounted tracefs at /sys/kernel/tracing' });
      expect(after).to.deep.equal({ ok: true, reason: '/sys/kernel/tracing/events/syscalls/sys_enter_unlinkat present' });
      expect(again).to.deep.equal({ ok: true, mounted: false, reason: 'tracefs already mounted at /sys/kernel/tracing' });
    });

    it('reports LSMs and lockdown once securityfs is mounted (private mount namespace)', function () {
      if (!root || !hasUnshare()) this.skip();
      const script = `
        const k = await import(${JSON.stringify(new URL('../../src/bpf/kernel.js', import.meta.url).href)});
        const r = k.probeKernel();
        console.log(JSON.stringify({ lsm: r.lsm, lockdown: r.lockdown, raw: (await import('node:fs')).readFileSync('/sys/kernel/security/lsm', 'utf8') }));`;
      const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        'mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security; exec "$0" --input-type=module -e "$1"', process.execPath, script]);
      const { lsm, lockdown, raw } = JSON.parse(out.toString());
      expect(lsm).to.deep.equal(raw.trim().split(','));
      expect(lsm.length).to.be.greaterThan(0);
      if (lsm.includes('lockdown')) expect(lockdown.mode).to.be.oneOf(['none', 'integrity', 'confidentiality']);
      expect(lockdown.reason).to.match(/^(none|integrity|confidentiality): /);
    });
  });
});

/** `y`, `m`, `n` (unset), or undefined when the kernel does not expose its configuration. */
function kernelConfig(option: string): string | undefined {
  try {
    const config = zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString();
    return new RegExp(`^${option}=(\\w+)$`, 'm').exec(config)?.[1] ?? 'n';
  } catch {
    return undefined;
  }
}

function hasUnshare(): boolean {
  try {
    execFileSync('unshare', ['--mount', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
