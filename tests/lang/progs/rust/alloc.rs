// alloc: allocates 2 GiB in 16 MiB vectors, writes one byte in every 4 KiB
// page of each (vec![0; n] may come from calloc's untouched zero pages) and
// keeps them all, then prints "allocated 2048 MiB". A failed allocation
// aborts the process ("memory allocation of N bytes failed", SIGABRT).
// Expected verdict: ML under any memory limit below 2 GiB.
const STEP: usize = 16 << 20;
const TOTAL: usize = 2048 << 20;
const PAGE: usize = 4096;

fn main() {
    let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(TOTAL / STEP);
    for i in 0..TOTAL / STEP {
        let mut b = vec![0u8; STEP];
        let mut off = 0;
        while off < STEP {
            unsafe { std::ptr::write_volatile(b.as_mut_ptr().add(off), (i + 1) as u8) };
            off += PAGE;
        }
        blocks.push(b);
    }
    println!("allocated {} MiB", TOTAL >> 20);
    std::process::exit(if blocks[0][0] == 1 { 0 } else { 1 });
}
