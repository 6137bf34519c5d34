/* interact.h: what an interactive job (SPEC "Interactive jobs") adds to two
 * slots' runs: the pipes crosswise, the CPU both sides share, one result. */
#ifndef WB_INTERACT_H
#define WB_INTERACT_H

#include "core/result.h"
#include "manager/slot.h"

enum { WB_SIDE_PROGRAM, WB_SIDE_INTERACTOR, WB_SIDES };

/* The two pipes, w[WB_SIDE_PROGRAM] reading what the interactor writes and
 * the other way round, and the one CPU both run on. 0 or -errno. */
int wb_interact_wire(struct wb_slot_wiring w[WB_SIDES]);

/* Closes the manager's copies once both sides have theirs (or one could
 * not be sent): from then on a side that ends is seen to end. */
void wb_interact_unwire(struct wb_slot_wiring w[WB_SIDES]);

/* The job's result: the program's, with the interactor's inside it; a
 * sandbox failure on either side makes it XX. Takes both (either may be
 * NULL after an allocation failure); NULL when the program's is. */
struct wb_result *wb_interact_merge(struct wb_result *program, struct wb_result *interactor);

#endif
