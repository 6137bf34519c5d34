/* policy.h: seccomp policies (SPEC.md "Policies"): finding, parsing,
 * merging what they include, and compiling them once to BPF with
 * libseccomp. No syscall is filtered here. */
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

/* One rule of a policy, resolved: its own and those of every policy it
 * includes, merged (README "Policies"). */
struct wb_policy_rule {
	char *entry;         /* as written: "NAME" or "NAME if argN == VALUE" */
	int nr;              /* the syscall (native arch) */
	int arg;             /* -1: any arguments; else the one the rule tests */
	uint64_t value;      /* ...which must equal this */
	int err;             /* 0: allowed; else the errno the call fails with */
};

struct wb_policy {
	char *name;
	char *description;
	enum wb_policy_default def;
	char **binds;        /* NULL-terminated absolute host paths, resolved */
	size_t nbinds;
	char **includes;     /* NULL-terminated: its own "include", as given */
	size_t nincludes;
	struct wb_policy_rule *rules;  /* allow and errno, resolved */
	size_t nrules;
	size_t nallow;       /* of rules, those with err 0 */
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

/* Where the policies a policy includes come from (load.c: its own
 * directory; a test: strings). */
struct wb_policy_source {
	const char *name;    /* the including policy's own name, for cycles */
	/* Reads the policy NAME: 0 with *text (malloc'd, NUL-terminated) of
	 * *len bytes and *label (malloc'd) naming it in messages; -ENOENT when
	 * there is none, another -errno otherwise; err says what, unlabelled. */
	int (*read)(void *ctx, const char *name, char **label, char **text, size_t *len,
		    char *err, size_t errlen);
	void *ctx;
};

/* wb_policy_parse for a policy that may "include" others: they are read
 * through src (NULL: an include is an error), recursively, and their allow,
 * errno and binds merged in; everything else is the including policy's. */
int wb_policy_resolve(const char *name, const char *text, size_t len, const struct wb_policy_source *src,
		      struct wb_policy *p, char *err, size_t errlen);

/* Loads DIR/NAME.json, with the policies it includes from DIR. -ENOENT when there is no such policy. */
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
