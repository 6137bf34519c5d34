// busy: spins on the CPU forever; the counter is a package variable, so the
// loop has a visible side effect. Expected verdict: TL.
package main

var n uint64

func main() {
	for {
		n++
	}
}
