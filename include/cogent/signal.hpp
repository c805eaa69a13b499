// Waiting for a Unix signal cooperatively (gevent's signal_handler, in the form of a wait): a
// server's main greenlet can wait for SIGINT or SIGTERM and stop gracefully while the other
// greenlets run.
//
// While it waits, the signals are blocked in the calling thread and read from a signalfd; the
// thread's signal mask is restored afterwards, so a second Ctrl-C after the first was handled
// has its usual effect. A process-directed signal goes to any thread that does not block it:
// in a program with other threads (cogent's thread pool included), block the signals in every
// thread (pthread_sigmask before starting them) for this to see them reliably.
#pragma once

#include <csignal>  // the signal numbers callers pass
#include <initializer_list>

#include "cogent/time.hpp"

namespace cogent {

// Parks until one of `signals` arrives and returns its number; 0 if `timeout` passed first.
// Throws std::invalid_argument for an empty list or an invalid signal number, std::system_error
// if the signalfd cannot be made.
int wait_signal(std::initializer_list<int> signals, duration timeout = forever);

}  // namespace cogent
