/* learned.c: what warmbox learn counted, printed as a ready policy (stdout)
 * and as counts, busiest first (stderr). */
#include "cli/cli.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/learn.h"

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

int wb_cli_print_learned(const struct wb_learn *l, const char *description, FILE *f, FILE *counts_f)
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
