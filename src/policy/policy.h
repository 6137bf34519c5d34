/* policy.h: seccomp policies (SPEC.md "Policies"): finding, parsing and
 * compiling them once to BPF with libseccomp. No syscall is filtered here. */
#ifndef WB_POLICY_H
#define WB_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <sched.h>

enum wb_policy_default {
	WB_POLICY_KILL,      /* refused syscall ends the job with SV */
	WB_POLICY_ERRNO,     /* refused syscall fails with EPERM */
};

struct wb_policy {
	char *name;
	char *description;
	enum wb_policy_default def;
	char **binds;        /* NULL-terminated absolute host paths */
	size_t nbinds;
	struct sock_filter *bpf;
	size_t bpf_len;      /* instructions */
	int learn;           /* wb_policy_learn: every syscall goes to the job init */
};

/* Namespace flags a job must never pass to clone(): a new user namespace
 * would hand the program a full capability set over fresh namespaces.
 * Every compiled policy refuses them; warmbox learn too. */
#define WB_POLICY_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
			    CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)

/* The fixed fd through which the program hands its seccomp listener to the
 * job init before execve; every compiled filter lets it through. */
#define WB_POLICY_HANDOFF_FD 3

/* The directory policies come from: explicit, $WARMBOX_POLICIES, installed,
 * source tree (SPEC order). Returns a static or caller-owned string. */
const char *wb_policy_dir(const char *explicit_dir);

/* Parses and compiles one policy from JSON text. name labels messages. On
 * error returns negative errno and writes "FILE: what" into err. */
int wb_policy_parse(const char *name, const char *text, size_t len,
		    struct wb_policy *p, char *err, size_t errlen);

/* Loads DIR/NAME.json. -ENOENT when there is no such policy. */
int wb_policy_load(const char *dir, const char *name, struct wb_policy *p,
		   char *err, size_t errlen);

/* Turns a loaded policy into warmbox learn's: its binds stay, its filter
 * becomes one that notifies the job init of every syscall but execve and
 * the handoff rules (inside/learn.c decides and counts). 0 or -errno with err. */
int wb_policy_learn(struct wb_policy *p, char *err, size_t errlen);

/* Names of the policies in dir, sorted; caller frees with wb_policy_names_free. */
int wb_policy_names(const char *dir, char ***names, size_t *n);
void wb_policy_names_free(char **names, size_t n);

/* Syscall name for the native arch, malloc'd, or NULL when unknown. */
char *wb_policy_syscall_name(int nr);

void wb_policy_free(struct wb_policy *p);

#endif
