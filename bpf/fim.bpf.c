// SPDX-License-Identifier: GPL-2.0
/*
 * File-integrity capture: one hook per kernel function, in three attach flavours.
 *
 *   kprobe/...           primary: vfs_unlink, vfs_rename, vfs_open (created files),
 *                        filp_close (files opened for writing, closed) — sees every path into
 *                        the VFS, io_uring included
 *   fentry/...           the same functions through BTF trampolines, for kernels without kprobes
 *   tracepoint/syscalls  last resort when neither loads: the syscalls that unlink, rename,
 *                        create and close; misses io_uring and resolves deletions in user space
 *
 * The loader enables one flavour (bpf_program__set_autoload) and sets the const volatile
 * argument layout from the running kernel's BTF before load, so one object serves 5.8 - 6.x.
 */
#include "fim.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int on_unlink(struct dentry *d, __u32 source)
{
	struct fim_scratch *s = fim_begin(FIM_OP_DELETE, source);
	if (!s || !fim_walk_to_anchor(s, FIM_REF_PATH, d))
		return 0;
	fim_fill_inode(&s->ev, d);
	fim_fill_task(&s->ev);
	fim_walk_cwd(s);
	fim_submit(s);
	return 0;
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
	fim_fill_task(&s->ev);
	fim_walk_cwd(s);
	fim_submit(s);
	return 0;
}

static __always_inline int on_file(struct file *f, struct dentry *d, __u32 op, __u32 mode_bit, __u32 source)
{
	if (!f || !(BPF_CORE_READ(f, f_mode) & mode_bit))
		return 0;
	struct fim_scratch *s = fim_begin(op, source);
	if (!s || !fim_walk_to_anchor(s, FIM_REF_PATH, d))
		return 0;
	fim_fill_inode(&s->ev, d);
	fim_fill_task(&s->ev);
	fim_walk_cwd(s);
	fim_submit(s);
	return 0;
}

/*
 * vfs_open(path, file) runs after the open created the file, which it records as FMODE_CREATED,
 * but before it sets file->f_path = *path: at entry the dentry is only in the path argument.
 */
static __always_inline int on_open(const struct path *p, struct file *f, __u32 source)
{
	return on_file(f, BPF_CORE_READ(p, dentry), FIM_OP_CREATE, FMODE_CREATED, source);
}

static __always_inline int on_close(struct file *f, __u32 source)
{
	return on_file(f, BPF_CORE_READ(f, f_path.dentry), FIM_OP_MODIFY, FMODE_WRITE, source);
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

/* ---- syscall tracepoints ---------------------------------------------------------------- */

/* Entry arguments kept until the syscall returns: only successful calls are reported. */
struct pending_call {
	__s64 dfd;
	__u64 name;
	__s64 dfd2;
	__u64 name2;
	__u64 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pending_call);
} pending SEC(".maps");

#define AT_REMOVEDIR 0x200

static __always_inline int remember(__s64 dfd, __u64 name, __s64 dfd2, __u64 name2, __u64 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_call c = { .dfd = dfd, .name = name, .dfd2 = dfd2, .name2 = name2, .flags = flags };
	bpf_map_update_elem(&pending, &tid, &c, BPF_ANY);
	return 0;
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

/* The tracepoint flavour cannot resolve names to dentries: user space filters these events. */
static __always_inline int report_call(long ret, __u32 op)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_call *c = bpf_map_lookup_elem(&pending, &tid);
	if (!c)
		return 0;
	struct pending_call call = *c;
	bpf_map_delete_elem(&pending, &tid);
	if (ret != 0 || (op == FIM_OP_DELETE && (call.flags & AT_REMOVEDIR)))
		return 0;
	struct fim_scratch *s = fim_begin(op, FIM_SRC_TRACEPOINT);
	if (!s)
		return 0;
	put_syscall_path(s, FIM_REF_PATH, FIM_REF_PATH_NAME, call.dfd, (const char *)call.name);
	if (op == FIM_OP_RENAME)
		put_syscall_path(s, FIM_REF_PATH2, FIM_REF_PATH2_NAME, call.dfd2, (const char *)call.name2);
	fim_fill_task(&s->ev);
	fim_walk_cwd(s);
	fim_submit(s);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int tp_enter_unlinkat(struct syscall_enter_ctx *ctx)
{
	return remember((int)ctx->args[0], ctx->args[1], 0, 0, ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int tp_exit_unlinkat(struct syscall_exit_ctx *ctx)
{
	return report_call(ctx->ret, FIM_OP_DELETE);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int tp_enter_unlink(struct syscall_enter_ctx *ctx)
{
	return remember(AT_FDCWD, ctx->args[0], 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int tp_exit_unlink(struct syscall_exit_ctx *ctx)
{
	return report_call(ctx->ret, FIM_OP_DELETE);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int tp_enter_renameat2(struct syscall_enter_ctx *ctx)
{
	return remember((int)ctx->args[0], ctx->args[1], (int)ctx->args[2], ctx->args[3], ctx->args[4]);
}

SEC("tracepoint/syscalls/sys_exit_renameat2")
int tp_exit_renameat2(struct syscall_exit_ctx *ctx)
{
	return report_call(ctx->ret, FIM_OP_RENAME);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int tp_enter_renameat(struct syscall_enter_ctx *ctx)
{
	return remember((int)ctx->args[0], ctx->args[1], (int)ctx->args[2], ctx->args[3], 0);
}

SEC("tracepoint/syscalls/sys_exit_renameat")
int tp_exit_renameat(struct syscall_exit_ctx *ctx)
{
	return report_call(ctx->ret, FIM_OP_RENAME);
}

SEC("tracepoint/syscalls/sys_enter_rename")
int tp_enter_rename(struct syscall_enter_ctx *ctx)
{
	return remember(AT_FDCWD, ctx->args[0], AT_FDCWD, ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_exit_rename")
int tp_exit_rename(struct syscall_exit_ctx *ctx)
{
	return report_call(ctx->ret, FIM_OP_RENAME);
}

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
