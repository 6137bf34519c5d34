// socket_probe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
// exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
// error). Inside the sandbox a connect must never succeed.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: socket_probe PORT")
		os.Exit(2)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", os.Args[1]), 5*time.Second)
	if err != nil {
		fmt.Println("connect:", err)
		os.Exit(3)
	}
	c.Close()
	fmt.Println("connected")
}
