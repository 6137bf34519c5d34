// busy: spins on the CPU forever (JavaScript has no forward-progress rule,
// so V8 never removes an infinite loop). Expected verdict: TL.
'use strict';
let n = 0;
for (;;)
	n++;
