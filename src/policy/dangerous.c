/* dangerous.c: the syscalls no policy may allow, by name for the policy
 * checks and by number for warmbox learn's answers. */
#include "policy/dangerous.h"

#include <seccomp.h>
#include <string.h>

/* Above every x86_64 syscall number. */
#define DANGEROUS_NR 512

/* What no shipped policy allows, learned or not: tracing and reaching into
 * other processes, mounts and namespaces, kernel modules and kexec, keys,
 * BPF and perf, io_uring (its own syscall-free path around any filter),
 * userfaultfd, host-wide settings, and sockets (a job has no network but
 * its own, through pasta, and only the net policy allows AF_INET/AF_INET6). */
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

bool wb_dangerous_name(const char *name)
{
	for (size_t i = 0; i < sizeof(dangerous) / sizeof(dangerous[0]); i++)
		if (strcmp(dangerous[i], name) == 0)
			return true;
	return false;
}

bool wb_dangerous_nr(int nr)
{
	static bool table[DANGEROUS_NR], ready;

	if (!ready) {
		for (size_t i = 0; i < sizeof(dangerous) / sizeof(dangerous[0]); i++) {
			int n = seccomp_syscall_resolve_name(dangerous[i]);

			if (n >= 0 && n < DANGEROUS_NR)
				table[n] = true;
		}
		ready = true;
	}
	return nr >= 0 && nr < DANGEROUS_NR && table[nr];
}
