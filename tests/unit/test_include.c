/* test_include.c: a policy's "include" (README "Policies"): merging, a
 * policy reached twice, cycles, one syscall given two actions, missing and
 * malformed names, and the same from a directory through wb_policy_load. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "policy/policy.h"

/* The policies a test's includes find: name, text; NULL ends. */
static const char *const *files;

static int read_mem(void *ctx, const char *name, char **label, char **text, size_t *len,
		    char *err, size_t errlen)
{
	(void)ctx;
	for (size_t i = 0; files && files[i]; i += 2) {
		if (strcmp(files[i], name) != 0)
			continue;
		*text = strdup(files[i + 1]);
		*len = strlen(files[i + 1]);
		if (asprintf(label, "mem/%s.json", name) < 0)
			*label = NULL;
		if (!*text || !*label) {
			free(*text);
			free(*label);
			return -ENOMEM;
		}
		return 0;
	}
	snprintf(err, errlen, "mem/%s.json: none", name);
	return -ENOENT;
}

/* Resolves text as the policy "top" with fs as its directory. */
static int resolve(const char *const *fs, const char *text, struct wb_policy *p, char *err, size_t errlen)
{
	const struct wb_policy_source src = {.name = "top", .read = read_mem};

	files = fs;
	return wb_policy_resolve("mem/top.json", text, strlen(text), &src, p, err, errlen);
}

/* The rule for entry with action err_value, or NULL. */
static const struct wb_policy_rule *rule(const struct wb_policy *p, const char *entry, int err_value)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].entry, entry) == 0 && p->rules[i].err == err_value)
			return &p->rules[i];
	return NULL;
}

static size_t rules_for(const struct wb_policy *p, const char *syscall)
{
	int nr = seccomp_syscall_resolve_name(syscall);
	size_t n = 0;

	for (size_t i = 0; i < p->nrules; i++)
		n += p->rules[i].nr == nr;
	return n;
}

/* Resolving fails, every needle in the message, and p is left empty. */
static void refused(const char *const *fs, const char *text, int want_rc, const char *n1, const char *n2,
		    const char *n3)
{
	static const struct wb_policy zero;
	struct wb_policy p;
	char err[512] = "";
	int rc = resolve(fs, text, &p, err, sizeof(err));

	CHECKF(rc == want_rc, "rc %d, want %d (%s) for %s", rc, want_rc, err, text);
	CHECKF(strncmp(err, "mem/top.json: ", 14) == 0, "not labelled: %s", err);
	CHECKF(strstr(err, n1) != NULL, "'%s' not in: %s", n1, err);
	if (n2)
		CHECKF(strstr(err, n2) != NULL, "'%s' not in: %s", n2, err);
	if (n3)
		CHECKF(strstr(err, n3) != NULL, "'%s' not in: %s", n3, err);
	CHECK(memcmp(&p, &zero, sizeof(p)) == 0);
}

static void test_merge(void)
{
	static const char *const fs[] = {
		"base", "{\"description\":\"the base\",\"default_action\":\"errno\","
			"\"allow\":[\"execve\",\"read\"],\"errno\":{\"EPERM\":[\"mkdir\"]},\"binds\":[\"/usr\"]}",
		NULL,
	};
	struct wb_policy p;
	char err[512] = "";

	CHECKF(resolve(fs, "{\"include\":[\"base\"],\"allow\":[\"write\",\"read\"],"
			   "\"errno\":{\"EACCES\":[\"socket\"]},\"binds\":[\"/usr\",\"?/no/such/dir/anywhere\"]}",
		       &p, err, sizeof(err)) == 0, "%s", err);
	CHECKF(p.nallow == 3 && p.nrules == 5, "%zu allowed of %zu", p.nallow, p.nrules);
	CHECK(rule(&p, "execve", 0) && rule(&p, "read", 0) && rule(&p, "write", 0));
	CHECK(rule(&p, "mkdir", EPERM) && rule(&p, "socket", EACCES));
	CHECK(rules_for(&p, "read") == 1);
	/* The included policy's rules come first, its own after. */
	CHECK(strcmp(p.rules[0].entry, "execve") == 0 && strcmp(p.rules[p.nrules - 1].entry, "socket") == 0);
	CHECK(p.nbinds == 1 && strcmp(p.binds[0], "/usr") == 0 && p.binds[1] == NULL);
	CHECK(p.nincludes == 1 && strcmp(p.includes[0], "base") == 0 && p.includes[1] == NULL);
	/* Only allow, errno and binds merge: the rest is the policy's own. */
	CHECK(p.def == WB_POLICY_KILL && strcmp(p.description, "") == 0);
	CHECK(p.bpf && p.bpf_len > 4);
	wb_policy_free(&p);

	/* An unconditional rule covers the conditional ones of its action. */
	static const char *const narrow[] = {
		"base", "{\"allow\":[\"execve\"],\"errno\":{\"EACCES\":[\"socket if arg0 == AF_UNIX\"]}}", NULL,
	};
	CHECKF(resolve(narrow, "{\"include\":[\"base\"],\"errno\":{\"EACCES\":[\"socket\"]}}", &p, err,
		       sizeof(err)) == 0, "%s", err);
	CHECK(rules_for(&p, "socket") == 1 && rule(&p, "socket", EACCES) && rule(&p, "socket", EACCES)->arg < 0);
	wb_policy_free(&p);
	CHECKF(resolve(narrow, "{\"include\":[\"base\"],\"errno\":{\"EACCES\":[\"socket if arg0 == AF_INET\"]}}",
		       &p, err, sizeof(err)) == 0, "%s", err);
	CHECK(rules_for(&p, "socket") == 2);
	wb_policy_free(&p);
}

static void test_diamond(void)
{
	static const char *const fs[] = {
		"a", "{\"include\":[\"d\"],\"allow\":[\"read\"]}",
		"b", "{\"include\":[\"d\"],\"allow\":[\"write\"]}",
		"d", "{\"allow\":[\"execve\"],\"errno\":{\"EPERM\":[\"mkdir\"]},\"binds\":[\"/usr\"]}",
		NULL,
	};
	struct wb_policy p;
	char err[512] = "";

	CHECKF(resolve(fs, "{\"include\":[\"a\",\"b\"]}", &p, err, sizeof(err)) == 0, "%s", err);
	CHECK(p.nallow == 3 && rules_for(&p, "mkdir") == 1 && rules_for(&p, "execve") == 1 && p.nbinds == 1);
	wb_policy_free(&p);
	/* Named twice in one list, or also directly: still one policy. */
	CHECKF(resolve(fs, "{\"include\":[\"d\",\"a\",\"d\"]}", &p, err, sizeof(err)) == 0, "%s", err);
	CHECK(p.nallow == 2 && rules_for(&p, "mkdir") == 1);
	wb_policy_free(&p);
}

static void test_cycles(void)
{
	static const char *const fs[] = {
		"top", "{\"allow\":[\"execve\"]}",
		"a", "{\"include\":[\"b\"],\"allow\":[\"execve\"]}",
		"b", "{\"include\":[\"a\"],\"allow\":[\"read\"]}",
		"self", "{\"include\":[\"self\"],\"allow\":[\"execve\"]}",
		"c", "{\"include\":[\"top\"],\"allow\":[\"execve\"]}",
		NULL,
	};

	refused(fs, "{\"include\":[\"top\"],\"allow\":[\"execve\"]}", -EINVAL, "cycle", "top -> top", NULL);
	refused(fs, "{\"include\":[\"c\"],\"allow\":[\"execve\"]}", -EINVAL, "cycle", "top -> c -> top", NULL);
	refused(fs, "{\"include\":[\"a\"]}", -EINVAL, "cycle", "a -> b -> a", NULL);
	refused(fs, "{\"include\":[\"self\"]}", -EINVAL, "cycle", "self -> self", NULL);
}

static void test_conflicts(void)
{
	static const char *const fs[] = {
		"base", "{\"allow\":[\"execve\",\"read\"],\"errno\":{\"EPERM\":[\"mkdir\"],"
			"\"EACCES\":[\"socket if arg0 == AF_UNIX\"]}}",
		"other", "{\"allow\":[\"execve\"],\"errno\":{\"ENOSYS\":[\"mkdir\"]}}",
		NULL,
	};

	/* allow here, errno in the included one. */
	refused(fs, "{\"include\":[\"base\"],\"allow\":[\"mkdir\"]}", -EINVAL, "\"mkdir\"",
		"errno.EPERM in base", "allow in top");
	refused(fs, "{\"include\":[\"base\"],\"errno\":{\"EPERM\":[\"read\"]}}", -EINVAL, "\"read\"",
		"allow in base", "errno.EPERM in top");
	/* Two errnos, from two included policies. */
	refused(fs, "{\"include\":[\"base\",\"other\"]}", -EINVAL, "\"mkdir\"", "errno.EPERM in base",
		"errno.ENOSYS in other");
	/* A condition on one side only does not make a second action legal:
	 * the unconditional rule would also answer the conditional call. */
	refused(fs, "{\"include\":[\"base\"],\"allow\":[\"socket\"]}", -EINVAL, "\"socket\"",
		"errno.EACCES in base", "allow in top");
	/* Within one file, as before includes. */
	refused(NULL, "{\"allow\":[\"execve\",\"read\"],\"errno\":{\"EPERM\":[\"read\"]}}", -EINVAL, "\"read\"",
		"allow in top", "errno.EPERM in top");
	refused(NULL, "{\"allow\":[\"execve\",\"read\",\"read\"]}", -EINVAL, "\"read\" listed twice", NULL, NULL);
	refused(NULL, "{\"allow\":[\"execve\",\"socket if arg0 == 1\",\"socket if arg0 == AF_UNIX\"]}", -EINVAL,
		"listed twice", NULL, NULL);
}

/* Two values of one argument are two calls, each with its own action: the
 * net policy allows AF_INET sockets over base's EACCES for AF_UNIX. */
static void test_disjoint_conditions(void)
{
	static const char *const fs[] = {
		"base", "{\"allow\":[\"execve\"],\"errno\":{\"EACCES\":[\"socket if arg0 == AF_UNIX\"]}}", NULL,
	};
	struct wb_policy p;
	char err[512] = "";

	CHECKF(resolve(fs, "{\"include\":[\"base\"],\"allow\":[\"socket if arg0 == AF_INET\","
			   "\"socket if arg0 == AF_INET6\"]}", &p, err, sizeof(err)) == 0, "%s", err);
	CHECK(rules_for(&p, "socket") == 3);
	CHECK(rule(&p, "socket if arg0 == AF_UNIX", EACCES) != NULL);
	CHECK(rule(&p, "socket if arg0 == AF_INET", 0) != NULL && rule(&p, "socket if arg0 == AF_INET6", 0) != NULL);
	wb_policy_free(&p);
	/* The same value under two actions is still one call given two. */
	refused(fs, "{\"include\":[\"base\"],\"allow\":[\"socket if arg0 == AF_UNIX\"]}", -EINVAL,
		"\"socket\"", "errno.EACCES in base", "allow in top");
}

static void test_bad_includes(void)
{
	static const char *const fs[] = {
		"noexec", "{\"allow\":[\"read\"]}",
		"typo", "{\"allow\":[\"execve\",\"notasyscall\"]}",
		"nobind", "{\"allow\":[\"execve\"],\"binds\":[\"/no/such/dir/anywhere\"]}",
		"broken", "{\"allow\":[\"execve\"",
		"usesmissing", "{\"include\":[\"nowhere\"],\"allow\":[\"execve\"]}",
		NULL,
	};
	struct wb_policy p;
	char err[512] = "";

	/* Missing: named, and not -ENOENT, which serve takes for a runtime
	 * not installed. */
	refused(fs, "{\"include\":[\"missing\"],\"allow\":[\"execve\"]}", -EINVAL, "include \"missing\"",
		"no such policy", NULL);
	refused(fs, "{\"include\":[\"usesmissing\"]}", -EINVAL, "\"nowhere\" in usesmissing", NULL, NULL);
	refused(fs, "{\"include\":\"base\",\"allow\":[\"execve\"]}", -EINVAL, "include", "array", NULL);
	refused(fs, "{\"include\":[\"noexec\",1]}", -EINVAL, "include[1]", "string", NULL);
	refused(fs, "{\"include\":[\"\"]}", -EINVAL, "include[0]", NULL, NULL);
	refused(fs, "{\"include\":[\"../etc/x\"]}", -EINVAL, "include[0]", "../etc/x", NULL);
	refused(fs, "{\"include\":[\".hidden\"]}", -EINVAL, "include[0]", NULL, NULL);
	/* The merged whole must allow execve, not each part. */
	refused(fs, "{\"include\":[\"noexec\"]}", -EINVAL, "execve", NULL, NULL);
	CHECKF(resolve(fs, "{\"include\":[\"noexec\"],\"allow\":[\"execve\"]}", &p, err, sizeof(err)) == 0,
	       "%s", err);
	wb_policy_free(&p);
	/* A fault in an included file names that file. */
	CHECK(resolve(fs, "{\"include\":[\"typo\"]}", &p, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "mem/typo.json") && strstr(err, "notasyscall"), "%s", err);
	CHECK(resolve(fs, "{\"include\":[\"broken\"]}", &p, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "mem/broken.json") && strstr(err, "JSON"), "%s", err);
	/* A missing bind stays -ENOENT: the including policy's runtime is
	 * missing too. */
	CHECK(resolve(fs, "{\"include\":[\"nobind\"]}", &p, err, sizeof(err)) == -ENOENT);
	CHECKF(strstr(err, "mem/nobind.json") && strstr(err, "/no/such/dir"), "%s", err);
	/* Without a directory there is nothing to include from. */
	CHECK(wb_policy_parse("t.json", "{\"include\":[\"a\"]}", 18, &p, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "t.json") && strstr(err, "include \"a\""), "%s", err);
	/* Neither allow nor include. */
	refused(fs, "{\"description\":\"x\"}", -EINVAL, "allow", "required", NULL);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	f = fopen(path, "w");
	CHECKF(f != NULL, "%s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The same through files, as warmbox run and serve load them. */
static void test_dir(void)
{
	char dir[] = "/tmp/wb-test-include.XXXXXX", err[512] = "";
	struct wb_policy p;
	char **names = NULL;
	size_t n = 0;

	if (!mkdtemp(dir)) {
		CHECKF(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	put(dir, "base", "{\"allow\":[\"execve\",\"read\"]}");
	put(dir, "lang", "{\"include\":[\"base\"],\"allow\":[\"write\"]}");
	put(dir, "loop", "{\"include\":[\"loop\"],\"allow\":[\"execve\"]}");
	put(dir, "lost", "{\"include\":[\"gone\"],\"allow\":[\"execve\"]}");
	CHECKF(wb_policy_load(dir, "lang", &p, err, sizeof(err)) == 0, "%s", err);
	CHECK(p.nallow == 3 && strcmp(p.name, "lang") == 0);
	wb_policy_free(&p);
	CHECK(wb_policy_load(dir, "loop", &p, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "loop.json") && strstr(err, "loop -> loop"), "%s", err);
	CHECK(wb_policy_load(dir, "lost", &p, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "lost.json") && strstr(err, "\"gone\"") && strstr(err, "gone.json"), "%s", err);
	CHECK(wb_policy_names(dir, &names, &n) == 0 && n == 4);
	for (size_t i = 0; i < n; i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s.json", dir, names[i]);
		unlink(path);
	}
	wb_policy_names_free(names, n);
	rmdir(dir);
}

int main(void)
{
	test_merge();
	test_diamond();
	test_cycles();
	test_conflicts();
	test_disjoint_conditions();
	test_bad_includes();
	test_dir();
	return check_report("test_include");
}
