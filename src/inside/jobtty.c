/* jobtty.c: a warmbox run --tty job's terminal. The pty comes from a devpts
 * instance of the job's own, mounted in its mount namespace: `tty` inside
 * names a path that exists there (/dev/pts/0), the host's /dev/pts is never
 * visible, and whatever the job does to a terminal (TIOCSTI, opening
 * /dev/pts/N) reaches only its own ptys. */
#include "inside/jobtty.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "manager/userns.h"
#include "proto/fdpass.h"
#include "proto/wire.h"

/* The job's terminal and whatever it opens itself (script, a nested
 * shell's pty): a few, bounded so that it cannot pile up ptys. */
#define JOB_PTYS "16"

/* The zygote's /dev serves every job of it and is read-only, so pts/ goes
 * on a /dev of this job's own, with the same nodes bound in. Sources are
 * named relative to the old /dev, which the new mount hides from paths
 * but not from a directory descriptor opened before. Closes olddev. */
static int bind_nodes(int olddev)
{
	DIR *d = fdopendir(olddev);
	struct dirent *e;
	char dst[300];
	int rc = 0, fd;

	if (!d) {
		rc = -errno;
		close(olddev);
		return rc;
	}
	if (fchdir(olddev) < 0)
		rc = -errno;
	while (rc == 0 && (e = readdir(d))) {
		/* The zygote's nodes are files with the host's devices bound
		 * over them: the directory lists the files. */
		if (e->d_type != DT_REG && e->d_type != DT_CHR)
			continue;
		snprintf(dst, sizeof(dst), "/dev/%s", e->d_name);
		fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 || close(fd) < 0 || mount(e->d_name, dst, NULL, MS_BIND, NULL) < 0)
			rc = -errno;
	}
	closedir(d);
	if (chdir("/") < 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int mount_dev(void)
{
	int old = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (old < 0)
		return -errno;
	/* nodev: the nodes are mounts of their own, and the devpts below
	 * lifts the restriction for its ptys only. */
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64") < 0) {
		rc = -errno;
		close(old);
		return rc;
	}
	if ((rc = bind_nodes(old)) < 0)
		return rc;
	if (mkdir("/dev/pts", 0755) < 0 || symlink("pts/ptmx", "/dev/ptmx") < 0)
		return -errno;
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,max=" JOB_PTYS) < 0)
		return -errno;
	if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/* The slave comes from TIOCGPTPEER, not from a path: nothing the job could
 * have placed can stand in for it. */
static int open_pty(const struct wb_msg_tty *size, int *master, int *slave)
{
	struct winsize ws = {.ws_row = size->rows, .ws_col = size->cols};
	int unlock = 0, m, s, rc;

	m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCSWINSZ, &ws) < 0)
		goto fail;
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	/* As login does: the terminal is its user's, who may reopen it by
	 * name (/dev/tty's target, ttyname). */
	if (fchown(s, WB_JOB_UID, WB_JOB_GID) < 0) {
		rc = -errno;
		close(s);
		close(m);
		return rc;
	}
	*master = m;
	*slave = s;
	return 0;
fail:
	rc = -errno;
	close(m);
	return rc;
}

int wb_jobtty_make(int chan, int *slave, int *stage)
{
	struct wb_msg_tty size, reply = {.type = WB_MSG_TTY_MASTER};
	int master, rc;
	ssize_t n;

	*stage = WB_STAGE_JOB_DECODE;
	n = wb_fdpass_recv(chan, &size, sizeof(size), NULL, NULL);
	if (n != (ssize_t)sizeof(size) || size.type != WB_MSG_TTY_SIZE)
		return n < 0 ? (int)n : -EBADMSG;
	*stage = WB_STAGE_JOB_MOUNTS;
	if ((rc = mount_dev()) < 0)
		return rc;
	*stage = WB_STAGE_FDS;
	if ((rc = open_pty(&size, &master, slave)) < 0)
		return rc;
	reply.rows = size.rows;
	reply.cols = size.cols;
	rc = wb_fdpass_send(chan, &reply, sizeof(reply), &master, 1);
	/* warmbox holds the only master from here on: when the job's last
	 * holder of the pty is gone, its reads end. */
	close(master);
	if (rc < 0) {
		close(*slave);
		*slave = -1;
	}
	return rc;
}
