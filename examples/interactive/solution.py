# solution.py: guess the number by binary search (examples/interactive).
import sys

n = int(sys.stdin.readline())
lo, hi = 1, n
while lo < hi:
    mid = (lo + hi) // 2
    print("?", mid, flush=True)  # the judge waits for the line
    answer = sys.stdin.readline().strip()
    if answer == "=":
        lo = hi = mid
    elif answer == "<":
        hi = mid - 1
    else:
        lo = mid + 1
print("!", lo, flush=True)
