// The Go peer of bench/echo/echo_compare.sh: the echo service as Go is meant to be written, one
// goroutine per connection with blocking-style reads and writes over the runtime's netpoller, on
// one P (GOMAXPROCS=1) so that it runs Go code on one core like the other servers. Every byte
// comes back upper-cased (ASCII a-z only).
//
//	go_echo --port N     (0: an ephemeral port; binds 127.0.0.1)
//
// Once listening it prints "listening on port <N>" and nothing else; SIGTERM or SIGINT ends it.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// serve echoes one connection until EOF or an error. Go sets TCP_NODELAY on every TCP
// connection, which the other servers do explicitly to match.
func serve(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, 16*1024)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			for i := 0; i < n; i++ {
				if c := buf[i]; c >= 'a' && c <= 'z' {
					buf[i] = c - ('a' - 'A')
				}
			}
			// Write returns only when all n bytes are written, or on an error.
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	port := flag.Int("port", 0, "port to listen on (0: an ephemeral port)")
	flag.Parse()
	if flag.NArg() != 0 || *port < 0 || *port > 65535 {
		fmt.Fprintln(os.Stderr, "usage: go_echo [--port N]")
		os.Exit(2)
	}

	// Go's listen backlog is the kernel's somaxconn, deep enough for a thousand clients at once.
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_echo:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on port %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()

	// Without a handler Go would die of SIGTERM with a non-zero status; this exits cleanly.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		os.Exit(0)
	}()

	for {
		conn, err := ln.Accept()
		if err != nil {
			// Out of fds and the like: the connection waits in the backlog, and a short pause
			// keeps the loop from spinning until an fd is free.
			time.Sleep(time.Millisecond)
			continue
		}
		go serve(conn)
	}
}
