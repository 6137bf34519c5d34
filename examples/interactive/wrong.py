# wrong.py: answers 1 without asking; a wrong answer unless the number is 1
# (examples/interactive).
import sys

sys.stdin.readline()
print("! 1", flush=True)
