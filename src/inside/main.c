/* main.c: the zygote's own program. The manager execs it from the copy
 * embedded in warmbox (manager/image.c) in each new zygote, so that a spare
 * forked from it copies a few pages, not the manager's libraries and heap.
 *
 *   wb-zygote [BIND...]    with the control socket on fd 3, zsock on fd 4
 */
#include "inside/zygote.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>

static int is_seqpacket(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

int main(int argc, char **argv)
{
	struct wb_zygote_cfg cfg = {.ctl = 3, .zsock = 4};

	if (argc < 1 || !is_seqpacket(cfg.ctl) || !is_seqpacket(cfg.zsock)) {
		fprintf(stderr, "wb-zygote: part of warmbox, started by it only\n");
		return 2;
	}
	cfg.binds = argv + 1;
	cfg.nbinds = (size_t)argc - 1;
	wb_zygote_main(&cfg);
}
