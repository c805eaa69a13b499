// The Go peer of bench_yield: two goroutines that yield to each other with runtime.Gosched, on
// one P (GOMAXPROCS=1), as two cogent tasks do with cogent::yield(). Prints nanoseconds per
// yield for one timed run, after an untimed warm-up run of a tenth as many.
//
//	go_gosched [yields per goroutine, default 5000000]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func pingPong(yields int) time.Duration {
	var wg sync.WaitGroup
	wg.Add(2)
	body := func() {
		for i := 0; i < yields; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	start := time.Now()
	go body()
	go body()
	wg.Wait()
	return time.Since(start)
}

func main() {
	runtime.GOMAXPROCS(1)
	yields := 5000000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "usage: go_gosched [yields per goroutine]")
			os.Exit(2)
		}
		yields = n
	}
	pingPong(yields/10 + 1)
	elapsed := pingPong(yields)
	fmt.Printf("%.3f\n", float64(elapsed.Nanoseconds())/float64(2*yields))
}
