/* policy.c: a policy's JSON parsed and compiled once to BPF (load.c finds
 * and reads the file, include.c merges what it includes).
 * The filter's default action is a user notification, so the job init learns
 * the number of a refused syscall and can name it in the result. */
#include "policy/policy.h"
#include "policy/policy_impl.h"

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

const char *policy_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].value == err)
			return errno_names[i].name;
	return "?";
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
 * arg_names): the rule then matches only calls with that argument. Fills
 * r but its entry; -ENOENT for an unknown syscall, -EINVAL for the rest. */
static int parse_entry(const char *text, struct wb_policy_rule *r)
{
	char name[64], value[64], extra;
	unsigned arg;
	int n = sscanf(text, "%63[a-z0-9_] if arg%u == %63s %c", name, &arg, value, &extra);

	r->arg = -1;
	r->value = 0;
	if (n == 1 && strlen(name) == strlen(text)) {
		r->nr = syscall_by_name(name);
		return r->nr < 0 ? -ENOENT : 0;
	}
	if (n != 3 || arg > 5)
		return -EINVAL;
	r->nr = syscall_by_name(name);
	if (r->nr < 0)
		return -ENOENT;
	/* Their namespace checks (add_rule) must not be sidestepped by a
	 * condition. */
	if (r->nr == SCMP_SYS(clone) || r->nr == SCMP_SYS(clone3))
		return -EPERM;
	r->arg = (int)arg;
	for (size_t i = 0; i < sizeof(arg_names) / sizeof(arg_names[0]); i++) {
		if (strcmp(arg_names[i].name, value) == 0) {
			r->value = arg_names[i].value;
			return 0;
		}
	}
	{
		char *end;

		errno = 0;
		r->value = strtoull(value, &end, 0);
		if (errno || *end)
			return -EINVAL;
	}
	return 0;
}

static int entry_error(char *err, size_t errlen, const char *file, const char *field,
		       const char *text, int rc)
{
	snprintf(err, errlen, "%s: %s: %s \"%s\"", file, field,
		 rc == -ENOENT ? "unknown syscall" :
		 rc == -EPERM ? "no condition may be put on clone or clone3, in" :
		 "bad entry (NAME or \"NAME if argN == VALUE\")", text);
	return -EINVAL;
}

/* Adds one rule, applying the argument rules every policy gets whatever
 * its author wrote. */
static int add_rule(scmp_filter_ctx ctx, const struct wb_policy_rule *r)
{
	uint32_t action = r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW;
	int nr = r->nr;

	if (r->arg >= 0)
		return seccomp_rule_add(ctx, action, nr, 1,
					(struct scmp_arg_cmp){.arg = (unsigned)r->arg, .op = SCMP_CMP_EQ,
							      .datum_a = r->value});
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

/* Compiles rules into p->bpf under p->def. */
static int compile(const char *name, struct wb_policy *p, const struct wb_policy_rule *rules, size_t nrules,
		   char *err, size_t errlen)
{
	uint32_t def;
	scmp_filter_ctx ctx;
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

	for (size_t i = 0; i < nrules; i++) {
		const struct wb_policy_rule *r = &rules[i];

		rc = add_rule(ctx, r);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s%s: cannot add \"%s\": %s", name, r->err ? "errno." : "allow",
				 r->err ? policy_errno_name(r->err) : "", r->entry, strerror(-rc));
			goto out;
		}
		mark_listed(r->entry, listed);
		allowed_execve |= r->nr == SCMP_SYS(execve) && r->arg < 0 && r->err == 0;
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

/* Appends the entries of one array of the file (allow, or one errno
 * group) to p->rules with action err. field names it in messages. */
static int read_rules(const char *name, const char *field, const cJSON *a, int err_value,
		      struct wb_policy *p, char *err, size_t errlen)
{
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(a);
	struct wb_policy_rule *v = realloc(p->rules, (p->nrules + n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->rules = v;
	cJSON_ArrayForEach(it, a) {
		struct wb_policy_rule *r = &p->rules[p->nrules];
		int rc = parse_entry(it->valuestring, r);

		if (rc < 0)
			return entry_error(err, errlen, name, field, it->valuestring, rc);
		r->err = err_value;
		r->entry = strdup(it->valuestring);
		if (!r->entry)
			return -ENOMEM;
		p->nrules++;
		p->nallow += err_value == 0;
	}
	return 0;
}

/* The fields but allow, errno and binds, and which of those are given. */
static int read_fields(const char *name, const cJSON *root, const cJSON **allow, const cJSON **errnos,
		       const cJSON **binds, const cJSON **include, struct wb_policy *p, char *err, size_t errlen)
{
	const cJSON *field;
	int rc;

	cJSON_ArrayForEach(field, root) {
		const char *k = field->string;

		if (given_before(root, field)) {
			snprintf(err, errlen, "%s: \"%s\" given twice", name, k);
			return -EINVAL;
		}
		if (strcmp(k, "description") == 0) {
			if (!cJSON_IsString(field)) {
				snprintf(err, errlen, "%s: description: must be a string", name);
				return -EINVAL;
			}
		} else if (strcmp(k, "default_action") == 0) {
			const char *v = cJSON_IsString(field) ? field->valuestring : "";

			if (strcmp(v, "kill") == 0)
				p->def = WB_POLICY_KILL;
			else if (strcmp(v, "errno") == 0)
				p->def = WB_POLICY_ERRNO;
			else {
				snprintf(err, errlen, "%s: default_action: must be \"kill\" or \"errno\"", name);
				return -EINVAL;
			}
		} else if (strcmp(k, "allow") == 0 || strcmp(k, "binds") == 0 || strcmp(k, "include") == 0) {
			if ((rc = check_string_array(name, k, field, err, errlen)) < 0)
				return rc;
			*(k[0] == 'a' ? allow : k[0] == 'b' ? binds : include) = field;
		} else if (strcmp(k, "errno") == 0) {
			const cJSON *g;

			if (!cJSON_IsObject(field)) {
				snprintf(err, errlen, "%s: errno: must be an object of arrays", name);
				return -EINVAL;
			}
			cJSON_ArrayForEach(g, field) {
				if (given_before(field, g)) {
					snprintf(err, errlen, "%s: errno: \"%s\" given twice", name, g->string);
					return -EINVAL;
				}
				if ((rc = check_string_array(name, "errno", g, err, errlen)) < 0)
					return rc;
			}
			*errnos = field;
		} else {
			snprintf(err, errlen, "%s: unknown field \"%s\"", name, k);
			return -EINVAL;
		}
	}
	return 0;
}

int policy_read_one(const char *name, const char *text, size_t len, struct wb_policy *p,
		    char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *field, *allow = NULL, *errnos = NULL, *binds = NULL, *include = NULL, *g;
	int rc = -EINVAL;

	memset(p, 0, sizeof(*p));
	root = cJSON_ParseWithLength(text, len);
	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "%s: not a JSON object (syntax error near byte %ld)", name,
			 root ? 0L : (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
		goto out;
	}
	rc = read_fields(name, root, &allow, &errnos, &binds, &include, p, err, errlen);
	if (rc < 0)
		goto out;
	/* What an include brings is checked with the merged whole. */
	if (!allow && !include) {
		snprintf(err, errlen, "%s: allow: required (or an include)", name);
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
	if ((rc = read_rules(name, "allow", allow, 0, p, err, errlen)) < 0)
		goto out;
	cJSON_ArrayForEach(g, errnos) {
		int e = errno_by_name(g->string);
		char where[80];

		if (e < 0) {
			snprintf(err, errlen, "%s: errno: unknown errno name \"%s\"", name, g->string);
			rc = -EINVAL;
			goto out;
		}
		snprintf(where, sizeof(where), "errno.%s", g->string);
		if ((rc = read_rules(name, where, g, e, p, err, errlen)) < 0)
			goto out;
	}
	if ((rc = parse_binds(name, binds, p, err, errlen)) < 0)
		goto out;
	rc = policy_read_includes(name, include, p, err, errlen);
out:
	cJSON_Delete(root);
	if (rc < 0)
		wb_policy_free(p);
	return rc;
}

int wb_policy_resolve(const char *name, const char *text, size_t len, const struct wb_policy_source *src,
		      struct wb_policy *p, char *err, size_t errlen)
{
	int rc = policy_read_one(name, text, len, p, err, errlen);

	if (rc == 0)
		rc = policy_merge(p, name, src, err, errlen);
	if (rc == 0)
		rc = compile(name, p, p->rules, p->nrules, err, errlen);
	if (rc < 0) {
		wb_policy_free(p);
		one_line(err, errlen);
	}
	return rc;
}

int wb_policy_parse(const char *name, const char *text, size_t len, struct wb_policy *p,
		    char *err, size_t errlen)
{
	return wb_policy_resolve(name, text, len, NULL, p, err, errlen);
}

int wb_policy_learn(struct wb_policy *p, char *err, size_t errlen)
{
	/* execve passes unnotified: the job init answers notifications only
	 * once the program's vfork-style clone has returned, at its execve. */
	const struct wb_policy_rule execve = {.entry = "execve", .nr = SCMP_SYS(execve), .arg = -1};
	int rc;

	free(p->bpf);
	p->bpf = NULL;
	p->bpf_len = 0;
	p->def = WB_POLICY_KILL;
	rc = compile(p->name, p, &execve, 1, err, errlen);
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
	for (size_t i = 0; i < p->nincludes; i++)
		free(p->includes[i]);
	free(p->includes);
	for (size_t i = 0; i < p->nrules; i++)
		free(p->rules[i].entry);
	free(p->rules);
	free(p->bpf);
	memset(p, 0, sizeof(*p));
}
