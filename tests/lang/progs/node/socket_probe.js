// socket_probe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
// exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
// error). Inside the sandbox a connect must never succeed.
'use strict';
const net = require('net');

if (process.argv.length < 3) {
	console.error('usage: node socket_probe.js PORT');
	process.exit(2);
}
const sock = net.connect({ host: '127.0.0.1', port: Number(process.argv[2]), timeout: 5000 });
sock.on('connect', () => {
	console.log('connected');
	sock.destroy();
	process.exitCode = 0;
});
sock.on('timeout', () => {
	console.log('connect: timed out');
	process.exit(3);
});
sock.on('error', (e) => {
	console.log(`connect: ${e.message}`);
	process.exit(3);
});
