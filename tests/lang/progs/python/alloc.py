# alloc: allocates 2 GiB in 16 MiB bytearrays, writes one byte in every
# 4 KiB page of each (bytearray(n) may come from calloc's untouched zero
# pages) and keeps them all in a list, then prints "allocated 2048 MiB".
# Prints how far it got and exits 3 on MemoryError.
# Expected verdict: ML under any memory limit below 2 GiB.
import sys

STEP = 16 << 20
TOTAL = 2048 << 20
PAGE = 4096

blocks = []
try:
    for i in range(TOTAL // STEP):
        b = bytearray(STEP)
        b[::PAGE] = bytes([(i + 1) & 0xFF]) * (STEP // PAGE)
        blocks.append(b)
except MemoryError:
    print(f"MemoryError after {len(blocks) * (STEP >> 20)} MiB", flush=True)
    sys.exit(3)
print(f"allocated {TOTAL >> 20} MiB")
