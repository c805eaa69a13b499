// Seeing what the greenlets of a thread are doing: a dump of them all (gevent's print_run_info),
// and the blocked-hub monitor's reports (gevent's monitor thread).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "cogent/time.hpp"

namespace cogent {

// Writes every greenlet of the calling thread to `out`, one line each, in the order they were
// made (by id), then a summary line. It changes nothing: a thread without a hub gets no hub.
//
//   cogent: 5 greenlets on this thread
//     #1  main     waiting on join
//     #2  hub      hub loop
//     #7  ticker   waiting on sleep (995.1 ms left)
//     #8  worker   running
//     #9  printer  unstarted
//   cogent: 1 running, 0 ready, 2 waiting, 0 suspended, 1 unstarted; epoll backend, 1 timer, 0 fd waits, 0 jobs out
//
// The format is stable:
//   - The first line is "cogent: <N> greenlets on this thread"; N counts every line that follows
//     it but the summary, the hub's included.
//   - Each greenlet's line is two spaces, "#<id>", two spaces, its name (padded so the states line
//     up), two spaces, and its state, which is one of:
//       running                         it is the one calling dump_greenlets
//       ready                           it will run when its turn comes (after a yield)
//       ready (woken from <what>)       its wait is over and it will run when its turn comes
//       waiting on <what>               parked on a waiter that says what it waits for: "sleep",
//                                       "join", "fd readable", "run_in_thread", ...
//       waiting on <what> (<t> left)    the same, with a deadline <t> from now ("12.5 ms",
//                                       "3.200 s", "overdue")
//       suspended                       it switched away by hand (greenlet::switch_to) and waits
//                                       for someone to switch back
//       unstarted                       a task queued to start
//       hub loop                        the hub, which runs whenever the running greenlet parks
//       hub loop (not started yet)      the hub, before anything has waited on this thread
//     The thread's main greenlet and its hub (if it has one) are always listed. Tasks queued to
//     start are listed; tasks whose start was delayed (spawn_later) are not yet, nor greenlets
//     made by hand and never switched to.
//   - The summary counts the greenlets by state (the hub is counted only when it is the one
//     running), then names the hub's backend and counts its armed timers, the fds greenlets wait
//     on, and the calls out elsewhere that will come back to it (thread-pool jobs, keep_alive).
//     Without a hub it reads "...; no hub".
void dump_greenlets(std::ostream& out);

// What the blocked-hub monitor (hub_options::monitor) saw: a greenlet ran for `held` without
// yielding while nothing else could run on its thread.
struct hub_blocked_report {
    std::uint64_t greenlet_id = 0;  // 0 if the greenlet could not be told
    std::string greenlet_name;      // as greenlet::name(); empty if the greenlet could not be told
    bool in_hub_callback = false;   // the hub itself was held, by a timer callback or a posted job
    duration held{};                // how long, at least, at the moment of the report
    // What is printed by default, without a newline:
    //   "cogent: monitor: greenlet 'parser' (id 12) has held the hub for 153 ms without yielding"
    std::string message;
};

// What is done with each report; the default (also restored by an empty handler) writes the
// message and a newline on stderr. Returns the previous handler. It is called on the monitor's
// own thread, once per stall, while the stall may still be going on: it must be thread-safe and
// must not touch the greenlets, waiters or hub of the thread that stalled.
using hub_blocked_handler = std::function<void(const hub_blocked_report&)>;
hub_blocked_handler set_hub_blocked_handler(hub_blocked_handler handler);

}  // namespace cogent
