/* policy.c: a policy's JSON parsed and compiled once to BPF (load.c finds
 * and reads the file).
 * The filter's default action is a user notification, so the job init learns
 * the number of a refused syscall and can name it in the result. */
#include "policy/policy.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	int value;
} errno_names[] = {
	{"EPERM", EPERM}, {"ENOENT", ENOENT}, {"EACCES", EACCES}, {"EINVAL", EINVAL},
	{"ENOSYS", ENOSYS}, {"EAFNOSUPPORT", EAFNOSUPPORT}, {"ENOTSUP", ENOTSUP},
	{"EOPNOTSUPP", EOPNOTSUPP}, {"EROFS", EROFS}, {"ENOMEM", ENOMEM}, {"EAGAIN", EAGAIN},
	{"EBADF", EBADF}, {"EFAULT", EFAULT}, {"ENOTTY", ENOTTY}, {"ENETUNREACH", ENETUNREACH},
};

static int errno_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (strcmp(errno_names[i].name, name) == 0)
			return errno_names[i].value;
	return -1;
}

static int syscall_by_name(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR ? -1 : nr;
}

/* Symbolic values an entry's condition may use. */
static const struct {
	const char *name;
	uint64_t value;
} arg_names[] = {
	{"AF_UNIX", AF_UNIX}, {"AF_LOCAL", AF_LOCAL}, {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6},
	{"AF_NETLINK", AF_NETLINK}, {"AF_PACKET", AF_PACKET}, {"AF_VSOCK", AF_VSOCK},
};

/* An entry is "NAME" or "NAME if argN == VALUE" (VALUE a number or one of
 * arg_names): the rule then matches only calls with that argument. */
struct entry {
	int nr;
	bool has_arg;
	unsigned arg;
	uint64_t value;
};

static int parse_entry(const char *text, struct entry *e)
{
	char name[64], value[64], extra;
	unsigned arg;
	int n = sscanf(text, "%63[a-z0-9_] if arg%u == %63s %c", name, &arg, value, &extra);

	memset(e, 0, sizeof(*e));
	if (n == 1 && strlen(name) == strlen(text)) {
		e->nr = syscall_by_name(name);
		return e->nr < 0 ? -ENOENT : 0;
	}
	if (n != 3 || arg > 5)
		return -EINVAL;
	e->nr = syscall_by_name(name);
	if (e->nr < 0)
		return -ENOENT;
	e->has_arg = true;
	e->arg = arg;
	for (size_t i = 0; i < sizeof(arg_names) / sizeof(arg_names[0]); i++) {
		if (strcmp(arg_names[i].name, value) == 0) {
			e->value = arg_names[i].value;
			return 0;
		}
	}
	{
		char *end;

		errno = 0;
		e->value = strtoull(value, &end, 0);
		if (errno || *end)
			return -EINVAL;
	}
	return 0;
}

static int entry_error(char *err, size_t errlen, const char *file, const char *field,
		       const char *text, int rc)
{
	snprintf(err, errlen, "%s: %s: %s \"%s\"", file, field,
		 rc == -ENOENT ? "unknown syscall" : "bad entry (NAME or \"NAME if argN == VALUE\")", text);
	return -EINVAL;
}

/* Adds one syscall with the given action, applying the argument rules every
 * policy gets whatever its author wrote. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, const struct entry *e)
{
	int nr = e->nr;

	/* Their namespace checks below must not be sidestepped by a condition. */
	if (e->has_arg && (nr == SCMP_SYS(clone) || nr == SCMP_SYS(clone3)))
		return -EINVAL;
	if (e->has_arg)
		return seccomp_rule_add(ctx, action, nr, 1,
					(struct scmp_arg_cmp){.arg = e->arg, .op = SCMP_CMP_EQ, .datum_a = e->value});
	if (action == SCMP_ACT_ALLOW && nr == SCMP_SYS(clone))
		return seccomp_rule_add(ctx, action, nr, 1,
					SCMP_A0(SCMP_CMP_MASKED_EQ, WB_POLICY_NS_FLAGS, 0));
	/* clone3 passes its flags in memory, out of a filter's reach; ENOSYS
	 * makes glibc fall back to clone, whose flags we can check. */
	if (action == SCMP_ACT_ALLOW && nr == SCMP_SYS(clone3))
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	return seccomp_rule_add(ctx, action, nr, 0);
}

/* The syscalls of the handoff rules, which the policy may also list
 * itself (then its rule stands and ours is left out). */
enum handoff_call { H_SENDMSG, H_WRITE, H_EXIT_GROUP, H_EXIT, H_RESTART, H_CALLS };

static const char *const handoff_names[H_CALLS] = {
	[H_SENDMSG] = "sendmsg", [H_WRITE] = "write", [H_EXIT_GROUP] = "exit_group",
	[H_EXIT] = "exit", [H_RESTART] = "restart_syscall",
};

static void mark_listed(const char *name, bool *listed)
{
	for (size_t i = 0; i < H_CALLS; i++)
		if (strcmp(name, handoff_names[i]) == 0)
			listed[i] = true;
}

/* The program's last steps before execve (program.c) run under the filter:
 * handing over the listener and reporting a failed execve go through the
 * handoff fd, and exiting must always work. So must restarting a sleep. */
static int add_handoff_rules(scmp_filter_ctx ctx, const bool *listed)
{
	int rc = 0;

	if (!listed[H_SENDMSG])
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
				      SCMP_A0(SCMP_CMP_EQ, WB_POLICY_HANDOFF_FD));
	if (!rc && !listed[H_WRITE])
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				      SCMP_A0(SCMP_CMP_EQ, WB_POLICY_HANDOFF_FD));
	if (!rc && !listed[H_EXIT_GROUP])
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
	if (!rc && !listed[H_EXIT])
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
	/* The kernel resumes a sleep a signal interrupted (nanosleep, poll,
	 * futex with a timeout) through restart_syscall: the sleep itself
	 * already passed the filter. Go's preemption signals make it common. */
	if (!rc && !listed[H_RESTART])
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(restart_syscall), 0);
	return rc;
}

static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **bpf, size_t *len)
{
	int fd = memfd_create("wb-bpf", MFD_CLOEXEC);
	struct stat st;
	int rc;

	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		goto out;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		rc = -EIO;
		goto out;
	}
	*bpf = malloc((size_t)st.st_size);
	if (!*bpf) {
		rc = -ENOMEM;
		goto out;
	}
	if (pread(fd, *bpf, (size_t)st.st_size, 0) != st.st_size) {
		free(*bpf);
		*bpf = NULL;
		rc = -EIO;
		goto out;
	}
	*len = (size_t)st.st_size / sizeof(struct sock_filter);
	rc = 0;
out:
	close(fd);
	return rc;
}

static int compile(const char *name, const cJSON *allow, const cJSON *errnos,
		   struct wb_policy *p, char *err, size_t errlen)
{
	uint32_t def;
	scmp_filter_ctx ctx;
	const cJSON *it, *group;
	bool listed[H_CALLS] = {false}, allowed_execve = false;
	int rc = -EINVAL;

	if (p->def == WB_POLICY_ERRNO)
		def = SCMP_ACT_ERRNO(EPERM);
	else
		def = SCMP_ACT_NOTIFY;
	ctx = seccomp_init(def);
	if (!ctx) {
		snprintf(err, errlen, "%s: libseccomp cannot create a filter", name);
		return -ENOMEM;
	}
	/* A 32-bit or x32 syscall would dodge every rule written for x86_64:
	 * it goes to the job init, which ends the job with SV "foreign
	 * architecture" (a kill would leave it an anonymous SIGSYS). */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
	/* A binary tree instead of a linear list: installing a filter makes the
	 * kernel run it once per syscall number to build its allow cache, so
	 * the path length is paid ~450 times per job. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	cJSON_ArrayForEach(it, allow) {
		struct entry e;

		if ((rc = parse_entry(it->valuestring, &e)) < 0) {
			rc = entry_error(err, errlen, name, "allow", it->valuestring, rc);
			goto out;
		}
		rc = add_rule(ctx, SCMP_ACT_ALLOW, &e);
		if (rc < 0) {
			snprintf(err, errlen, "%s: allow: cannot add \"%s\": %s", name, it->valuestring,
				 strerror(-rc));
			goto out;
		}
		mark_listed(it->valuestring, listed);
		allowed_execve |= e.nr == SCMP_SYS(execve) && !e.has_arg;
	}
	cJSON_ArrayForEach(group, errnos) {
		int e = errno_by_name(group->string);

		if (e < 0) {
			snprintf(err, errlen, "%s: errno: unknown errno name \"%s\"", name, group->string);
			rc = -EINVAL;
			goto out;
		}
		cJSON_ArrayForEach(it, group) {
			struct entry en;
			char field[80];

			snprintf(field, sizeof(field), "errno.%s", group->string);
			if ((rc = parse_entry(it->valuestring, &en)) < 0) {
				rc = entry_error(err, errlen, name, field, it->valuestring, rc);
				goto out;
			}
			rc = add_rule(ctx, SCMP_ACT_ERRNO((uint32_t)e), &en);
			if (rc < 0) {
				snprintf(err, errlen, "%s: errno.%s: cannot add \"%s\" (listed twice?): %s",
					 name, group->string, it->valuestring, strerror(-rc));
				goto out;
			}
			mark_listed(it->valuestring, listed);
		}
	}
	/* The program is started with execve while the job init waits for
	 * it (a vfork-style clone): refusing it would stall both. */
	if (!allowed_execve) {
		snprintf(err, errlen, "%s: allow: must list \"execve\" (every program is started with it)", name);
		rc = -EINVAL;
		goto out;
	}
	rc = add_handoff_rules(ctx, listed);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot add the sandbox's own rules: %s", name, strerror(-rc));
		goto out;
	}
	rc = export_bpf(ctx, &p->bpf, &p->bpf_len);
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot compile the filter: %s", name, strerror(-rc));
out:
	seccomp_release(ctx);
	return rc;
}

static int check_string_array(const char *name, const char *field, const cJSON *a,
			      char *err, size_t errlen)
{
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsArray(a)) {
		snprintf(err, errlen, "%s: %s: must be an array of strings", name, field);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it) || !*it->valuestring) {
			snprintf(err, errlen, "%s: %s[%d]: must be a non-empty string", name, field, i);
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

static int parse_binds(const char *name, const cJSON *binds, struct wb_policy *p,
		       char *err, size_t errlen)
{
	const cJSON *it;
	int i = 0;

	p->binds = calloc((size_t)cJSON_GetArraySize(binds) + 1, sizeof(char *));
	if (!p->binds)
		return -ENOMEM;
	cJSON_ArrayForEach(it, binds) {
		/* "?PATH" is bound when the host has it: a policy for several
		 * toolchains (compile) must not need all of them installed. */
		bool optional = it->valuestring[0] == '?';
		const char *path = it->valuestring + optional;
		struct stat st;

		if (path[0] != '/' || strstr(path, "/..") || strstr(path, "//")) {
			snprintf(err, errlen, "%s: binds[%d]: \"%s\" must be a normalised absolute path, or ?PATH",
				 name, i, it->valuestring);
			return -EINVAL;
		}
		if (stat(path, &st) < 0) {
			if (optional) {
				i++;
				continue;
			}
			snprintf(err, errlen, "%s: binds[%d]: \"%s\": %s", name, i, path, strerror(errno));
			return -ENOENT;
		}
		i++;
		p->binds[p->nbinds] = strdup(path);
		if (!p->binds[p->nbinds])
			return -ENOMEM;
		p->nbinds++;
	}
	return 0;
}

/* cJSON keeps every duplicate key and answers lookups with the first: a
 * policy saying "allow" twice would be read half. Refused, as in jobs. */
static bool given_before(const cJSON *object, const cJSON *item)
{
	for (const cJSON *q = object->child; q && q != item; q = q->next)
		if (strcmp(q->string, item->string) == 0)
			return true;
	return false;
}

/* Messages quote names from the file, which may hold control characters:
 * an error is one line whatever the file says. */
static void one_line(char *err, size_t errlen)
{
	for (size_t i = 0; i < errlen && err[i]; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = '?';
}

int wb_policy_parse(const char *name, const char *text, size_t len, struct wb_policy *p,
		    char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *field, *allow = NULL, *errnos = NULL, *binds = NULL;
	int rc = -EINVAL;

	memset(p, 0, sizeof(*p));
	root = cJSON_ParseWithLength(text, len);
	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "%s: not a JSON object (syntax error near byte %ld)", name,
			 root ? 0L : (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
		goto out;
	}
	cJSON_ArrayForEach(field, root) {
		const char *k = field->string;

		if (given_before(root, field)) {
			snprintf(err, errlen, "%s: \"%s\" given twice", name, k);
			rc = -EINVAL;
			goto out;
		}
		if (strcmp(k, "description") == 0) {
			if (!cJSON_IsString(field)) {
				snprintf(err, errlen, "%s: description: must be a string", name);
				rc = -EINVAL;
				goto out;
			}
		} else if (strcmp(k, "default_action") == 0) {
			const char *v = cJSON_IsString(field) ? field->valuestring : "";

			if (strcmp(v, "kill") == 0)
				p->def = WB_POLICY_KILL;
			else if (strcmp(v, "errno") == 0)
				p->def = WB_POLICY_ERRNO;
			else {
				snprintf(err, errlen, "%s: default_action: must be \"kill\" or \"errno\"", name);
				rc = -EINVAL;
				goto out;
			}
		} else if (strcmp(k, "allow") == 0) {
			if ((rc = check_string_array(name, "allow", field, err, errlen)) < 0)
				goto out;
			allow = field;
		} else if (strcmp(k, "errno") == 0) {
			const cJSON *g;

			if (!cJSON_IsObject(field)) {
				snprintf(err, errlen, "%s: errno: must be an object of arrays", name);
				rc = -EINVAL;
				goto out;
			}
			cJSON_ArrayForEach(g, field) {
				if (given_before(field, g)) {
					snprintf(err, errlen, "%s: errno: \"%s\" given twice", name, g->string);
					rc = -EINVAL;
					goto out;
				}
				if ((rc = check_string_array(name, "errno", g, err, errlen)) < 0)
					goto out;
			}
			errnos = field;
		} else if (strcmp(k, "binds") == 0) {
			if ((rc = check_string_array(name, "binds", field, err, errlen)) < 0)
				goto out;
			binds = field;
		} else {
			snprintf(err, errlen, "%s: unknown field \"%s\"", name, k);
			rc = -EINVAL;
			goto out;
		}
	}
	if (!allow) {
		snprintf(err, errlen, "%s: allow: required", name);
		rc = -EINVAL;
		goto out;
	}
	p->name = strdup(name);
	field = cJSON_GetObjectItemCaseSensitive(root, "description");
	p->description = strdup(field ? field->valuestring : "");
	if (!p->name || !p->description) {
		rc = -ENOMEM;
		goto out;
	}
	rc = parse_binds(name, binds, p, err, errlen);
	if (rc < 0)
		goto out;
	rc = compile(name, allow, errnos, p, err, errlen);
out:
	cJSON_Delete(root);
	if (rc < 0) {
		wb_policy_free(p);
		one_line(err, errlen);
	}
	return rc;
}

int wb_policy_learn(struct wb_policy *p, char *err, size_t errlen)
{
	/* execve passes unnotified: the job init answers notifications only
	 * once the program's vfork-style clone has returned, at its execve. */
	cJSON *allow = cJSON_CreateStringArray((const char *[]){"execve"}, 1);
	int rc;

	if (!allow)
		return -ENOMEM;
	free(p->bpf);
	p->bpf = NULL;
	p->bpf_len = 0;
	p->def = WB_POLICY_KILL;
	rc = compile(p->name, allow, NULL, p, err, errlen);
	cJSON_Delete(allow);
	if (rc == 0)
		p->learn = 1;
	return rc;
}

char *wb_policy_syscall_name(int nr)
{
	return seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

void wb_policy_free(struct wb_policy *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->description);
	for (size_t i = 0; i < p->nbinds; i++)
		free(p->binds[i]);
	free(p->binds);
	free(p->bpf);
	memset(p, 0, sizeof(*p));
}
