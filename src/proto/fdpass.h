/* fdpass.h: one message plus up to WB_FDPASS_MAX file descriptors over a
 * SOCK_SEQPACKET socket (SCM_RIGHTS). Async-signal-safe: no allocation. */
#ifndef WB_FDPASS_H
#define WB_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* A job's: five fixed, a CPU usage file, WB_MAX_REFS files by ref. */
#define WB_FDPASS_MAX 40

/* Sends len bytes and nfds descriptors in one message. 0 or -errno. */
int wb_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* Receives one message. Returns its length (0 at end of stream) or -errno;
 * -EMSGSIZE if the message or its descriptors were truncated (all received
 * descriptors are closed then). Received fds are close-on-exec. */
ssize_t wb_fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds);

/* In a child about to become something else: moves fds[i] to first + i,
 * without close-on-exec, and closes every descriptor from first + n up.
 * Those below first stay. At most WB_FDPASS_MAX. 0 or -errno. */
int wb_fdpass_place(const int *fds, int n, int first);

#endif
