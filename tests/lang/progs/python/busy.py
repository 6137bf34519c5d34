# busy: spins on the CPU forever. Expected verdict: TL.
n = 0
while True:
    n += 1
