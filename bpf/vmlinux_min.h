/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types the FIM programs read, declared by hand for CO-RE instead of a
 * generated vmlinux.h: every struct carries preserve_access_index, so field offsets are
 * relocated by libbpf against the running kernel's BTF at load time and the declaration
 * order/layout here does not matter, only field names and kinds. Builds on any host.
 */
#ifndef __VMLINUX_MIN_H__
#define __VMLINUX_MIN_H__

/* bpf_tracing.h reads this to use the kernel's pt_regs field names (di, si, dx ...). */
#define __VMLINUX_H__

#include <linux/types.h>
#include <linux/bpf.h> /* map types, BPF_RB_* flags: user-space API, stable */

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef _Bool bool;
typedef __u32 dev_t;
typedef __u16 umode_t;
typedef unsigned int fmode_t;

enum { false = 0, true = 1 };

/*
 * x86_64 (the kernels this agent targets); bpf_tracing.h's PT_REGS_PARMn read these. No CO-RE
 * here: the layout is the architecture's ABI, and kprobe context reads must be plain
 * constant-offset loads for the verifier.
 */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

typedef struct {
	__u32 val;
} kuid_t;

typedef struct {
	__u32 val;
} kgid_t;

struct qstr {
	__u32 len; /* inside an anonymous union/struct in the kernel; libbpf matches through it */
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct super_block {
	dev_t s_dev;
} __attribute__((preserve_access_index));

struct inode {
	umode_t i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	struct super_block *d_sb;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
} __attribute__((preserve_access_index));

/* fs/mount.h: the vfsmount a path points at is embedded in a struct mount. */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
	fmode_t f_mode;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
	struct path pwd;
} __attribute__((preserve_access_index));

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
} __attribute__((preserve_access_index));

/* Only exe_file: the executable the process runs (NULL for kernel threads, which have no mm). */
struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));

/* What notify_change() is asked to set: ATTR_* bits (include/linux/fs.h, stable since 2.6). */
struct iattr {
	unsigned int ia_valid;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	const struct cred *cred;
	char comm[16];
	struct fs_struct *fs;
	struct files_struct *files;
	struct mm_struct *mm;
	kuid_t loginuid; /* CONFIG_AUDIT only: read behind bpf_core_field_exists() */
} __attribute__((preserve_access_index));

/* Linux 5.12+: vfs_rename() takes this instead of six arguments. */
struct renamedata {
	struct inode *old_dir;
	struct dentry *old_dentry;
	struct inode *new_dir;
	struct dentry *new_dentry;
} __attribute__((preserve_access_index));

/* Syscall tracepoint contexts (format stable since the syscall tracepoints exist). */
struct syscall_enter_ctx {
	unsigned long long common; /* common_type, flags, preempt_count, pid */
	long id;
	unsigned long args[6];
};

struct syscall_exit_ctx {
	unsigned long long common;
	long id;
	long ret;
};

#endif /* __VMLINUX_MIN_H__ */
