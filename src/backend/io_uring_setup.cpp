// Making an io_uring, and saying clearly why when the system will not.
#include "backend/io_uring_setup.hpp"

#include <cstring>
#include <string>

#include "cogent/errors.hpp"

namespace cogent::detail {
namespace {

std::string unavailable(int error) {
    std::string why;
    switch (error) {
        case ENOSYS:
            why = " (this kernel has no io_uring)";
            break;
        case EPERM:
            why =
                " (refused by a seccomp filter, as container runtimes install, or by the "
                "kernel.io_uring_disabled sysctl)";
            break;
        case ENOMEM:
            why = " (the ring's memory is refused: RLIMIT_MEMLOCK on kernels before 5.12)";
            break;
        default:
            break;
    }
    return "cogent: io_uring is unavailable here: io_uring_queue_init failed: " +
           std::string(std::strerror(error)) + why +
           "; use the epoll backend instead (the default; hub_options::backend or COGENT_BACKEND=epoll)";
}

}  // namespace

void init_ring(io_uring& ring, unsigned entries) {
    int rc = io_uring_queue_init(entries, &ring, 0);
    if (rc < 0) throw backend_error(unavailable(-rc));
    // Without EXT_ARG (before 5.11) liburing waits with a timeout by queueing a timeout
    // request of its own; without NODROP (before 5.5) completions are lost when the
    // completion queue overflows, and a lost completion is a waiter never woken.
    unsigned needed = IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP;
    if ((ring.features & needed) != needed) {
        io_uring_queue_exit(&ring);
        throw backend_error(
            "cogent: io_uring is unavailable here: the kernel's io_uring lacks "
            "IORING_FEAT_EXT_ARG or IORING_FEAT_NODROP (Linux 5.11 or later is needed); "
            "use the epoll backend instead (the default)");
    }
}

}  // namespace cogent::detail
