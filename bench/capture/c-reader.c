// The baseline consumer: a minimal C libbpf reader of the same fim.bpf.o, in one attach mode,
// counting deletion events from processes named COMM until SIGINT; prints
// {"events":E,"drops":D}. Usage: c-reader OBJECT MODE-PREFIX COMM DIR [name=value ...]
// Loads every program whose name begins with MODE-PREFIX, but those whose attach point this
// kernel lacks (a tracepoint absent from tracefs, a kernel function absent from its BTF), as the
// agent's loader leaves out the optional tracepoints; name=value sets a .rodata variable of any
// integer size, found by name in the object's BTF like the agent's loader does.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static volatile sig_atomic_t stop;
static long events;
static const char *comm;

static void on_signal(int s) { (void)s; stop = 1; }

/* struct fim_event (bpf/fim.h): op at 20, comm at 56 */
static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size >= 168 && *(unsigned *)((char *)data + 20) == 1 && strncmp((char *)data + 56, comm, 16) == 0)
		events++;
	return 0;
}

static int set_rodata(struct bpf_object *obj, const char *name, unsigned long long value)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!map || id < 0)
		return -1;
	const struct btf_type *sec = btf__type_by_id(btf, id);
	const struct btf_var_secinfo *v = btf_var_secinfos(sec);
	size_t size;
	char *image = (char *)bpf_map__initial_value(map, &size);
	for (int i = 0; i < btf_vlen(sec); i++, v++) {
		if (strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off), name) == 0) {
			if (v->size > sizeof(value))
				return -1;
			memcpy(image + v->offset, &value, v->size); /* little-endian: the low v->size bytes */
			return 0;
		}
	}
	return -1;
}

/* Whether the running kernel has what the program attaches to (section "kind/target"). */
static int attachable(const struct bpf_program *p, const struct btf *vmlinux)
{
	const char *sec = bpf_program__section_name(p);
	char path[512];
	if (strncmp(sec, "tracepoint/", 11) == 0) {
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s", sec + 11);
		return access(path, F_OK) == 0 || access("/sys/kernel/tracing/events", F_OK) != 0; /* no tracefs: let attach say so */
	}
	const char *fn = strchr(sec, '/');
	return !fn || !vmlinux || btf__find_by_name_kind(vmlinux, fn + 1, BTF_KIND_FUNC) >= 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: c-reader OBJECT MODE-PREFIX COMM DIR [name=value ...]\n");
		return 2;
	}
	comm = argv[3];
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return 1;
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		int wanted = strncmp(bpf_program__name(p), argv[2], strlen(argv[2])) == 0;
		if (wanted && !attachable(p, vmlinux)) {
			fprintf(stderr, "c-reader: %s skipped: this kernel has no %s\n", bpf_program__name(p), bpf_program__section_name(p));
			wanted = 0;
		}
		bpf_program__set_autoload(p, wanted);
	}
	btf__free(vmlinux);
	for (int i = 5; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (eq)
			*eq = 0;
		if (!eq || set_rodata(obj, argv[i], strtoull(eq + 1, NULL, 0))) {
			fprintf(stderr, "c-reader: no .rodata variable for '%s'\n", argv[i]);
			return 1;
		}
	}
	if (bpf_object__load(obj))
		return 1;
	bpf_object__for_each_program(p, obj)
		if (bpf_program__autoload(p) && !bpf_program__attach(p))
			return 1;
	struct stat st;
	stat(argv[4], &st);
	struct { unsigned dev, pad; unsigned long long ino; } key = { (major(st.st_dev) << 20) | minor(st.st_dev), 0, st.st_ino };
	unsigned id = 1;
	bpf_map__update_elem(bpf_object__find_map_by_name(obj, "anchors"), &key, sizeof(key), &id, sizeof(id), 0);
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "events")), on_event, NULL, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		ring_buffer__poll(rb, 5);
		ring_buffer__consume(rb); /* records submitted without a wakeup never make epoll fire */
	}
	ring_buffer__consume(rb);
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long drops[ncpu], total = 0;
	unsigned zero = 0;
	bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "drops")), &zero, drops);
	for (int i = 0; i < ncpu; i++)
		total += drops[i];
	printf("{\"events\":%ld,\"drops\":%llu}\n", events, total);
	return 0;
}
