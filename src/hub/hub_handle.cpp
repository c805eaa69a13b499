// How other threads hand a hub work (hub_handle::post, over an eventfd), and keep_alive.
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "hub/hub_impl.hpp"

namespace cogent {

using detail::hub_impl;

bool hub_handle::channel::post(std::function<void()>&& job) {
    std::lock_guard lock(mutex);
    if (!open) return false;
    jobs.push_back(std::move(job));
    if (!signalled.exchange(true, std::memory_order_relaxed)) {
        std::uint64_t one = 1;
        ssize_t written = ::write(event_fd, &one, sizeof one);
        (void)written;  // EAGAIN means the counter is already non-zero: the hub will wake anyway
    }
    return true;
}

bool hub_handle::post(std::function<void()> job) const {
    if (channel_ == nullptr) throw std::logic_error("cogent::hub_handle::post: empty handle");
    return channel_->post(std::move(job));
}

hub_handle this_hub() {
    hub_handle h;
    h.channel_ = hub_impl::current().channel();
    return h;
}

keep_alive::keep_alive() { ++hub_impl::current().holds; }
keep_alive::~keep_alive() {
    if (hub_impl* h = hub_impl::existing()) --h->holds;
}

}  // namespace cogent
