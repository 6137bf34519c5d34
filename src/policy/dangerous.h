/* dangerous.h: the dangerous set, the syscalls no policy should allow
 * (tracing, mounts and namespaces, modules, keys, BPF, io_uring, sockets...). */
#ifndef WB_DANGEROUS_H
#define WB_DANGEROUS_H

#include <stdbool.h>

/* Whether the syscall of that name is in the set; socket is, as the
 * sandbox has no network to offer. */
bool wb_dangerous_name(const char *name);

/* The same by x86_64 syscall number (a table libseccomp fills on the
 * first call). */
bool wb_dangerous_nr(int nr);

#endif
