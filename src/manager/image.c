/* image.c: the zygote's program (inside/main.c), built into warmbox and
 * handed to each new zygote as a sealed, read-only memfd to exec. */
#include "manager/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say so, or a host may refuse the exec */
#endif

/* The build puts the program's bytes here (CMakeLists.txt, WB_ZYGOTE_IMAGE):
 * one binary to install, and no file a host could swap under a running
 * daemon. */
extern const unsigned char wb_zygote_image[], wb_zygote_image_end[];
__asm__(".section .rodata\n"
	".balign 64\n"
	".globl wb_zygote_image\n"
	"wb_zygote_image:\n"
	".incbin \"" WB_ZYGOTE_IMAGE "\"\n"
	".globl wb_zygote_image_end\n"
	"wb_zygote_image_end:\n"
	".previous\n");

static int image_fd = -1;

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Sealed, then opened again read-only: an exec refuses a file someone
 * holds open for writing (ETXTBSY), and the writable descriptor goes. */
static int make_image(void)
{
	char path[64];
	int fd, ro = -1, rc;

	fd = memfd_create("wb-zygote", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("wb-zygote", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, wb_zygote_image, (size_t)(wb_zygote_image_end - wb_zygote_image));
	if (rc == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		rc = -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (rc == 0 && (ro = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = -errno;
	close(fd);
	return rc < 0 ? rc : ro;
}

int wb_image_fd(void)
{
	if (image_fd < 0)
		image_fd = make_image();
	return image_fd;
}
