// busy: spins on the CPU forever; volatile reads and writes keep the
// optimizer from removing the loop (std::hint::black_box needs Rust 1.66).
// Expected verdict: TL.
fn main() {
    let mut n: u64 = 0;
    let p: *mut u64 = &mut n;
    loop {
        unsafe { std::ptr::write_volatile(p, std::ptr::read_volatile(p).wrapping_add(1)) };
    }
}
