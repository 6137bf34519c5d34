/* learn.c: answering and counting the syscalls of a program run by
 * `warmbox learn`, and printing them as a ready policy. */
#include "policy/learn.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "policy/policy.h"

/* What no shipped policy allows, learned or not: tracing and reaching into
 * other processes, mounts and namespaces, kernel modules and kexec, keys,
 * BPF and perf, io_uring (its own syscall-free path around any filter),
 * userfaultfd, host-wide settings, and sockets (the job has no network). */
static const char *const dangerous[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
	"fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr",
	"open_by_handle_at", "name_to_handle_at",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"sethostname", "setdomainname", "iopl", "ioperm", "personality",
	"fanotify_init", "lookup_dcookie", "uselib", "nfsservctl", "socket",
};

int wb_learn_is_dangerous(const char *name)
{
	for (size_t i = 0; i < sizeof(dangerous) / sizeof(dangerous[0]); i++)
		if (strcmp(dangerous[i], name) == 0)
			return 1;
	return 0;
}

static bool dangerous_nr(int nr)
{
	static bool table[WB_LEARN_NR], ready;

	if (!ready) {
		for (size_t i = 0; i < sizeof(dangerous) / sizeof(dangerous[0]); i++) {
			int n = seccomp_syscall_resolve_name(dangerous[i]);

			if (n >= 0 && n < WB_LEARN_NR)
				table[n] = true;
		}
		ready = true;
	}
	return nr >= 0 && nr < WB_LEARN_NR && table[nr];
}

void wb_learn_answer(int listener, const struct seccomp_notif *req, struct wb_learn *l)
{
	struct seccomp_notif_resp resp = {.id = req->id};
	int nr = req->data.nr;

	if (nr == SCMP_SYS(clone3)) {
		/* As every compiled policy answers it: glibc falls back to
		 * clone, whose flags a filter can see. */
		resp.error = -ENOSYS;
	} else if (nr == SCMP_SYS(socket)) {
		resp.error = -EACCES;
	} else if (dangerous_nr(nr) || (nr == SCMP_SYS(clone) && (req->data.args[0] & WB_POLICY_NS_FLAGS))) {
		resp.error = -EPERM;
	} else {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	if (nr >= 0 && nr < WB_LEARN_NR) {
		bool refused = resp.error != 0 && nr != SCMP_SYS(clone3);

		if (refused)
			l->refused[nr]++;
		else
			l->used[nr]++;
		if (nr == SCMP_SYS(socket) && req->data.args[0] != AF_UNIX)
			l->socket_not_unix++;
	}
	/* The caller may be gone (killed, or its thread exited): ENOENT. */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

struct named_count {
	char *name;
	uint32_t count;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named_count *)a)->name, ((const struct named_count *)b)->name);
}

static int by_count(const void *a, const void *b)
{
	const struct named_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Names of the nonzero counts; the filter lets a few through unnotified
 * (policy.c: execve, and exit for the handoff), and every policy needs them. */
static int collect(const uint32_t *counts, bool with_fixed, struct named_count **out, size_t *n)
{
	static const char *const fixed[] = {"execve", "exit", "exit_group"};
	struct named_count *v = calloc(WB_LEARN_NR + 3, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (int nr = 0; nr < WB_LEARN_NR; nr++) {
		if (!counts[nr])
			continue;
		v[k].name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (!v[k].name)
			continue;
		v[k++].count = counts[nr];
	}
	for (size_t i = 0; with_fixed && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			seen |= strcmp(v[j].name, fixed[i]) == 0;
		if (!seen && (v[k].name = strdup(fixed[i])))
			k++;
	}
	*out = v;
	*n = k;
	return 0;
}

static void free_named(struct named_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static void print_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The errno groups: each refused syscall answered as learning answered it
 * (wb_learn_answer); clone stays allowed, its namespace flags are checked
 * by every compiled policy anyway. */
static void print_refusals(FILE *f, const struct wb_learn *l, const struct named_count *refused, size_t n)
{
	bool socket = false, any_eperm = false;

	for (size_t i = 0; i < n; i++) {
		socket |= strcmp(refused[i].name, "socket") == 0;
		any_eperm |= strcmp(refused[i].name, "socket") != 0 && strcmp(refused[i].name, "clone") != 0;
	}
	if (!socket && !any_eperm)
		return;
	fputs(",\n  \"errno\": {", f);
	if (socket)
		fprintf(f, "\n    \"EACCES\": [\"%s\"]%s", l->socket_not_unix ? "socket" : "socket if arg0 == AF_UNIX",
			any_eperm ? "," : "");
	if (any_eperm) {
		bool first = true;

		fputs("\n    \"EPERM\": [", f);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(refused[i].name, "socket") == 0 || strcmp(refused[i].name, "clone") == 0)
				continue;
			fputs(first ? "" : ", ", f);
			print_json_string(f, refused[i].name);
			first = false;
		}
		fputs("]", f);
	}
	fputs("\n  }", f);
}

int wb_learn_print(const struct wb_learn *l, const char *description, FILE *f, FILE *counts_f)
{
	struct named_count *used, *refused;
	size_t nused, nrefused;

	if (collect(l->used, true, &used, &nused) < 0)
		return -ENOMEM;
	if (collect(l->refused, false, &refused, &nrefused) < 0) {
		free_named(used, nused);
		return -ENOMEM;
	}
	qsort(used, nused, sizeof(*used), by_name);
	qsort(refused, nrefused, sizeof(*refused), by_name);
	fputs("{\n  \"description\": ", f);
	print_json_string(f, description);
	fputs(",\n  \"default_action\": \"kill\",\n  \"allow\": [", f);
	for (size_t i = 0; i < nused; i++) {
		fputs(i == 0 ? "\n    " : i % 6 == 0 ? ",\n    " : ", ", f);
		print_json_string(f, used[i].name);
	}
	fputs("\n  ]", f);
	print_refusals(f, l, refused, nrefused);
	fputs("\n}\n", f);

	qsort(used, nused, sizeof(*used), by_count);
	fprintf(counts_f, "warmbox learn: %zu syscalls used (calls counted; execve, exit and exit_group are never notified):\n",
		nused);
	for (size_t i = 0; i < nused; i++)
		if (used[i].count)
			fprintf(counts_f, "  %-24s %u\n", used[i].name, used[i].count);
	if (nrefused) {
		qsort(refused, nrefused, sizeof(*refused), by_count);
		fprintf(counts_f, "warmbox learn: refused, as in every policy (not in the list above):\n");
		for (size_t i = 0; i < nrefused; i++)
			fprintf(counts_f, "  %-24s %u\n", refused[i].name, refused[i].count);
	}
	free_named(used, nused);
	free_named(refused, nrefused);
	return fflush(f) == 0 ? 0 : -errno;
}
