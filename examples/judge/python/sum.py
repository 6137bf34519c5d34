# sum: reads whitespace-separated integers from stdin until EOF and prints
# their sum and a newline. Python ints are unbounded, so this is exact for
# any input; the judge's bound is signed 64-bit values and partial sums.
# Run: python3 sum.py
import sys


def main():
    print(sum(map(int, sys.stdin.buffer.read().split())))


main()
