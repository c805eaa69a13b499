// Socket calls the backend performs itself (io_uring's recv, send and accept), for the backends
// that can: the greenlet submits the call and parks until the kernel reports its result.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <system_error>

#include "cogent/time.hpp"
#include "hub/hub_impl.hpp"

namespace cogent::detail {

// accept_multishot: through the listener's multishot accept (backend::multishot_accept), which
// writes no peer address; the result is the new fd.
enum class native_call { recv, send, accept, accept_multishot };

struct native_request {
    native_call call;
    void* buffer = nullptr;             // recv: where to; send: what (read only); accept: the peer's sockaddr
    std::size_t size = 0;               // recv, send: how many bytes
    unsigned* address_size = nullptr;   // accept: the sockaddr's capacity in, its size out
};

// Whether this thread's backend performs socket calls itself. Asked before every socket call,
// so it reads the flag the hub caches rather than asking the backend.
inline bool native_io_available() { return hub_impl::current().native_io(); }

// Performs `request` on `fd` through the backend and waits for it, by `deadline`. Returns like
// retry_io: the call's result, or -1 with `ec` set (std::errc::timed_out, net_errc::socket_closed
// if the socket was closed meanwhile, or the call's own errno). The call is always over when
// this returns, however it returns (an exception out of the wait included): a timeout, a close or
// a kill cancels it and waits for the kernel to confirm, because the kernel may be writing into
// the buffer until then. A call that completed anyway (data arrived as the timeout fired)
// counts: its result is returned, and an error raised at the greenlet meanwhile (a kill, an
// enclosing timeout scope) stays pending for its next blocking call.
ssize_t native_io(const int& fd, const native_request& request, clock::time_point deadline, std::error_code& ec,
                  const char* what);

}  // namespace cogent::detail
