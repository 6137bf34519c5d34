/* test_policy.c: policy parsing, its error messages (file and entry named),
 * the shipped policies (resolved, against README's counts), and the
 * compiled filter's behaviour in a child. test_include.c has "include". */
#include <errno.h>
#include <stdbool.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdio.h>

#include "check.h"
#include "policy/dangerous.h"
#include "policy/policy.h"

#ifndef WB_TEST_POLICIES
#error "WB_TEST_POLICIES must name the source tree's policies/"
#endif
#ifndef WB_TEST_README
#error "WB_TEST_README must name the source tree's README.md"
#endif

static int parse(const char *text, struct wb_policy *p, char *err)
{
	return wb_policy_parse("t.json", text, strlen(text), p, err, 256);
}

/* Parses text, expects failure with every needle in the message. */
static void refused(const char *text, const char *needle1, const char *needle2)
{
	struct wb_policy p;
	char err[256] = "";
	int rc = parse(text, &p, err);

	CHECKF(rc < 0, "accepted: %s", text);
	CHECKF(strstr(err, "t.json") != NULL, "file not named: %s", err);
	CHECKF(strstr(err, needle1) != NULL, "'%s' not in: %s", needle1, err);
	if (needle2)
		CHECKF(strstr(err, needle2) != NULL, "'%s' not in: %s", needle2, err);
	CHECK(p.bpf == NULL && p.name == NULL);
}

static void test_errors(void)
{
	refused("{", "JSON", NULL);
	refused("[]", "JSON", NULL);
	refused("{\"description\":\"x\"}", "allow", "required");
	refused("{\"allow\":[\"read\",\"notasyscall\"]}", "unknown syscall", "notasyscall");
	refused("{\"allow\":[\"read\"],\"errno\":{\"EPERM\":[\"bogus_call\"]}}", "errno.EPERM", "bogus_call");
	refused("{\"allow\":[\"read\"],\"errno\":{\"ENOTANERRNO\":[\"socket\"]}}", "errno", "ENOTANERRNO");
	refused("{\"allow\":[\"read\"],\"default_action\":\"allow\"}", "default_action", NULL);
	refused("{\"allow\":[\"read\"],\"alow\":[]}", "unknown field", "alow");
	/* A control character in a quoted name does not break the line. */
	refused("{\"allow\":[\"read\"],\"a\\nb\":[]}", "unknown field", "\"a?b\"");
	/* cJSON would keep both and read the first: refused instead. */
	refused("{\"allow\":[\"read\",\"execve\"],\"allow\":[\"socket\"]}", "\"allow\" given twice", NULL);
	refused("{\"allow\":[\"execve\"],\"errno\":{\"EPERM\":[\"socket\"],\"EPERM\":[]}}",
		"errno: \"EPERM\" given twice", NULL);
	refused("{\"allow\":\"read\"}", "allow", "array");
	refused("{\"allow\":[1]}", "allow[0]", NULL);
	refused("{\"allow\":[\"socket if arg9 == 1\"]}", "bad entry", "arg9");
	refused("{\"allow\":[\"socket if arg0 == NOPE\"]}", "bad entry", NULL);
	refused("{\"allow\":[\"clone if arg0 == 0\"]}", "clone", NULL);
	refused("{\"allow\":[\"read\"],\"binds\":[\"relative/path\"]}", "binds[0]", NULL);
	refused("{\"allow\":[\"read\"],\"binds\":[\"/no/such/dir/anywhere\"]}", "binds[0]", "/no/such/dir");
	refused("{\"allow\":[\"read\"],\"binds\":[\"/usr/../etc\"]}", "binds[0]", NULL);
	refused("{\"allow\":[\"execve\"],\"binds\":[\"?relative\"]}", "binds[0]", NULL);
	refused("{\"allow\":[\"read\", \"write\"]}", "allow", "execve");
}

static void test_valid(void)
{
	struct wb_policy p;
	char err[256] = "";
	const char *text = "{\"description\":\"d\",\"default_action\":\"kill\","
			   "\"allow\":[\"read\",\"write\",\"execve\",\"socket if arg0 == AF_UNIX\"],"
			   "\"errno\":{\"EPERM\":[\"mkdir\"]},\"binds\":[\"/usr\"]}";

	CHECKF(parse(text, &p, err) == 0, "%s", err);
	CHECK(p.bpf != NULL && p.bpf_len > 4);
	CHECK(p.def == WB_POLICY_KILL);
	CHECK(p.nbinds == 1 && strcmp(p.binds[0], "/usr") == 0);
	CHECK(strcmp(p.description, "d") == 0);
	wb_policy_free(&p);
	/* "?PATH": bound when present, left out without an error when not. */
	CHECKF(parse("{\"allow\":[\"execve\"],\"binds\":[\"?/usr\",\"?/no/such/dir/anywhere\"]}", &p, err) == 0,
	       "%s", err);
	CHECK(p.nbinds == 1 && strcmp(p.binds[0], "/usr") == 0);
	wb_policy_free(&p);
	wb_policy_free(&p); /* twice: a freed policy is empty */
	wb_policy_free(NULL);
}

static void test_shipped(void)
{
	struct wb_policy p;
	char err[256] = "";
	char **names = NULL;
	size_t n = 0;
	int found = 0;

	CHECK(wb_policy_names(WB_TEST_POLICIES, &names, &n) == 0);
	for (size_t i = 0; i < n; i++) {
		found += strcmp(names[i], "default") == 0;
		CHECKF(wb_policy_load(WB_TEST_POLICIES, names[i], &p, err, sizeof(err)) == 0, "%s", err);
		wb_policy_free(&p);
	}
	CHECK(found == 1);
	wb_policy_names_free(names, n);
	CHECK(wb_policy_load(WB_TEST_POLICIES, "no-such-policy", &p, err, sizeof(err)) == -ENOENT);
	CHECKF(strstr(err, "no-such-policy") != NULL, "%s", err);
}

/* Installs the default policy in a child and checks what it lets through.
 * With the listener closed, a refused syscall fails with ENOSYS instead of
 * waiting for a job init. Exit code: 0, or the number of the failed step. */
static int filtered_child(const struct wb_policy *p)
{
	struct sock_fprog prog = {.len = (unsigned short)p->bpf_len, .filter = p->bpf};
	long listener;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 1;
	listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0)
		return 2;
	close((int)listener);
	if (getpid() <= 0)
		return 3;
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EACCES)
		return 4;
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != ENOSYS)
		return 5;
	if (syscall(SYS_ptrace, 0, 0, 0, 0) != -1 || errno != ENOSYS)
		return 6;
	/* clone3 is answered ENOSYS on purpose, so libc falls back to clone. */
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 7;
	/* Allowed in every policy; with nothing to restart the kernel says
	 * EINTR (a refused call would be ENOSYS here). */
	if (syscall(SYS_restart_syscall) != -1 || errno != EINTR)
		return 8;
	return 0;
}

static void test_filter(void)
{
	struct wb_policy p;
	char err[256] = "";
	int status = -1;
	pid_t pid;

	if (wb_policy_load(WB_TEST_POLICIES, "default", &p, err, sizeof(err)) < 0) {
		CHECKF(0, "%s", err);
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(filtered_child(&p));
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	wb_policy_free(&p);
}

/* No shipped policy lets a syscall of the dangerous set through, but
 * socket restricted to AF_UNIX (SPEC: allow only that, filtered on the
 * argument), and to AF_INET and AF_INET6 in net, the policy of network
 * jobs (their own namespace, through pasta). Refusing one through "errno"
 * is fine. The rules checked are the resolved ones: what a policy
 * includes is allowed as much as its own. */
static void test_no_dangerous_allowed(void)
{
	char **names = NULL, err[256] = "";
	size_t n = 0;

	CHECK(wb_policy_names(WB_TEST_POLICIES, &names, &n) == 0);
	CHECK(n >= 11); /* base, default, c, cpp, python, java, node, go, rust, compile, net */
	for (size_t i = 0; i < n; i++) {
		struct wb_policy p;

		if (wb_policy_load(WB_TEST_POLICIES, names[i], &p, err, sizeof(err)) < 0) {
			CHECKF(0, "%s", err);
			continue;
		}
		CHECKF(p.nallow > 0, "%s allows nothing", names[i]);
		for (size_t r = 0; r < p.nrules; r++) {
			const struct wb_policy_rule *rule = &p.rules[r];
			char name[64];

			if (rule->err != 0)
				continue;
			if (rule->nr == SYS_socket && rule->arg == 0 && rule->value == AF_UNIX)
				continue;
			if (strcmp(names[i], "net") == 0 && rule->nr == SYS_socket && rule->arg == 0 &&
			    (rule->value == AF_INET || rule->value == AF_INET6))
				continue;
			if (sscanf(rule->entry, "%63[a-z0-9_]", name) != 1)
				name[0] = '\0';
			CHECKF(!wb_dangerous_name(name) && !wb_dangerous_nr(rule->nr), "%s allows \"%s\"",
			       names[i], rule->entry);
		}
		wb_policy_free(&p);
	}
	wb_policy_names_free(names, n);
}

/* Reads README.md whole; NULL when it cannot. */
static char *read_readme(void)
{
	FILE *f = fopen(WB_TEST_README, "r");
	char *text = calloc(1, 1 << 21);
	size_t len;

	if (!f || !text) {
		if (f)
			fclose(f);
		free(text);
		return NULL;
	}
	len = fread(text, 1, (1 << 21) - 1, f);
	text[len] = '\0';
	fclose(f);
	return text;
}

/* README's table of the shipped policies states each one's resolved allow
 * count ("| `c`, `cpp` | for | 151 | ..."): every shipped policy has a row,
 * and loads with that count. */
static void test_readme_counts(void)
{
	char *text = read_readme(), *line, **names = NULL, err[256] = "";
	size_t n = 0, rows = 0;
	bool *seen;

	CHECKF(text != NULL, "cannot read %s", WB_TEST_README);
	CHECK(wb_policy_names(WB_TEST_POLICIES, &names, &n) == 0);
	seen = calloc(n + 1, sizeof(*seen));
	line = text ? strstr(text, "\n| policy | for | allowed |") : NULL;
	CHECKF(line != NULL, "no \"| policy | for | allowed |\" table in %s", WB_TEST_README);
	if (!line || !seen)
		goto out;
	line = strchr(line + 1, '\n');  /* the header's end; then the |---| line */
	line = line ? strchr(line + 1, '\n') : NULL;
	while (line && line[1] == '|') {
		char *row = line + 1, *end = strchr(row, '\n'), *cell2, *cell3, *q;
		long count;

		line = end;
		if (end)
			*end = '\0';
		cell2 = strchr(row + 1, '|');
		cell3 = cell2 ? strchr(cell2 + 1, '|') : NULL;
		count = cell3 ? strtol(cell3 + 1, &q, 10) : -1;
		CHECKF(cell3 && count > 0, "no count in README row: %s", row);
		if (!cell3 || count <= 0)
			continue;
		rows++;
		*cell2 = '\0';
		/* Each `name` in the first cell. */
		for (q = strchr(row, '`'); q; q = strchr(q, '`')) {
			char *close = strchr(q + 1, '`');
			struct wb_policy p;
			size_t k;

			if (!close)
				break;
			*close = '\0';
			for (k = 0; k < n && strcmp(names[k], q + 1) != 0; k++)
				;
			CHECKF(k < n, "README names a policy \"%s\" that is not shipped", q + 1);
			if (k < n && wb_policy_load(WB_TEST_POLICIES, names[k], &p, err, sizeof(err)) == 0) {
				seen[k] = true;
				CHECKF(p.nallow == (size_t)count, "%s allows %zu syscalls (resolved), README says %ld",
				       names[k], p.nallow, count);
				wb_policy_free(&p);
			} else if (k < n) {
				CHECKF(0, "%s", err);
			}
			q = close + 1;
		}
	}
	CHECK(rows > 0);
	for (size_t k = 0; k < n; k++)
		CHECKF(seen[k], "policy %s has no row in README's table", names[k]);
out:
	free(seen);
	wb_policy_names_free(names, n);
	free(text);
}

int main(void)
{
	test_errors();
	test_valid();
	test_shipped();
	test_no_dangerous_allowed();
	test_readme_counts();
	test_filter();
	return check_report("test_policy");
}
