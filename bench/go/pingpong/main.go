// The Go peer of bench_pingpong, on one P (GOMAXPROCS=1): two goroutines bouncing an int back
// and forth. Prints nanoseconds per round trip (two hand-overs) for one timed run, after an
// untimed warm-up run of a tenth as many.
//
//	go_pingpong unbuffered <round trips>   two unbuffered channels (cogent::channel's peer)
//	go_pingpong buffered <round trips>     two channels of capacity 1 (cogent::queue's peer)
//	go_pingpong cond <round trips>         two flags under a sync.Mutex with two sync.Conds
//	                                       (cogent::event's peer: set, wait, clear)
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func channels(n, capacity int) time.Duration {
	ping := make(chan int, capacity)
	pong := make(chan int, capacity)
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
		close(done)
	}()
	start := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	elapsed := time.Since(start)
	<-done
	if v != n {
		panic("lost a message")
	}
	return elapsed
}

// A flag that can be set, waited for and cleared, as cogent::event.
type event struct {
	mu   *sync.Mutex
	cond *sync.Cond
	set  bool
}

func conds(n int) time.Duration {
	var mu sync.Mutex
	ping := event{&mu, sync.NewCond(&mu), false}
	pong := event{&mu, sync.NewCond(&mu), false}
	done := make(chan struct{})
	go func() {
		mu.Lock()
		for i := 0; i < n; i++ {
			for !ping.set {
				ping.cond.Wait()
			}
			ping.set = false
			pong.set = true
			pong.cond.Signal()
		}
		mu.Unlock()
		close(done)
	}()
	start := time.Now()
	mu.Lock()
	for i := 0; i < n; i++ {
		ping.set = true
		ping.cond.Signal()
		for !pong.set {
			pong.cond.Wait()
		}
		pong.set = false
	}
	mu.Unlock()
	elapsed := time.Since(start)
	<-done
	return elapsed
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go_pingpong unbuffered|buffered|cond <round trips>")
	os.Exit(2)
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) != 3 {
		usage()
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		usage()
	}
	var run func(int) time.Duration
	switch os.Args[1] {
	case "unbuffered":
		run = func(k int) time.Duration { return channels(k, 0) }
	case "buffered":
		run = func(k int) time.Duration { return channels(k, 1) }
	case "cond":
		run = conds
	default:
		usage()
	}
	run(n/10 + 1)
	elapsed := run(n)
	fmt.Printf("%.3f\n", float64(elapsed.Nanoseconds())/float64(n))
}
