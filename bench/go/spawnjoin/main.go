// The Go peer of bench_spawn_join, on one P (GOMAXPROCS=1). Prints nanoseconds per goroutine for
// one timed run, after an untimed warm-up run of a tenth as many.
//
//	go_spawnjoin batch <goroutines> <batch size>
//	    start `batch size` goroutines that each store an int in their slot and call wg.Done(),
//	    then wg.Wait(); repeated until `goroutines` have run.
//	go_spawnjoin channel <goroutines> <batch size>
//	    the same, each goroutine sending its int on its own buffered channel (cap 1), which the
//	    main goroutine then receives from in order: a value per goroutine, like task<int>::get().
//	go_spawnjoin one <goroutines>
//	    one at a time: start a goroutine that sends an int on an unbuffered channel, receive it.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

var sink int

func batchWaitGroup(total, batch int) time.Duration {
	results := make([]int, batch)
	start := time.Now()
	for done := 0; done < total; done += batch {
		var wg sync.WaitGroup
		wg.Add(batch)
		for i := 0; i < batch; i++ {
			go func(i int) {
				results[i] = i
				wg.Done()
			}(i)
		}
		wg.Wait()
		sink += results[batch-1]
	}
	return time.Since(start)
}

func batchChannels(total, batch int) time.Duration {
	channels := make([]chan int, batch)
	start := time.Now()
	for done := 0; done < total; done += batch {
		for i := 0; i < batch; i++ {
			c := make(chan int, 1)
			channels[i] = c
			go func(i int) { c <- i }(i)
		}
		for i := 0; i < batch; i++ {
			sink += <-channels[i]
		}
	}
	return time.Since(start)
}

func oneAtATime(total int) time.Duration {
	c := make(chan int)
	start := time.Now()
	for i := 0; i < total; i++ {
		go func(i int) { c <- i }(i)
		sink += <-c
	}
	return time.Since(start)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go_spawnjoin batch|channel|one <goroutines> [batch size]")
	os.Exit(2)
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) < 3 {
		usage()
	}
	total, err := strconv.Atoi(os.Args[2])
	if err != nil || total < 1 {
		usage()
	}
	batch := 1
	if len(os.Args) > 3 {
		batch, err = strconv.Atoi(os.Args[3])
		if err != nil || batch < 1 {
			usage()
		}
	}
	total = (total + batch - 1) / batch * batch
	var run func(int) time.Duration
	switch os.Args[1] {
	case "batch":
		run = func(n int) time.Duration { return batchWaitGroup(n, batch) }
	case "channel":
		run = func(n int) time.Duration { return batchChannels(n, batch) }
	case "one":
		run = oneAtATime
	default:
		usage()
	}
	warm := (total/10 + batch - 1) / batch * batch
	run(warm)
	elapsed := run(total)
	fmt.Printf("%.3f\n", float64(elapsed.Nanoseconds())/float64(total))
}
