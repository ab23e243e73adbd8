// Ring-buffer test producer: one fixed-size record per unlinkat(2) entry made by the target process
// with a magic (invalid) flag, so only the test's own calls count and the kernel refuses them at once
// (EINVAL, no file touched). Records carry a per-CPU sequence number; reserve failures are counted.
// Wakeups are batched as capture-facts.md says: none until cfg.wakeup_bytes are pending.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define UNLINKAT_MAGIC_FLAG 0x5eb1

/* Set before load through bpf_map__initial_value (the .rodata image): its only variable, at 0. */
const volatile struct {
	__u32 target_tgid;
	__u32 pad;
	__u64 wakeup_bytes;
} cfg = {};

struct record {
	__u64 seq; /* per CPU, from 0 */
	__u32 cpu;
	__u32 tgid;
	__u8 filler[32]; /* a 48-byte payload, 56 with the ring's header */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} next_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* /sys/kernel/tracing/events/syscalls/sys_enter_unlinkat/format */
struct sys_enter_unlinkat_ctx {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 dfd;
	__u64 pathname;
	__u64 flag;
};

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int on_unlinkat(struct sys_enter_unlinkat_ctx *ctx)
{
	__u32 zero = 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid != cfg.target_tgid || ctx->flag != UNLINKAT_MAGIC_FLAG)
		return 0;
	/* Per CPU: no atomics needed, and the order a CPU produces in is the order it must arrive in. */
	__u64 *seq = bpf_map_lookup_elem(&next_seq, &zero);
	if (!seq)
		return 0;
	__u64 mine = (*seq)++;

	struct record *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__u64 *dropped = bpf_map_lookup_elem(&drops, &zero);
		if (dropped)
			(*dropped)++;
		return 0;
	}
	r->seq = mine;
	r->cpu = bpf_get_smp_processor_id();
	r->tgid = tgid;
	__builtin_memset(r->filler, 0xab, sizeof(r->filler));
	__u64 pending = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(r, pending >= cfg.wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

/* Not loaded unless a test asks ("?" = autoload off): the missing NULL check at the end makes the
 * verifier refuse it, after a long log (> 64 KiB: one line per instruction), for the tests of how
 * a load failure is reported. (The key is not a constant: with a constant in-bounds key, recent
 * verifiers know an array lookup cannot fail.) */
SEC("?tracepoint/syscalls/sys_enter_unlinkat")
int rejected_by_verifier(void *ctx)
{
	__u32 key = 0;

#pragma unroll
	for (int i = 0; i < 1000; i++)
		key += bpf_get_prandom_u32() & 1;
	__u64 *dropped = bpf_map_lookup_elem(&drops, &key);

	return *dropped;
}

char LICENSE[] SEC("license") = "GPL";
