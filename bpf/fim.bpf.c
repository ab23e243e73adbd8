// SPDX-License-Identifier: GPL-2.0
/*
 * File-integrity capture: one hook per kernel function, in three attach flavours.
 *
 *   kprobe/...           primary: vfs_unlink, vfs_rename, vfs_open (created files), filp_close
 *                        (files opened for writing, closed), notify_change (mode, owner, times,
 *                        size), vfs_link, vfs_symlink, vfs_mkdir, security_inode_rmdir, and
 *                        security_file_permission (writes, throttled per file) — every path into
 *                        the VFS, io_uring included
 *   fentry/...           the same functions through BTF trampolines, for kernels without kprobes
 *   tracepoint/syscalls  last resort when neither loads: the syscalls that do the same; misses
 *                        io_uring and resolves names in user space
 *
 * The loader enables one flavour (bpf_program__set_autoload) and sets the const volatile
 * argument layout from the running kernel's BTF before load, so one object serves 5.8 - 6.x.
 */
#include "fim.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT 00170000
#define S_IFREG 0100000
#define MAY_WRITE 0x2

/* The task's who-data and the event, once the path is known to be monitored. */
static __always_inline void fim_finish(struct fim_scratch *s)
{
	fim_fill_task(&s->ev);
	fim_walk_process(s);
	fim_submit(s);
}

/* An operation on one dentry (it may be negative: a link, symlink or directory being made). */
static __always_inline int on_dentry(struct dentry *d, __u32 op, __u32 attrs, __u32 source)
{
	struct fim_scratch *s = fim_begin(op, source);
	if (!s || !fim_walk_to_anchor(s, FIM_REF_PATH, d))
		return 0;
	fim_fill_inode(&s->ev, d);
	s->ev.attrs = attrs;
	fim_finish(s);
	return 0;
}

static __always_inline int on_unlink(struct dentry *d, __u32 source)
{
	return on_dentry(d, FIM_OP_DELETE, 0, source);
}

/* Reported when either side is monitored: moved in is a creation, moved out a deletion. */
static __always_inline int on_rename(struct dentry *from, struct dentry *to, __u32 source)
{
	struct fim_scratch *s = fim_begin(FIM_OP_RENAME, source);
	if (!s)
		return 0;
	int from_watched = fim_walk_to_anchor(s, FIM_REF_PATH, from);
	int to_watched = fim_walk_to_anchor(s, FIM_REF_PATH2, to);
	if (!from_watched && !to_watched)
		return 0;
	fim_fill_inode(&s->ev, from);
	fim_finish(s);
	return 0;
}

/* The ATTR_* bits of a notify_change() that FIM reports; a set-uid bit dropped by a write is a mode change. */
static __always_inline __u32 reported_attrs(__u32 valid)
{
	__u32 attrs = valid & FIM_ATTR_REPORTED;
	if (valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attrs |= FIM_ATTR_MODE;
	return attrs;
}

/* notify_change() at entry: chmod, chown, utimes, truncate (and a set-uid bit dropped by a write). */
static __always_inline int on_setattr(struct dentry *d, struct iattr *attr, __u32 source)
{
	__u32 attrs = reported_attrs(BPF_CORE_READ(attr, ia_valid));
	if (!attrs)
		return 0; /* only ctime, or a flag: nothing FIM shows */
	return on_dentry(d, FIM_OP_ATTRIB, attrs, source);
}

static __always_inline int on_file(struct file *f, struct dentry *d, __u32 op, __u32 mode_bit, __u32 source)
{
	if (!f || !(BPF_CORE_READ(f, f_mode) & mode_bit))
		return 0;
	return on_dentry(d, op, 0, source);
}

/*
 * vfs_open(path, file) runs after the open created the file, which it records as FMODE_CREATED,
 * but before it sets file->f_path = *path: at entry the dentry is only in the path argument.
 */
static __always_inline int on_open(const struct path *p, struct file *f, __u32 source)
{
	return on_file(f, BPF_CORE_READ(p, dentry), FIM_OP_CREATE, FMODE_CREATED, source);
}

/*
 * A file opened for writing, closed. Not by a task that is exiting (it has released its mm, and
 * with it the executable who-data names): exit closes every descriptor, including those a child
 * inherited and never wrote to (`sleep` in a shell loop that holds a log open), which would name
 * the wrong process. What an exiting writer wrote was reported by its write events.
 */
static __always_inline int on_close(struct file *f, __u32 source)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	if (!BPF_CORE_READ(t, mm))
		return 0;
	return on_file(f, BPF_CORE_READ(f, f_path.dentry), FIM_OP_MODIFY, FMODE_WRITE, source);
}

/* When each regular file was last looked at by on_write, and whether it is monitored. */
struct write_seen {
	__u64 last_ns;
	__u32 monitored;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct anchor_key);
	__type(value, struct write_seen);
} write_seen SEC(".maps");

/*
 * A write to a regular file, before it happens. Writes are the busiest operation on any system,
 * so the cost is bounded per file: a file looked at less than write_interval_ns ago, monitored or
 * not, costs one map lookup; otherwise its path is walked (the only walk) and, when it is under an
 * anchor, one event is sent. User space checks the file again one interval after each event,
 * which covers the writes skipped in between and the one this event precedes.
 */
static __always_inline int on_write(struct file *f, __u32 source)
{
	if (!f || (bpf_get_current_pid_tgid() >> 32) == agent_tgid)
		return 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	struct anchor_key k = { .dev = BPF_CORE_READ(inode, i_sb, s_dev), .ino = BPF_CORE_READ(inode, i_ino) };
	__u64 now = bpf_ktime_get_ns();
	struct write_seen *seen = bpf_map_lookup_elem(&write_seen, &k);
	if (seen && now - seen->last_ns < write_interval_ns)
		return 0;
	struct fim_scratch *s = fim_begin(FIM_OP_WRITE, source);
	if (!s)
		return 0;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct write_seen fresh = { .last_ns = now, .monitored = fim_walk_to_anchor(s, FIM_REF_PATH, d) };
	bpf_map_update_elem(&write_seen, &k, &fresh, BPF_ANY);
	if (!fresh.monitored)
		return 0;
	fim_fill_inode(&s->ev, d);
	fim_finish(s);
	return 0;
}

/* ---- kprobes ---------------------------------------------------------------------------- */

/*
 * Context reads must stay constant-offset loads: read every candidate argument first, then
 * choose among the values (barrier_var stops clang from folding the choice into the address).
 */
static __always_inline void *pick(__u32 which, unsigned long a, unsigned long b, __u32 a_index)
{
	barrier_var(a);
	barrier_var(b);
	return (void *)(which == a_index ? a : b);
}

/* vfs_unlink(dir, dentry, delegated) before 5.12; (mnt_userns|mnt_idmap, dir, dentry, delegated) since */
SEC("kprobe/vfs_unlink")
int BPF_KPROBE(kprobe_vfs_unlink)
{
	return on_unlink(pick(unlink_dentry_arg, PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx), 2), FIM_SRC_KPROBE);
}

/* vfs_rename(old_dir, old_dentry, new_dir, new_dentry, delegated, flags) before 5.12; (struct renamedata *) since */
SEC("kprobe/vfs_rename")
int BPF_KPROBE(kprobe_vfs_rename)
{
	unsigned long a1 = PT_REGS_PARM1(ctx), a2 = PT_REGS_PARM2(ctx), a4 = PT_REGS_PARM4(ctx);
	barrier_var(a1);
	barrier_var(a2);
	barrier_var(a4);
	if (rename_uses_renamedata) {
		struct renamedata *rd = (void *)a1;
		return on_rename(BPF_CORE_READ(rd, old_dentry), BPF_CORE_READ(rd, new_dentry), FIM_SRC_KPROBE);
	}
	return on_rename((void *)a2, (void *)a4, FIM_SRC_KPROBE);
}

/* vfs_open(const struct path *, struct file *): unchanged 4.x - 6.x */
SEC("kprobe/vfs_open")
int BPF_KPROBE(kprobe_vfs_open)
{
	return on_open((void *)PT_REGS_PARM1(ctx), (void *)PT_REGS_PARM2(ctx), FIM_SRC_KPROBE);
}

/*
 * filp_close(struct file *, fl_owner_t): close(2) and process exit both end here before Linux 6.7.
 * Since 6.7 close(2) calls filp_flush() and __fput_sync() instead, and filp_close() calls
 * filp_flush(): there the loader attaches the filp_flush program, never both.
 */
SEC("kprobe/filp_close")
int BPF_KPROBE(kprobe_filp_close)
{
	return on_close((void *)PT_REGS_PARM1(ctx), FIM_SRC_KPROBE);
}

SEC("kprobe/filp_flush")
int BPF_KPROBE(kprobe_filp_flush)
{
	return on_close((void *)PT_REGS_PARM1(ctx), FIM_SRC_KPROBE);
}

/* notify_change(dentry, attr, delegated) before 5.12; (mnt_userns|mnt_idmap, dentry, attr, delegated) since */
SEC("kprobe/notify_change")
int BPF_KPROBE(kprobe_notify_change)
{
	unsigned long a1 = PT_REGS_PARM1(ctx), a2 = PT_REGS_PARM2(ctx), a3 = PT_REGS_PARM3(ctx);
	barrier_var(a1);
	barrier_var(a2);
	barrier_var(a3);
	if (setattr_dentry_arg == 1)
		return on_setattr((void *)a1, (void *)a2, FIM_SRC_KPROBE);
	return on_setattr((void *)a2, (void *)a3, FIM_SRC_KPROBE);
}

/* vfs_link(old_dentry, dir, new_dentry, delegated) before 5.12; (idmap, old_dentry, dir, new_dentry, delegated) since */
SEC("kprobe/vfs_link")
int BPF_KPROBE(kprobe_vfs_link)
{
	return on_dentry(pick(link_dentry_arg, PT_REGS_PARM3(ctx), PT_REGS_PARM4(ctx), 3), FIM_OP_LINK, 0, FIM_SRC_KPROBE);
}

/* vfs_symlink(dir, dentry, oldname) before 5.12; (idmap, dir, dentry, oldname) since */
SEC("kprobe/vfs_symlink")
int BPF_KPROBE(kprobe_vfs_symlink)
{
	return on_dentry(pick(symlink_dentry_arg, PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx), 2), FIM_OP_SYMLINK, 0, FIM_SRC_KPROBE);
}

/* vfs_mkdir(dir, dentry, mode) before 5.12; (idmap, dir, dentry, mode) since (returns the dentry since 6.15) */
SEC("kprobe/vfs_mkdir")
int BPF_KPROBE(kprobe_vfs_mkdir)
{
	return on_dentry(pick(mkdir_dentry_arg, PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx), 2), FIM_OP_MKDIR, 0, FIM_SRC_KPROBE);
}

/*
 * rmdir: security_inode_rmdir(dir, dentry), unchanged 4.x - 6.x, which vfs_rmdir() calls. Not
 * vfs_rmdir itself: on Debian's 5.10 a probe on it attaches but never fires for rmdir(2) (the
 * kernel matrix), as if do_rmdir() called an inlined copy; security/ is another compilation
 * unit, which fs/namei.c cannot inline.
 */
SEC("kprobe/security_inode_rmdir")
int BPF_KPROBE(kprobe_security_inode_rmdir)
{
	return on_dentry(pick(rmdir_dentry_arg, PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), 1), FIM_OP_RMDIR, 0, FIM_SRC_KPROBE);
}

/*
 * security_file_permission(file, mask): rw_verify_area() asks it before every read and write,
 * whichever way the write comes (write, pwrite, writev, io_uring, splice, copy_file_range);
 * unchanged 4.x - 6.x. Reads leave at the mask test.
 */
SEC("kprobe/security_file_permission")
int BPF_KPROBE(kprobe_security_file_permission)
{
	if (!(PT_REGS_PARM2(ctx) & MAY_WRITE))
		return 0;
	return on_write((void *)PT_REGS_PARM1(ctx), FIM_SRC_KPROBE);
}

/* ---- fentry (BTF trampolines): ctx[i] is argument i + 1 ------------------------------------ */

/*
 * Only the dentry argument is read: the verifier checks each ctx[] read against the BTF
 * prototype, and 5.10 refuses to read vfs_unlink's third argument there (struct inode **: "arg2
 * type PTR is not a struct"). unlink_dentry_arg is a frozen constant, so the branch not taken is
 * never verified; barrier_var keeps clang from merging the two reads into one at a computed offset.
 */
SEC("fentry/vfs_unlink")
int fentry_vfs_unlink(__u64 *ctx)
{
	unsigned long d;
	if (unlink_dentry_arg == 2) {
		d = ctx[1];
		barrier_var(d);
	} else {
		d = ctx[2];
		barrier_var(d);
	}
	return on_unlink((void *)d, FIM_SRC_FENTRY);
}

SEC("fentry/vfs_rename")
int fentry_vfs_rename(__u64 *ctx)
{
	if (rename_uses_renamedata) {
		struct renamedata *rd = (void *)ctx[0];
		return on_rename(BPF_CORE_READ(rd, old_dentry), BPF_CORE_READ(rd, new_dentry), FIM_SRC_FENTRY);
	}
	/* before 5.12 vfs_rename has six arguments; ctx[3] is only read on those kernels */
	return on_rename((void *)ctx[1], (void *)ctx[3], FIM_SRC_FENTRY);
}

SEC("fentry/vfs_open")
int fentry_vfs_open(__u64 *ctx)
{
	return on_open((void *)ctx[0], (void *)ctx[1], FIM_SRC_FENTRY);
}

SEC("fentry/filp_close")
int fentry_filp_close(__u64 *ctx)
{
	return on_close((void *)ctx[0], FIM_SRC_FENTRY);
}

SEC("fentry/filp_flush")
int fentry_filp_flush(__u64 *ctx)
{
	return on_close((void *)ctx[0], FIM_SRC_FENTRY);
}

/*
 * The layouts below follow fentry_vfs_unlink: each ctx[] read sits in a branch of a frozen
 * constant, so only the read the kernel's prototype allows is ever verified.
 */
SEC("fentry/notify_change")
int fentry_notify_change(__u64 *ctx)
{
	unsigned long d, attr;
	if (setattr_dentry_arg == 1) {
		d = ctx[0];
		barrier_var(d);
		attr = ctx[1];
		barrier_var(attr);
	} else {
		d = ctx[1];
		barrier_var(d);
		attr = ctx[2];
		barrier_var(attr);
	}
	return on_setattr((void *)d, (void *)attr, FIM_SRC_FENTRY);
}

SEC("fentry/vfs_link")
int fentry_vfs_link(__u64 *ctx)
{
	unsigned long d;
	if (link_dentry_arg == 3) {
		d = ctx[2];
		barrier_var(d);
	} else {
		d = ctx[3];
		barrier_var(d);
	}
	return on_dentry((void *)d, FIM_OP_LINK, 0, FIM_SRC_FENTRY);
}

/* vfs_symlink, vfs_mkdir: the dentry is argument 2 before 5.12, 3 since */
static __always_inline struct dentry *second_or_third(__u64 *ctx, __u32 which)
{
	unsigned long d;
	if (which == 2) {
		d = ctx[1];
		barrier_var(d);
	} else {
		d = ctx[2];
		barrier_var(d);
	}
	return (void *)d;
}

SEC("fentry/vfs_symlink")
int fentry_vfs_symlink(__u64 *ctx)
{
	return on_dentry(second_or_third(ctx, symlink_dentry_arg), FIM_OP_SYMLINK, 0, FIM_SRC_FENTRY);
}

SEC("fentry/vfs_mkdir")
int fentry_vfs_mkdir(__u64 *ctx)
{
	return on_dentry(second_or_third(ctx, mkdir_dentry_arg), FIM_OP_MKDIR, 0, FIM_SRC_FENTRY);
}

SEC("fentry/security_inode_rmdir")
int fentry_security_inode_rmdir(__u64 *ctx)
{
	unsigned long d;
	if (rmdir_dentry_arg == 1) {
		d = ctx[0];
		barrier_var(d);
	} else {
		d = ctx[1];
		barrier_var(d);
	}
	return on_dentry((void *)d, FIM_OP_RMDIR, 0, FIM_SRC_FENTRY);
}

SEC("fentry/security_file_permission")
int fentry_security_file_permission(__u64 *ctx)
{
	if (!(ctx[1] & MAY_WRITE))
		return 0;
	return on_write((void *)ctx[0], FIM_SRC_FENTRY);
}

/* ---- syscall tracepoints ---------------------------------------------------------------- */

/* Entry arguments kept until the syscall returns: only successful calls are reported. */
struct pending_call {
	__s64 dfd;   /* directory fd of a relative name; the file's fd when name is 0 */
	__u64 name;  /* user pointer to the name, 0 for an fd-based call */
	__s64 dfd2;  /* rename: the new name */
	__u64 name2;
	__u32 op;
	__u32 attrs;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pending_call);
} pending SEC(".maps");

#define AT_REMOVEDIR 0x200
#define UTIME_OMIT ((1l << 30) - 2l)

static __always_inline int remember2(__u32 op, __u32 attrs, __s64 dfd, __u64 name, __s64 dfd2, __u64 name2)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_call c = { .dfd = dfd, .name = name, .dfd2 = dfd2, .name2 = name2, .op = op, .attrs = attrs };
	bpf_map_update_elem(&pending, &tid, &c, BPF_ANY);
	return 0;
}

/* A call on one name (relative to dfd), or on the open file dfd when name is 0. */
static __always_inline int remember(__u32 op, __u32 attrs, __s64 dfd, __u64 name)
{
	return remember2(op, attrs, dfd, name, 0, 0);
}

static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * A name as the syscall got it: the string, and for a relative name the directory it starts
 * from when that is not the working directory (which every event carries anyway).
 */
static __always_inline void put_syscall_path(struct fim_scratch *s, int dir_ref, int name_ref, __s64 dfd, const char *name)
{
	char first = 0;
	bpf_probe_read_user(&first, 1, name);
	if (first != '/' && dfd != AT_FDCWD) {
		struct file *f = fd_file(dfd);
		if (f)
			fim_walk_absolute(s, dir_ref, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
	}
	fim_put_user_string(s, name_ref, name);
}

/*
 * At the syscall's return. A name cannot be resolved to a dentry here, so named calls go to user
 * space, which filters them; an fd-based call has its file, filtered by the anchors like the
 * kprobe flavour.
 */
static __always_inline int report_call(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_call *c = bpf_map_lookup_elem(&pending, &tid);
	if (!c)
		return 0;
	struct pending_call call = *c;
	bpf_map_delete_elem(&pending, &tid);
	if (ret != 0)
		return 0;
	if (!call.name) {
		struct file *f = fd_file(call.dfd);
		return f ? on_dentry(BPF_CORE_READ(f, f_path.dentry), call.op, call.attrs, FIM_SRC_TRACEPOINT) : 0;
	}
	struct fim_scratch *s = fim_begin(call.op, FIM_SRC_TRACEPOINT);
	if (!s)
		return 0;
	s->ev.attrs = call.attrs;
	put_syscall_path(s, FIM_REF_PATH, FIM_REF_PATH_NAME, call.dfd, (const char *)call.name);
	if (call.op == FIM_OP_RENAME)
		put_syscall_path(s, FIM_REF_PATH2, FIM_REF_PATH2_NAME, call.dfd2, (const char *)call.name2);
	fim_finish(s);
	return 0;
}

/* One exit program serves every syscall whose entry remembered its arguments. */
#define TP_EXIT(sys)                                      \
	SEC("tracepoint/syscalls/sys_exit_" #sys)         \
	int tp_exit_##sys(struct syscall_exit_ctx *ctx)   \
	{                                                 \
		return report_call(ctx->ret);             \
	}

/* deletions and renames */
SEC("tracepoint/syscalls/sys_enter_unlinkat")
int tp_enter_unlinkat(struct syscall_enter_ctx *ctx)
{
	return remember(ctx->args[2] & AT_REMOVEDIR ? FIM_OP_RMDIR : FIM_OP_DELETE, 0, (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(unlinkat)

SEC("tracepoint/syscalls/sys_enter_unlink")
int tp_enter_unlink(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_DELETE, 0, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(unlink)

SEC("tracepoint/syscalls/sys_enter_rmdir")
int tp_enter_rmdir(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_RMDIR, 0, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(rmdir)

SEC("tracepoint/syscalls/sys_enter_renameat2")
int tp_enter_renameat2(struct syscall_enter_ctx *ctx)
{
	return remember2(FIM_OP_RENAME, 0, (int)ctx->args[0], ctx->args[1], (int)ctx->args[2], ctx->args[3]);
}
TP_EXIT(renameat2)

SEC("tracepoint/syscalls/sys_enter_renameat")
int tp_enter_renameat(struct syscall_enter_ctx *ctx)
{
	return remember2(FIM_OP_RENAME, 0, (int)ctx->args[0], ctx->args[1], (int)ctx->args[2], ctx->args[3]);
}
TP_EXIT(renameat)

SEC("tracepoint/syscalls/sys_enter_rename")
int tp_enter_rename(struct syscall_enter_ctx *ctx)
{
	return remember2(FIM_OP_RENAME, 0, AT_FDCWD, ctx->args[0], AT_FDCWD, ctx->args[1]);
}
TP_EXIT(rename)

/* links and directories: the new name */
SEC("tracepoint/syscalls/sys_enter_linkat")
int tp_enter_linkat(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_LINK, 0, (int)ctx->args[2], ctx->args[3]);
}
TP_EXIT(linkat)

SEC("tracepoint/syscalls/sys_enter_link")
int tp_enter_link(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_LINK, 0, AT_FDCWD, ctx->args[1]);
}
TP_EXIT(link)

SEC("tracepoint/syscalls/sys_enter_symlinkat")
int tp_enter_symlinkat(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_SYMLINK, 0, (int)ctx->args[1], ctx->args[2]);
}
TP_EXIT(symlinkat)

SEC("tracepoint/syscalls/sys_enter_symlink")
int tp_enter_symlink(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_SYMLINK, 0, AT_FDCWD, ctx->args[1]);
}
TP_EXIT(symlink)

SEC("tracepoint/syscalls/sys_enter_mkdirat")
int tp_enter_mkdirat(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_MKDIR, 0, (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(mkdirat)

SEC("tracepoint/syscalls/sys_enter_mkdir")
int tp_enter_mkdir(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_MKDIR, 0, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(mkdir)

/* attributes: mode */
SEC("tracepoint/syscalls/sys_enter_fchmodat")
int tp_enter_fchmodat(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_MODE, (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(fchmodat)

/* Linux 6.6+ (fchmodat with flags) */
SEC("tracepoint/syscalls/sys_enter_fchmodat2")
int tp_enter_fchmodat2(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_MODE, (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(fchmodat2)

SEC("tracepoint/syscalls/sys_enter_chmod")
int tp_enter_chmod(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_MODE, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(chmod)

SEC("tracepoint/syscalls/sys_enter_fchmod")
int tp_enter_fchmod(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_MODE, (int)ctx->args[0], 0);
}
TP_EXIT(fchmod)

/* attributes: owner (-1 leaves an id as it is) */
static __always_inline __u32 owner_attrs(unsigned long uid, unsigned long gid)
{
	return ((int)uid != -1 ? FIM_ATTR_UID : 0) | ((int)gid != -1 ? FIM_ATTR_GID : 0);
}

SEC("tracepoint/syscalls/sys_enter_fchownat")
int tp_enter_fchownat(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, owner_attrs(ctx->args[2], ctx->args[3]), (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(fchownat)

SEC("tracepoint/syscalls/sys_enter_chown")
int tp_enter_chown(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, owner_attrs(ctx->args[1], ctx->args[2]), AT_FDCWD, ctx->args[0]);
}
TP_EXIT(chown)

SEC("tracepoint/syscalls/sys_enter_lchown")
int tp_enter_lchown(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, owner_attrs(ctx->args[1], ctx->args[2]), AT_FDCWD, ctx->args[0]);
}
TP_EXIT(lchown)

SEC("tracepoint/syscalls/sys_enter_fchown")
int tp_enter_fchown(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, owner_attrs(ctx->args[1], ctx->args[2]), (int)ctx->args[0], 0);
}
TP_EXIT(fchown)

/* attributes: times. utimensat(fd, NULL, ...) is futimens(); UTIME_OMIT leaves a time as it is. */
SEC("tracepoint/syscalls/sys_enter_utimensat")
int tp_enter_utimensat(struct syscall_enter_ctx *ctx)
{
	__u32 attrs = FIM_ATTR_ATIME | FIM_ATTR_MTIME;
	struct { long sec, nsec; } times[2];
	if (ctx->args[2] && !bpf_probe_read_user(&times, sizeof(times), (void *)ctx->args[2])) {
		attrs = (times[0].nsec != UTIME_OMIT ? FIM_ATTR_ATIME : 0) | (times[1].nsec != UTIME_OMIT ? FIM_ATTR_MTIME : 0);
		if (!attrs)
			return 0;
	}
	return remember(FIM_OP_ATTRIB, attrs, (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(utimensat)

SEC("tracepoint/syscalls/sys_enter_futimesat")
int tp_enter_futimesat(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_ATIME | FIM_ATTR_MTIME, (int)ctx->args[0], ctx->args[1]);
}
TP_EXIT(futimesat)

SEC("tracepoint/syscalls/sys_enter_utimes")
int tp_enter_utimes(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_ATIME | FIM_ATTR_MTIME, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(utimes)

SEC("tracepoint/syscalls/sys_enter_utime")
int tp_enter_utime(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_ATIME | FIM_ATTR_MTIME, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(utime)

/* attributes: size */
SEC("tracepoint/syscalls/sys_enter_truncate")
int tp_enter_truncate(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_SIZE | FIM_ATTR_MTIME, AT_FDCWD, ctx->args[0]);
}
TP_EXIT(truncate)

SEC("tracepoint/syscalls/sys_enter_ftruncate")
int tp_enter_ftruncate(struct syscall_enter_ctx *ctx)
{
	return remember(FIM_OP_ATTRIB, FIM_ATTR_SIZE | FIM_ATTR_MTIME, (int)ctx->args[0], 0);
}
TP_EXIT(ftruncate)

/* open/openat/openat2/creat return the new fd: its file says whether the open created it. */
static __always_inline int on_open_return(long fd)
{
	struct file *f = fd < 0 ? 0 : fd_file(fd);
	return on_file(f, BPF_CORE_READ(f, f_path.dentry), FIM_OP_CREATE, FMODE_CREATED, FIM_SRC_TRACEPOINT);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tp_exit_openat(struct syscall_exit_ctx *ctx)
{
	return on_open_return(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int tp_exit_openat2(struct syscall_exit_ctx *ctx)
{
	return on_open_return(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_open")
int tp_exit_open(struct syscall_exit_ctx *ctx)
{
	return on_open_return(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int tp_exit_creat(struct syscall_exit_ctx *ctx)
{
	return on_open_return(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct syscall_enter_ctx *ctx)
{
	return on_close(fd_file((long)ctx->args[0]), FIM_SRC_TRACEPOINT);
}

/* writes by fd, at entry (on_write bounds the cost per file); io_uring and splice are not seen here */
#define TP_WRITE(sys)                                        \
	SEC("tracepoint/syscalls/sys_enter_" #sys)           \
	int tp_enter_##sys(struct syscall_enter_ctx *ctx)    \
	{                                                    \
		return on_write(fd_file((long)ctx->args[0]), FIM_SRC_TRACEPOINT); \
	}

TP_WRITE(write)
TP_WRITE(pwrite64)
TP_WRITE(writev)
TP_WRITE(pwritev)
TP_WRITE(pwritev2)
