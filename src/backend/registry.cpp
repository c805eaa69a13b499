// Choosing a backend by kind, and what every backend shares.
#include <climits>
#include <stdexcept>
#include <string>

#include "backend/backend.hpp"
#include "cogent/errors.hpp"

namespace cogent {

const char* to_string(backend_kind kind) noexcept {
    switch (kind) {
        case backend_kind::select: return "select";
        case backend_kind::poll: return "poll";
        case backend_kind::epoll: return "epoll";
        case backend_kind::epoll_et: return "epoll_et";
        case backend_kind::io_uring: return "io_uring";
    }
    return "unknown";
}

std::optional<backend_kind> parse_backend(std::string_view name) noexcept {
    for (backend_kind kind : {backend_kind::select, backend_kind::poll, backend_kind::epoll, backend_kind::epoll_et,
                              backend_kind::io_uring}) {
        if (name == to_string(kind)) return kind;
    }
    return std::nullopt;
}

namespace detail {

void backend::check_fd(int fd) const {
    if (fd < 0) throw backend_error("cogent: cannot wait on fd " + std::to_string(fd) + ": not a file descriptor");
}

namespace {
[[noreturn]] void not_native(const backend& b) {
    throw std::logic_error(std::string("cogent: the ") + to_string(b.kind()) + " backend performs no socket calls itself");
}
}  // namespace

void backend::submit_recv(native_op&, int, void*, std::size_t) { not_native(*this); }
void backend::submit_send(native_op&, int, const void*, std::size_t) { not_native(*this); }
void backend::submit_accept(native_op&, int, void*, unsigned*) { not_native(*this); }
void backend::submit_multishot_accept(native_op&, int) { not_native(*this); }
void backend::cancel(native_op&) noexcept {}
void backend::wait_out(native_op&) noexcept {}

std::unique_ptr<backend> make_backend(backend_kind kind) {
    switch (kind) {
        case backend_kind::select: return make_select_backend();
        case backend_kind::poll: return make_poll_backend();
        case backend_kind::epoll: return make_epoll_backend(false);
        case backend_kind::epoll_et: return make_epoll_backend(true);
        case backend_kind::io_uring: return make_io_uring_backend();
    }
    throw backend_error("cogent: unknown backend kind");
}

int timeout_milliseconds(duration timeout) noexcept {
    if (timeout == forever) return -1;
    if (timeout <= duration::zero()) return 0;
    auto ms = (timeout.count() + 999'999) / 1'000'000;
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace detail
}  // namespace cogent
