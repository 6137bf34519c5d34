// alloc: allocates 2 GiB in 16 MiB Buffers (outside the V8 heap, so
// --max-old-space-size does not cap them), writes one byte in every 4 KiB
// page of each and keeps them all in an array, then prints
// "allocated 2048 MiB". Prints how far it got and exits 3 if an allocation
// throws. Expected verdict: ML under any memory limit below 2 GiB.
'use strict';
const STEP = 16 << 20;
const TOTAL = 2048 * (1 << 20);
const PAGE = 4096;

const blocks = [];
try {
	for (let i = 0; i < TOTAL / STEP; i++) {
		const b = Buffer.alloc(STEP);
		for (let off = 0; off < STEP; off += PAGE)
			b[off] = (i + 1) & 0xff;
		blocks.push(b);
	}
} catch (e) {
	console.log(`${e.name} after ${blocks.length * (STEP >> 20)} MiB`);
	process.exit(3);
}
console.log(`allocated ${TOTAL / (1 << 20)} MiB`);
