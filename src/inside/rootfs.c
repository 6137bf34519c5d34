/* rootfs.c: building the zygote's root filesystem. Everything here runs once
 * per zygote, off the hot path; a job only adds /box, /tmp and /proc. */
#include "inside/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "manager/userns.h"

/* Any directory every host has will do as the mount point of the new root:
 * the mount is private to our namespace and vanishes with pivot_root. */
#define NEWROOT "/tmp"

static const char *const system_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
};

/* The few /etc entries programs read: the loader cache, time zone, name
 * service switch and alternatives (Debian's awk, java, ...). */
static const char *const etc_entries[] = {
	"/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/alternatives",
};

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom"};

static int path_in_root(char *out, const char *path)
{
	if (snprintf(out, PATH_MAX, "%s%s", NEWROOT, path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A bind mount in a user namespace may not drop the flags the source mount
 * has locked (noexec, atime); carry them over and add ro, nosuid, nodev. */
static unsigned long locked_flags(const char *src)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(src, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int bind_ro(const char *src, const char *dst)
{
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;

	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount(NULL, dst, NULL, flags | locked_flags(src), NULL) < 0)
		return -errno;
	return 0;
}

/* Recreates a host path inside the new root: a symlink as the same symlink
 * (merged-/usr hosts have /bin -> usr/bin), a directory or file as a
 * read-only bind. A missing optional path is skipped. */
static int mirror(const char *path, int optional)
{
	char dst[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc;

	if (lstat(path, &st) < 0)
		return optional && errno == ENOENT ? 0 : -errno;
	if ((rc = path_in_root(dst, path)) < 0)
		return rc;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlink(target, dst) < 0 && errno != EEXIST)
			return -errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((rc = mkdir_p(dst, 0755)) < 0)
			return rc;
	} else {
		int fd;
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", dst);
		*strrchr(parent, '/') = '\0';
		if ((rc = mkdir_p(parent, 0755)) < 0)
			return rc;
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return bind_ro(path, dst);
}

static int write_file(const char *path, const char *text)
{
	char dst[PATH_MAX];
	size_t len = strlen(text);
	int fd, rc = 0;

	if ((rc = path_in_root(dst, path)) < 0)
		return rc;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = -EIO;
	close(fd);
	return rc;
}

/* The job sees only its own account names, never the host's. */
static int make_etc(void)
{
	char passwd[256], group[256];
	int rc;

	snprintf(passwd, sizeof(passwd),
		 "root:x:0:0:root:/:/usr/sbin/nologin\njudge:x:%d:%d:judge:/box:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", WB_JOB_UID, WB_JOB_GID);
	snprintf(group, sizeof(group), "root:x:0:\njudge:x:%d:\nnogroup:x:65534:\n", WB_JOB_GID);
	if ((rc = mkdir_p(NEWROOT "/etc", 0755)) < 0)
		return rc;
	if ((rc = write_file("/etc/passwd", passwd)) < 0 || (rc = write_file("/etc/group", group)) < 0 ||
	    (rc = write_file("/etc/hostname", "warmbox\n")) < 0 ||
	    (rc = write_file("/etc/hosts", "127.0.0.1 localhost warmbox\n::1 localhost\n")) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(etc_entries) / sizeof(etc_entries[0]); i++)
		if ((rc = mirror(etc_entries[i], 1)) < 0)
			return rc;
	return 0;
}

/* Device nodes cannot be created in a user namespace; bind the host's. */
static int make_dev(void)
{
	int rc;

	if ((rc = mkdir_p(NEWROOT "/dev", 0755)) < 0)
		return rc;
	if (mount("tmpfs", NEWROOT "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		char src[64], dst[PATH_MAX];
		int fd;

		snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
		snprintf(dst, sizeof(dst), NEWROOT "/dev/%s", dev_nodes[i]);
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			return -errno;
		close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return -errno;
		if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC | locked_flags(src), NULL) < 0)
			return -errno;
	}
	if (mount(NULL, NEWROOT "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

int wb_rootfs_build(char *const *binds, size_t nbinds)
{
	int rc;

	/* Our mounts must not propagate back to the host (and the host's must
	 * not appear here later). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096") < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
		if ((rc = mirror(system_dirs[i], 1)) < 0)
			return rc;
	if ((rc = make_etc()) < 0)
		return rc;
	for (size_t i = 0; i < nbinds; i++)
		if ((rc = mirror(binds[i], 0)) < 0)
			return rc;
	if ((rc = make_dev()) < 0)
		return rc;
	if (mkdir(NEWROOT "/box", 0755) < 0 || mkdir(NEWROOT "/tmp", 01777) < 0 ||
	    mkdir(NEWROOT "/proc", 0555) < 0)
		return -errno;
	/* A proc of the zygote's pid namespace, mounted while the host's /proc
	 * is still visible: the kernel lets a job mount its own proc only over
	 * an existing, fully visible one. */
	if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return -errno;
	if (chdir(NEWROOT) < 0)
		return -errno;
	/* pivot_root(".", ".") stacks the old root under the new one; detaching
	 * it leaves no path back to the host's tree. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	return 0;
}
