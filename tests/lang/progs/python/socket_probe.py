# socket_probe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
# exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
# error). Inside the sandbox a connect must never succeed.
import socket
import sys

if len(sys.argv) < 2:
    print("usage: socket_probe.py PORT", file=sys.stderr)
    sys.exit(2)
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5):
        pass
except OSError as e:
    print(f"connect: {e}", flush=True)
    sys.exit(3)
print("connected")
