/* idlock.h: claims a slot number no other warmbox on this host holds, so
 * that jobs running at the same time never share a host uid (DESIGN.md). */
#ifndef WB_IDLOCK_H
#define WB_IDLOCK_H

#define WB_IDLOCK_DIR "/run/warmbox"
#define WB_IDLOCK_MAX 65536

/* Takes the lowest free slot >= first with an exclusive flock on
 * WB_IDLOCK_DIR/slot-N.lock, held until wb_idlock_release or exit.
 * Returns the lock fd (*slot set) or -errno; -EAGAIN when all are taken. */
int wb_idlock_acquire(unsigned first, unsigned *slot);
void wb_idlock_release(int fd);

#endif
