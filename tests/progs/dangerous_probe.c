/* dangerous_probe NAME: makes one syscall of the set no policy may allow
 * (namespaces, mounts, tracing, modules, kexec, keys, BPF, perf, io_uring,
 * sockets, host-wide settings...) with the raw syscall() and harmless
 * arguments: were the kernel to carry it out, it would change nothing
 * outside this process (a nonexistent path, a bad magic number, a query, an
 * object that dies with the process). Prints "refused NAME errno=E (text)"
 * and exits 0 when the call fails, "ALLOWED NAME ret=R" and exits 1 when it
 * succeeds; a clone that succeeds has its child _exit(0) at once.
 * `dangerous_probe --list` prints every NAME, one a line; an unknown NAME
 * prints the usage and exits 2.
 * Expected in the sandbox under every policy: SV naming the syscall, or (for
 * a policy answering with an errno) "refused". Built static, so that it runs
 * under any policy without a loader or libraries in the box. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* x86_64 numbers of the syscalls newer than some C library headers. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* A path that exists nowhere, for calls that take one. */
#define NOWHERE "/nonexistent-warmbox-probe"

/* A fork-like clone (no new stack: the child returns here) with FLAGS; the
 * child, if any, exits at once. */
static long clone_with(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long p_clone_newuser(void) { return clone_with(CLONE_NEWUSER); }
static long p_clone_newns(void) { return clone_with(CLONE_NEWNS); }
static long p_clone_newnet(void) { return clone_with(CLONE_NEWNET); }
static long p_clone_newpid(void) { return clone_with(CLONE_NEWPID); }
static long p_clone_newipc(void) { return clone_with(CLONE_NEWIPC); }
static long p_clone_newuts(void) { return clone_with(CLONE_NEWUTS); }
static long p_clone_newcgroup(void) { return clone_with(CLONE_NEWCGROUP); }

/* Any clone3 is dangerous: its flags are in memory, out of a filter's reach.
 * This one is a plain fork. The struct is the kernel's clone_args up to
 * CLONE_ARGS_SIZE_VER0 (<linux/sched.h> clashes with <sched.h>). */
static long p_clone3(void)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args = {.exit_signal = SIGCHLD};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long p_unshare(void) { return syscall(SYS_unshare, CLONE_NEWUSER); }
static long p_setns(void) { return syscall(SYS_setns, -1, 0); }

/* Tracing and reaching into processes: only this one. */
static long p_ptrace(void) { return syscall(SYS_ptrace, PTRACE_TRACEME, 0L, 0L, 0L); }

static long p_process_vm_readv(void)
{
	char from[8] = "probe", to[8];
	struct iovec local = {to, sizeof(to)}, remote = {from, sizeof(from)};

	return syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL);
}

static long p_process_vm_writev(void)
{
	char from[8] = "probe", to[8];
	struct iovec local = {from, sizeof(from)}, remote = {to, sizeof(to)};

	return syscall(SYS_process_vm_writev, getpid(), &local, 1UL, &remote, 1UL, 0UL);
}

static long p_kcmp(void) { return syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 1L, 1L); }
static long p_pidfd_getfd(void) { return syscall(SYS_pidfd_getfd, -1, 0, 0); }

/* Mounts, old API and new. */
static long p_mount(void) { return syscall(SYS_mount, NOWHERE "-src", NOWHERE, NULL, (unsigned long)MS_BIND, NULL); }
static long p_umount2(void) { return syscall(SYS_umount2, NOWHERE, 0); }
static long p_pivot_root(void) { return syscall(SYS_pivot_root, NOWHERE, NOWHERE); }
static long p_chroot(void) { return syscall(SYS_chroot, "/"); }
static long p_fsopen(void) { return syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC); }
static long p_fsconfig(void) { return syscall(SYS_fsconfig, -1, FSCONFIG_CMD_CREATE, NULL, NULL, 0); }
static long p_fsmount(void) { return syscall(SYS_fsmount, -1, 0, 0); }
static long p_fspick(void) { return syscall(SYS_fspick, AT_FDCWD, "/", FSPICK_CLOEXEC); }
static long p_open_tree(void) { return syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC); }
static long p_move_mount(void)
{
	return syscall(SYS_move_mount, -1, "", AT_FDCWD, NOWHERE, MOVE_MOUNT_F_EMPTY_PATH);
}
static long p_mount_setattr(void) { return syscall(SYS_mount_setattr, -1, "", 0, NULL, 0UL); }

/* File handles: the "shocker" escape from containers pairs these two. */
static long p_name_to_handle_at(void)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h = {.fh.handle_bytes = MAX_HANDLE_SZ};
	int mount_id;

	return syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h.fh, &mount_id, 0);
}

static long p_open_by_handle_at(void)
{
	struct file_handle fh = {.handle_bytes = 0};

	return syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
}

/* BPF, perf, keys, userfaultfd, io_uring: objects that die with the process. */
static long p_bpf(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static long p_perf_event_open(void)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL);
}

static long p_keyctl(void) { return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1); }
static long p_add_key(void)
{
	return syscall(SYS_add_key, "user", "warmbox-probe", "x", 1UL, KEY_SPEC_THREAD_KEYRING);
}
static long p_request_key(void)
{
	return syscall(SYS_request_key, "user", "warmbox-probe-absent", NULL, KEY_SPEC_THREAD_KEYRING);
}
static long p_userfaultfd(void) { return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY); }

static long p_io_uring_setup(void)
{
	struct io_uring_params params;

	memset(&params, 0, sizeof(params));
	return syscall(SYS_io_uring_setup, 1U, &params);
}
static long p_io_uring_enter(void) { return syscall(SYS_io_uring_enter, -1, 0U, 0U, 0U, NULL, 0UL); }
static long p_io_uring_register(void) { return syscall(SYS_io_uring_register, -1, 0U, NULL, 0U); }

/* Kernel code, power, swap: nonexistent or invalid, refused before any effect. */
static long p_kexec_load(void) { return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL); }
static long p_kexec_file_load(void) { return syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0xdead0000UL); }
static long p_init_module(void) { return syscall(SYS_init_module, NULL, 0UL, ""); }
static long p_finit_module(void) { return syscall(SYS_finit_module, -1, "", 0); }
static long p_delete_module(void) { return syscall(SYS_delete_module, "warmbox_no_such_module", O_NONBLOCK); }
static long p_reboot(void) { return syscall(SYS_reboot, 0xdead, 0xbeef, LINUX_REBOOT_CMD_CAD_OFF, NULL); }
static long p_swapon(void) { return syscall(SYS_swapon, NOWHERE, 0); }
static long p_swapoff(void) { return syscall(SYS_swapoff, NOWHERE); }
static long p_acct(void) { return syscall(SYS_acct, NOWHERE); }
static long p_quotactl(void)
{
	uint32_t fmt;

	return syscall(SYS_quotactl, QCMD(Q_GETFMT, USRQUOTA), NOWHERE, 0, &fmt);
}
static long p_quotactl_fd(void)
{
	uint32_t fmt;

	return syscall(SYS_quotactl_fd, -1, QCMD(Q_GETFMT, USRQUOTA), 0, &fmt);
}

/* Host-wide settings: no-ops or invalid values. */
static long p_settimeofday(void) { return syscall(SYS_settimeofday, NULL, NULL); }
static long p_clock_settime(void)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = -1};

	return syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
}
static long p_clock_adjtime(void)
{
	struct timex tx = {.modes = ADJ_TICK, .tick = 1};

	return syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
}
static long p_adjtimex(void)
{
	struct timex tx = {.modes = ADJ_TICK, .tick = 1};

	return syscall(SYS_adjtimex, &tx);
}
/* One byte longer than a host or domain name may be. */
static char too_long_name[65];
static long p_sethostname(void) { return syscall(SYS_sethostname, too_long_name, sizeof(too_long_name)); }
static long p_setdomainname(void) { return syscall(SYS_setdomainname, too_long_name, sizeof(too_long_name)); }
static long p_syslog(void) { return syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0); }
/* Lowering the I/O privilege and clearing a port's permission need no
 * capability and change nothing for a process that never had them. */
static long p_iopl(void) { return syscall(SYS_iopl, 0); }
static long p_ioperm(void) { return syscall(SYS_ioperm, 0x80UL, 1UL, 0); }
static long p_personality(void) { return syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC); }
static long p_fanotify_init(void) { return syscall(SYS_fanotify_init, FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY); }
static long p_lookup_dcookie(void) { return syscall(SYS_lookup_dcookie, 0ULL, NULL, 0UL); }
static long p_uselib(void) { return syscall(SYS_uselib, NOWHERE); }
static long p_nfsservctl(void) { return syscall(SYS_nfsservctl, 0, NULL, NULL); }
static long p_memfd_secret(void) { return syscall(SYS_memfd_secret, 0U); }

/* Hangs up the controlling terminal: run only without one (as in the
 * sandbox, where the job has called setsid), where it does nothing. */
static long p_vhangup(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0) {
		fprintf(stderr, "dangerous_probe: vhangup not tried: this process has a controlling terminal\n");
		exit(3);
	}
	return syscall(SYS_vhangup);
}

static long p_mknod_chardev(void)
{
	return syscall(SYS_mknod, NOWHERE "/null", S_IFCHR | 0666, makedev(1, 3));
}
static long p_mknodat_chardev(void)
{
	return syscall(SYS_mknodat, AT_FDCWD, NOWHERE "/null", S_IFCHR | 0666, makedev(1, 3));
}

/* Sockets: the job has no network, and AF_VSOCK is not namespaced. */
static long p_socket_inet(void) { return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }
static long p_socket_inet6(void) { return syscall(SYS_socket, AF_INET6, SOCK_STREAM, 0); }
static long p_socket_netlink(void) { return syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); }
static long p_socket_packet(void) { return syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0); }
static long p_socket_vsock(void) { return syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0); }

static const struct probe {
	const char *name;
	long (*call)(void);
} probes[] = {
	{"ptrace", p_ptrace},
	{"process_vm_readv", p_process_vm_readv},
	{"process_vm_writev", p_process_vm_writev},
	{"kcmp", p_kcmp},
	{"pidfd_getfd", p_pidfd_getfd},
	{"mount", p_mount},
	{"umount2", p_umount2},
	{"pivot_root", p_pivot_root},
	{"chroot", p_chroot},
	{"fsopen", p_fsopen},
	{"fsconfig", p_fsconfig},
	{"fsmount", p_fsmount},
	{"fspick", p_fspick},
	{"open_tree", p_open_tree},
	{"move_mount", p_move_mount},
	{"mount_setattr", p_mount_setattr},
	{"unshare", p_unshare},
	{"setns", p_setns},
	{"clone_newuser", p_clone_newuser},
	{"clone_newns", p_clone_newns},
	{"clone_newnet", p_clone_newnet},
	{"clone_newpid", p_clone_newpid},
	{"clone_newipc", p_clone_newipc},
	{"clone_newuts", p_clone_newuts},
	{"clone_newcgroup", p_clone_newcgroup},
	{"clone3", p_clone3},
	{"name_to_handle_at", p_name_to_handle_at},
	{"open_by_handle_at", p_open_by_handle_at},
	{"bpf", p_bpf},
	{"perf_event_open", p_perf_event_open},
	{"keyctl", p_keyctl},
	{"add_key", p_add_key},
	{"request_key", p_request_key},
	{"userfaultfd", p_userfaultfd},
	{"io_uring_setup", p_io_uring_setup},
	{"io_uring_enter", p_io_uring_enter},
	{"io_uring_register", p_io_uring_register},
	{"kexec_load", p_kexec_load},
	{"kexec_file_load", p_kexec_file_load},
	{"init_module", p_init_module},
	{"finit_module", p_finit_module},
	{"delete_module", p_delete_module},
	{"reboot", p_reboot},
	{"swapon", p_swapon},
	{"swapoff", p_swapoff},
	{"acct", p_acct},
	{"quotactl", p_quotactl},
	{"quotactl_fd", p_quotactl_fd},
	{"settimeofday", p_settimeofday},
	{"clock_settime", p_clock_settime},
	{"clock_adjtime", p_clock_adjtime},
	{"adjtimex", p_adjtimex},
	{"sethostname", p_sethostname},
	{"setdomainname", p_setdomainname},
	{"syslog", p_syslog},
	{"iopl", p_iopl},
	{"ioperm", p_ioperm},
	{"personality_change", p_personality},
	{"fanotify_init", p_fanotify_init},
	{"lookup_dcookie", p_lookup_dcookie},
	{"uselib", p_uselib},
	{"nfsservctl", p_nfsservctl},
	{"memfd_secret", p_memfd_secret},
	{"vhangup", p_vhangup},
	{"mknod_chardev", p_mknod_chardev},
	{"mknodat_chardev", p_mknodat_chardev},
	{"socket_inet", p_socket_inet},
	{"socket_inet6", p_socket_inet6},
	{"socket_netlink", p_socket_netlink},
	{"socket_packet", p_socket_packet},
	{"socket_vsock", p_socket_vsock},
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

int main(int argc, char **argv)
{
	const char *ename;
	long r;
	int e;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NPROBES; i++)
			printf("%s\n", probes[i].name);
		return 0;
	}
	for (size_t i = 0; argc == 2 && i < NPROBES; i++) {
		if (strcmp(argv[1], probes[i].name) != 0)
			continue;
		errno = 0;
		r = probes[i].call();
		e = errno;
		if (r >= 0) {
			printf("ALLOWED %s ret=%ld\n", probes[i].name, r);
			return 1;
		}
		ename = strerrorname_np(e);
		if (ename)
			printf("refused %s errno=%s (%s)\n", probes[i].name, ename, strerror(e));
		else
			printf("refused %s errno=%d (%s)\n", probes[i].name, e, strerror(e));
		return 0;
	}
	fprintf(stderr, "usage: dangerous_probe NAME | --list\n"
			"  makes the one dangerous syscall NAME (see --list) with harmless arguments\n");
	return 2;
}
