// sum: reads whitespace-separated signed 64-bit integers from stdin until
// EOF and prints their sum and a newline.
// Bound: every input and every partial sum must fit in an i64 (an overflow
// wraps in a release build); the test inputs keep |sum| well below 2^53.
// Build: rustc -O -o sum sum.rs
use std::io::{self, Read, Write};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).expect("read stdin");
    let sum: i64 = input
        .split_ascii_whitespace()
        .map(|t| t.parse::<i64>().expect("not an integer"))
        .sum();
    let out = io::stdout();
    let mut out = out.lock();
    writeln!(out, "{}", sum).expect("write stdout");
}
