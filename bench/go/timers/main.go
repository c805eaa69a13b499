// The Go peer of bench_timers, on one P (GOMAXPROCS=1). Delays and the cancel order come from
// the same generator as the C++ side (splitmix64, seeded alike), computed before timing.
//
//	go_timers fire <timers>
//	    time.AfterFunc(1 s + random 0..10 ms, f) for each timer (f counts, the last one signals),
//	    then wait for all to have run. Prints: ns per insert (wall clock), CPU ns per fire (the
//	    process's user + system time from the end of the inserts to the last fire, over the
//	    number of timers: waiting for the deadlines costs no CPU), and how many had fired before
//	    the inserting loop finished (none, unless inserting took longer than a second).
//	go_timers cancel <timers>
//	    time.AfterFunc(1 s + random 0..10 ms, f) for each, then Stop() each in a random order.
//	    Prints: ns per insert, ns per cancel.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// The process's CPU time (user + system), as the C++ side reads it.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		panic(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

type splitmix struct{ state uint64 }

func (s *splitmix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Delays in [base, base + 10 ms), in nanoseconds.
func delays(n int, base time.Duration) []time.Duration {
	r := splitmix{42}
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = base + time.Duration(r.next()%10_000_000)
	}
	return d
}

// A random permutation of 0..n-1 (Fisher-Yates).
func permutation(n int) []int {
	r := splitmix{7}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(r.next() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func fire(n int) (insert, firedCPU time.Duration, early int) {
	d := delays(n, time.Second)
	count := 0
	done := make(chan struct{})
	f := func() {
		count++
		if count == n {
			close(done)
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		time.AfterFunc(d[i], f)
	}
	inserted := time.Now()
	early = count
	cpu := cpuTime()
	<-done
	return inserted.Sub(start), cpuTime() - cpu, early
}

func cancel(n int) (insert, cancelled time.Duration) {
	d := delays(n, time.Second)
	p := permutation(n)
	timers := make([]*time.Timer, n)
	f := func() {}
	start := time.Now()
	for i := 0; i < n; i++ {
		timers[i] = time.AfterFunc(d[i], f)
	}
	inserted := time.Now()
	for _, i := range p {
		timers[i].Stop()
	}
	return inserted.Sub(start), time.Since(inserted)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go_timers fire|cancel <timers>")
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
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	switch os.Args[1] {
	case "fire":
		fire(n/10 + 1)
		insert, firedCPU, early := fire(n)
		fmt.Printf("%.3f %.3f %d\n", per(insert), per(firedCPU), early)
	case "cancel":
		cancel(n/10 + 1)
		insert, cancelled := cancel(n)
		fmt.Printf("%.3f %.3f\n", per(insert), per(cancelled))
	default:
		usage()
	}
}
