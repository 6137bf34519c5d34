// hello: prints "hello" and a newline. Expected verdict: OK.
// Build: go build -o hello hello.go (each file here is its own program).
package main

import "fmt"

func main() {
	fmt.Println("hello")
}
