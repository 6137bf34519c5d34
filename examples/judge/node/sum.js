// sum: reads whitespace-separated signed 64-bit integers from stdin until
// EOF and prints their sum and a newline.
// Exact for any signed 64-bit input (the judge's bound on values and partial
// sums): a token of up to 15 digits (< 2^50) is parsed by hand into a Number
// and added to a Number accumulator, which is moved into a BigInt before it
// can pass 2^53; a longer token goes through BigInt directly. This is several
// times faster than split(/\s+/) with BigInt() on every token.
// Run: node sum.js
'use strict';
const fs = require('fs');

const buf = fs.readFileSync(0);
const n = buf.length;
const LIMIT = 2 ** 52;
let total = 0n;
let acc = 0;
let i = 0;

for (;;) {
	while (i < n && buf[i] <= 0x20) // skip whitespace
		i++;
	if (i >= n)
		break;
	const start = i;
	const neg = buf[i] === 0x2d; // '-'
	if (neg || buf[i] === 0x2b) // '+'
		i++;
	const digits = i;
	let v = 0;
	while (i < n && buf[i] >= 0x30 && buf[i] <= 0x39) {
		v = v * 10 + (buf[i] - 0x30);
		i++;
	}
	if (i === digits || (i < n && buf[i] > 0x20)) {
		process.stderr.write('not an integer at byte ' + start + '\n');
		process.exit(1);
	}
	if (i - digits > 15) {
		total += BigInt(buf.toString('latin1', start, i));
		continue;
	}
	acc += neg ? -v : v;
	if (acc > LIMIT || acc < -LIMIT) {
		total += BigInt(acc);
		acc = 0;
	}
}
total += BigInt(acc);
process.stdout.write(total.toString() + '\n');
