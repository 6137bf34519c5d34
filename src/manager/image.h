/* image.h: the zygote's program (inside/main.c), built into warmbox and
 * handed to each new zygote as a sealed, read-only memfd to exec. */
#ifndef WB_IMAGE_H
#define WB_IMAGE_H

/* The memfd (close-on-exec, made on the first call and kept), or -errno. */
int wb_image_fd(void);

#endif
