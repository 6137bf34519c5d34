/* fdpass.c: SCM_RIGHTS over SOCK_SEQPACKET, with truncation checked and
 * surplus descriptors closed so a confused peer cannot leak fds into us. */
#include "proto/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

union cmsg_space {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * WB_FDPASS_MAX)];
};

int wb_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union cmsg_space u;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > WB_FDPASS_MAX)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t wb_fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds)
{
	union cmsg_space u;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	size_t max = nfds ? *nfds : 0, got = 0;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t cnt;
		int *in;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, in + i, sizeof(fd));
			if (got < max)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (nfds)
		*nfds = got;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}

int wb_fdpass_place(const int *fds, int n, int first)
{
	int parked[WB_FDPASS_MAX];

	if (n < 0 || n > WB_FDPASS_MAX || first < 0)
		return -EINVAL;
	/* Parked above every target first, so no dup2 overwrites a source
	 * that is itself one of the targets. */
	for (int i = 0; i < n; i++)
		if ((parked[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, first + n)) < 0)
			return -errno;
	for (int i = 0; i < n; i++)
		if (dup2(parked[i], first + i) < 0)
			return -errno;
	if (syscall(SYS_close_range, (unsigned)(first + n), ~0U, 0) < 0)
		return -errno;
	return 0;
}
