// alloc: allocates 2 GiB in 16 MiB slices, writes one byte in every 4 KiB
// page of each and keeps them all in a slice, then prints
// "allocated 2048 MiB". The Go runtime aborts the process ("fatal error:
// runtime: out of memory", exit 2) if the heap cannot grow; that is not
// recoverable. Expected verdict: ML under any memory limit below 2 GiB.
package main

import "fmt"

const (
	step  = 16 << 20
	total = 2048 << 20
	page  = 4096
)

func main() {
	blocks := make([][]byte, 0, total/step)
	for i := 0; i < total/step; i++ {
		b := make([]byte, step)
		for off := 0; off < step; off += page {
			b[off] = byte(i + 1)
		}
		blocks = append(blocks, b)
	}
	fmt.Printf("allocated %d MiB\n", total>>20)
	if blocks[0][0] != 1 {
		panic("lost a write")
	}
}
