// The exceptions of cogent's queues and channels: gevent's queue.Empty, queue.Full and
// queue.ShutDown. A call's own timeout running out is reported with these (not timeout_error)
// because it tells the caller what state the queue was in; an enclosing cogent::timeout scope
// still raises timeout_error.
#pragma once

#include <stdexcept>
#include <string>

namespace cogent {

// get() or peek() found nothing, at once (the _nowait forms) or before its timeout.
class queue_empty : public std::runtime_error {
public:
    queue_empty();
    explicit queue_empty(const std::string& what);
};

// put() found no room, at once (put_nowait) or before its timeout; for a channel, no getter took
// the item in time. The item was not delivered.
class queue_full : public std::runtime_error {
public:
    queue_full();
    explicit queue_full(const std::string& what);
};

// The queue or channel was closed: put() always, get() once what was left has been taken, and
// every call that was waiting when close() came.
class queue_closed : public std::runtime_error {
public:
    queue_closed();
    explicit queue_closed(const std::string& what);
};

}  // namespace cogent
