/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the FIM BPF programs and (by layout) src/capture/event.ts: the event record, and the
 * helpers every hook uses (who-data, path walks, submission).
 */
#ifndef __FIM_H__
#define __FIM_H__

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define FIM_COMM_LEN 16
#define FIM_NAME_MAX 256        /* NAME_MAX + NUL: one path component */
#define FIM_USER_PATH_MAX 4096  /* PATH_MAX: a path string a syscall was given */
#define FIM_DATA_SIZE 8192      /* power of two: data offsets are masked with FIM_DATA_SIZE - 1 */
#define FIM_DATA_CAP (FIM_DATA_SIZE + FIM_USER_PATH_MAX) /* room for the last write past the mask */
#define FIM_MAX_DEPTH 48        /* path components walked per path (mount crossings included) */

#define AT_FDCWD -100
#define FMODE_WRITE 0x2
#define FMODE_CREATED 0x100000  /* set by open when it created the file: Linux 4.19+ */

enum fim_op {
	FIM_OP_DELETE = 1,
	FIM_OP_CREATE = 2,
	FIM_OP_MODIFY = 3, /* a file opened for writing was closed */
	FIM_OP_RENAME = 4,
	FIM_OP_ATTRIB = 5,  /* mode, owner, times or size set: attrs says which */
	FIM_OP_LINK = 6,    /* a hard link made: the path is the new name */
	FIM_OP_SYMLINK = 7,
	FIM_OP_MKDIR = 8,
	FIM_OP_RMDIR = 9,
	FIM_OP_WRITE = 10,  /* written to: at most one event per file per write_interval_ns */
};

/* struct iattr's ia_valid bits (include/linux/fs.h), which the attrs field carries */
#define FIM_ATTR_MODE 0x1
#define FIM_ATTR_UID 0x2
#define FIM_ATTR_GID 0x4
#define FIM_ATTR_SIZE 0x8
#define FIM_ATTR_ATIME 0x10
#define FIM_ATTR_MTIME 0x20
#define FIM_ATTR_REPORTED 0x3f
#define ATTR_KILL_SUID 0x800 /* set by a write to a set-uid file: the mode changes */
#define ATTR_KILL_SGID 0x1000

enum fim_source {
	FIM_SRC_KPROBE = 1,
	FIM_SRC_FENTRY = 2,
	FIM_SRC_TRACEPOINT = 3,
};

enum fim_path_kind {
	FIM_PATH_NONE = 0,
	/* components leaf first, up to (not including) the anchor `anchor` */
	FIM_PATH_ANCHORED = 1,
	/* components leaf first, up to the root, crossing mount points */
	FIM_PATH_ABSOLUTE = 2,
	/* one string, as the process passed it to the syscall */
	FIM_PATH_STRING = 3,
};

#define FIM_PATH_TRUNCATED 1

/* The process paths (cwd, parent cwd, exe, parent exe) are those of this thread's walk who_gen, sent earlier. */
#define FIM_EVENT_WHO_REUSED 1
/* Process paths are walked again at least this often: a directory renamed above a working directory shows within it. */
#define FIM_WHO_REUSE_NS 1000000000ull

struct fim_path_ref {
	__u32 anchor;
	__u16 offset; /* in data[] */
	__u16 len;    /* bytes, NULs included */
	__u16 count;  /* components */
	__u8 kind;
	__u8 flags;
};

enum fim_ref {
	FIM_REF_PATH = 0,      /* the file (kprobe/fentry), or the directory its name is relative to (tracepoint) */
	FIM_REF_PATH_NAME = 1, /* tracepoint: the name as passed */
	FIM_REF_PATH2 = 2,     /* rename: the new name, same two-part scheme */
	FIM_REF_PATH2_NAME = 3,
	FIM_REF_CWD = 4,
	FIM_REF_PARENT_CWD = 5,
	FIM_REF_EXE = 6,        /* the executable of the task (mm->exe_file), absolute */
	FIM_REF_PARENT_EXE = 7,
	FIM_REF_COUNT = 8,
};

struct fim_event {
	__u64 ktime_ns;
	__u64 ino;  /* the file's inode, 0 when unknown (tracepoint deletions) */
	__u32 dev;  /* kernel dev_t of the file's filesystem: major << 20 | minor */
	__u32 op;
	__u32 source;
	__u32 tgid; /* process id */
	__u32 pid;  /* thread id */
	__u32 ppid;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 loginuid; /* audit login uid; 4294967295 when unset or without CONFIG_AUDIT */
	char comm[FIM_COMM_LEN];
	char pcomm[FIM_COMM_LEN];
	struct fim_path_ref refs[FIM_REF_COUNT];
	__u32 data_len;
	__u32 attrs;    /* FIM_OP_ATTRIB: the FIM_ATTR_* bits set */
	__u32 who_gen;  /* which walk of this thread's process paths the event's cwd/exe are */
	__u32 flags;    /* FIM_EVENT_* */
	/* followed by data_len bytes of path data */
};

/* src/capture/event.ts decodes this layout: keep them in step. */
_Static_assert(sizeof(struct fim_path_ref) == 12, "fim_path_ref layout");
_Static_assert(sizeof(struct fim_event) == 200, "fim_event layout");

struct fim_scratch {
	struct fim_event ev;
	char data[FIM_DATA_CAP];
};

struct anchor_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

/* Set by the loader before load (const volatile: the verifier prunes the branches not taken). */
const volatile __u32 unlink_dentry_arg = 3; /* 2 before Linux 5.12, 3 since */
const volatile __u32 rename_uses_renamedata = 1; /* Linux 5.12+: vfs_rename(struct renamedata *) */
const volatile __u32 wakeup_bytes = 256 * 1024; /* wake the reader only past this much pending data */
/* The dentry argument (1-based) of the other VFS functions: each gained an idmap first in 5.12. */
const volatile __u32 setattr_dentry_arg = 2;  /* notify_change: 1 before 5.12 */
const volatile __u32 link_dentry_arg = 4;     /* vfs_link's new dentry: 3 before 5.12 */
const volatile __u32 symlink_dentry_arg = 3;  /* vfs_symlink: 2 before 5.12 */
const volatile __u32 mkdir_dentry_arg = 3;    /* vfs_mkdir: 2 before 5.12 */
const volatile __u32 rmdir_dentry_arg = 2;    /* security_inode_rmdir(dir, dentry): always 2 */
const volatile __u32 agent_tgid = 0;          /* the agent's own writes are never reported */
const volatile __u64 write_interval_ns = 500000000; /* one write event per file per interval */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

/* Events lost because the ring buffer was full, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Monitored directories and the roots of filesystems mounted inside them, by (dev, inode). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct anchor_key);
	__type(value, __u32);
} anchors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fim_scratch);
} scratch SEC(".maps");

static __always_inline struct fim_scratch *fim_begin(__u32 op, __u32 source)
{
	__u32 zero = 0;
	struct fim_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct fim_event *e = &s->ev;
	__builtin_memset(e, 0, sizeof(*e));
	e->ktime_ns = bpf_ktime_get_ns();
	e->op = op;
	e->source = source;
	return s;
}

/* who-data of the current task */
static __always_inline void fim_fill_task(struct fim_event *e)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);
	__u64 id = bpf_get_current_pid_tgid();

	e->tgid = id >> 32;
	e->pid = (__u32)id;
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->uid = BPF_CORE_READ(t, cred, uid.val);
	e->euid = BPF_CORE_READ(t, cred, euid.val);
	e->gid = BPF_CORE_READ(t, cred, gid.val);
	e->loginuid = 0xffffffff;
	if (bpf_core_field_exists(t->loginuid)) /* CONFIG_AUDIT */
		e->loginuid = BPF_CORE_READ(t, loginuid.val);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	BPF_CORE_READ_STR_INTO(&e->pcomm, parent, comm);
}

static __always_inline void fim_fill_inode(struct fim_event *e, struct dentry *d)
{
	e->ino = BPF_CORE_READ(d, d_inode, i_ino);
	e->dev = BPF_CORE_READ(d, d_sb, s_dev);
}

/* Appends one component name to data[]; false when there is no room (the path is truncated). */
static __always_inline bool fim_put_name(struct fim_scratch *s, const unsigned char *name)
{
	__u32 off = s->ev.data_len;
	if (off >= FIM_DATA_SIZE)
		return false;
	long n = bpf_probe_read_kernel_str(&s->data[off & (FIM_DATA_SIZE - 1)], FIM_NAME_MAX, name);
	if (n <= 0)
		return false;
	s->ev.data_len = off + n;
	return true;
}

/*
 * The in-kernel filter and path builder for hooks that see only a dentry (vfs_unlink,
 * vfs_rename, vfs_open, filp_close): walk up d_parent, and stop at the first (dev, inode)
 * registered in `anchors`. User space registers each monitored directory and the root of every
 * filesystem mounted inside a monitored tree, each with its absolute path. A dentry alone does
 * not say where its filesystem is mounted (that needs the vfsmount), so a walk that reaches a
 * filesystem root without meeting an anchor is outside every monitored tree: dropped here, at
 * the cost of a few map lookups. A file deleted on a second filesystem mounted at /watched/mnt
 * meets that filesystem's root anchor and is reported as /watched/mnt/..., never relative to
 * its own filesystem's root (Wazuh's walk reads sb->s_fs_info as a mount and gets this wrong).
 */
static __always_inline int fim_walk_to_anchor(struct fim_scratch *s, int ref, struct dentry *d)
{
	struct fim_path_ref *r = &s->ev.refs[ref % FIM_REF_COUNT];
	r->kind = FIM_PATH_ANCHORED;
	r->offset = s->ev.data_len;
	for (int i = 0; i < FIM_MAX_DEPTH; i++) {
		struct anchor_key k = {
			.dev = BPF_CORE_READ(d, d_sb, s_dev),
			.ino = BPF_CORE_READ(d, d_inode, i_ino),
		};
		__u32 *id = bpf_map_lookup_elem(&anchors, &k);
		if (id) {
			r->anchor = *id;
			r->len = s->ev.data_len - r->offset;
			return 1;
		}
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (!parent || parent == d || !fim_put_name(s, BPF_CORE_READ(d, d_name.name)))
			break;
		r->count++;
		d = parent;
	}
	/* not under an anchor (or deeper than FIM_MAX_DEPTH): give the bytes back */
	s->ev.data_len = r->offset;
	r->kind = FIM_PATH_NONE;
	r->count = 0;
	return 0;
}

/*
 * The absolute path of (dentry, vfsmount), crossing mount points like d_path(): at a mount's
 * root, continue from its mountpoint in the parent mount. Used for the working directory and,
 * in tracepoint mode, for the directory a syscall's relative name starts from.
 */
static __always_inline void fim_walk_absolute(struct fim_scratch *s, int ref, struct dentry *d, struct vfsmount *vm)
{
	struct fim_path_ref *r = &s->ev.refs[ref % FIM_REF_COUNT];
	struct mount *m = (void *)vm - bpf_core_field_offset(struct mount, mnt);
	r->kind = FIM_PATH_ABSOLUTE;
	r->offset = s->ev.data_len;
	for (int i = 0; i < FIM_MAX_DEPTH; i++) {
		if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
			struct mount *up = BPF_CORE_READ(m, mnt_parent);
			if (!up || up == m)
				break;
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = up;
			continue;
		}
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (!parent || parent == d)
			break;
		if (!fim_put_name(s, BPF_CORE_READ(d, d_name.name))) {
			r->flags |= FIM_PATH_TRUNCATED;
			break;
		}
		r->count++;
		d = parent;
	}
	r->len = s->ev.data_len - r->offset;
}

/* What the process paths were walked from: while none changes, the walk would give the same strings. */
struct who_seen {
	__u64 cwd, cwd_mnt, parent_cwd, parent_cwd_mnt, exe, parent_exe;
	__u64 walked_ns;
	__u32 ppid;
	__u32 gen;
};

/* The last walk of each thread (threads, not processes: one thread's events reach the ring in order). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct who_seen);
} who_seen SEC(".maps");

static __always_inline __u64 fim_exe_of(struct task_struct *t)
{
	return (__u64)BPF_CORE_READ(t, mm, exe_file);
}

/*
 * The working directories and executables of the task and of its parent (who-data cwd,
 * parent_cwd, process_name, parent_name): read here because a short-lived process is gone from
 * /proc by the time user space looks. Four walks cost more than the rest of an event, and a
 * process deleting a tree sends thousands of events from one place: when the thread's last walk
 * started from the same dentries, mounts, executables and parent, less than FIM_WHO_REUSE_NS
 * ago, the event names that walk instead (user space keeps its strings per thread).
 */
static __always_inline void fim_walk_process(struct fim_scratch *s)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct fs_struct *pfs = BPF_CORE_READ(parent, fs);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct who_seen now = {
		.cwd = (__u64)BPF_CORE_READ(fs, pwd.dentry),
		.cwd_mnt = (__u64)BPF_CORE_READ(fs, pwd.mnt),
		.parent_cwd = pfs ? (__u64)BPF_CORE_READ(pfs, pwd.dentry) : 0,
		.parent_cwd_mnt = pfs ? (__u64)BPF_CORE_READ(pfs, pwd.mnt) : 0,
		.exe = fim_exe_of(t),
		.parent_exe = fim_exe_of(parent),
		.walked_ns = s->ev.ktime_ns,
		.ppid = s->ev.ppid,
	};
	struct who_seen *last = bpf_map_lookup_elem(&who_seen, &tid);
	if (last && last->cwd == now.cwd && last->cwd_mnt == now.cwd_mnt && last->parent_cwd == now.parent_cwd &&
	    last->parent_cwd_mnt == now.parent_cwd_mnt && last->exe == now.exe && last->parent_exe == now.parent_exe &&
	    last->ppid == now.ppid && now.walked_ns - last->walked_ns < FIM_WHO_REUSE_NS) {
		s->ev.who_gen = last->gen;
		s->ev.flags |= FIM_EVENT_WHO_REUSED;
		return;
	}
	fim_walk_absolute(s, FIM_REF_CWD, (struct dentry *)now.cwd, (struct vfsmount *)now.cwd_mnt);
	if (pfs)
		fim_walk_absolute(s, FIM_REF_PARENT_CWD, (struct dentry *)now.parent_cwd, (struct vfsmount *)now.parent_cwd_mnt);
	/* plain locals: BPF_CORE_READ must not see who_seen, which is no kernel type */
	struct file *exe = (struct file *)now.exe, *parent_exe = (struct file *)now.parent_exe;
	if (exe)
		fim_walk_absolute(s, FIM_REF_EXE, BPF_CORE_READ(exe, f_path.dentry), BPF_CORE_READ(exe, f_path.mnt));
	if (parent_exe)
		fim_walk_absolute(s, FIM_REF_PARENT_EXE, BPF_CORE_READ(parent_exe, f_path.dentry), BPF_CORE_READ(parent_exe, f_path.mnt));
	now.gen = (last ? last->gen : 0) + 1;
	s->ev.who_gen = now.gen;
	bpf_map_update_elem(&who_seen, &tid, &now, BPF_ANY);
}

/* The string a process passed to a syscall (tracepoint mode). */
static __always_inline void fim_put_user_string(struct fim_scratch *s, int ref, const char *name)
{
	struct fim_path_ref *r = &s->ev.refs[ref % FIM_REF_COUNT];
	__u32 off = s->ev.data_len;
	r->kind = FIM_PATH_STRING;
	r->offset = off;
	if (off >= FIM_DATA_SIZE) {
		r->flags |= FIM_PATH_TRUNCATED;
		return;
	}
	long n = bpf_probe_read_user_str(&s->data[off & (FIM_DATA_SIZE - 1)], FIM_USER_PATH_MAX, name);
	if (n <= 0) {
		r->flags |= FIM_PATH_TRUNCATED;
		return;
	}
	s->ev.data_len = off + n;
	r->count = 1;
	r->len = n;
}

static __always_inline void fim_submit(struct fim_scratch *s)
{
	__u32 len = s->ev.data_len;
	if (len > FIM_DATA_CAP)
		len = FIM_DATA_CAP;
	/*
	 * Wake the reader only when enough is pending: a wakeup per event costs an interrupt (and a
	 * VM exit under virtualisation) and halves the unlink rate; the reader polls with a short
	 * timeout, so quiet periods still see each event within milliseconds.
	 */
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, s, sizeof(struct fim_event) + len, flags)) {
		/* user space never got this walk: the thread's next event walks again */
		if (!(s->ev.flags & FIM_EVENT_WHO_REUSED)) {
			__u32 tid = (__u32)bpf_get_current_pid_tgid();
			bpf_map_delete_elem(&who_seen, &tid);
		}
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&drops, &zero);
		if (n)
			*n += 1;
	}
}

#endif /* __FIM_H__ */
