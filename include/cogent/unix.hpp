// Unix-domain streams and listeners (paths, or Linux abstract names written "@name").
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "cogent/listener.hpp"
#include "cogent/stream_socket.hpp"

namespace cogent {

class unix_stream : public stream_socket {
public:
    unix_stream() noexcept = default;
    // Adopts a connected Unix-domain stream socket's fd (made non-blocking).
    explicit unix_stream(int fd) : stream_socket(fd) {}

    static unix_stream connect(const endpoint& to, duration timeout = forever);
    static unix_stream connect(const endpoint& to, duration timeout, std::error_code& ec);
    // Two streams connected to each other (socketpair).
    static std::pair<unix_stream, unix_stream> pair();

private:
    friend class unix_listener;
    explicit unix_stream(nonblocking_fd adopt) noexcept : stream_socket(adopt) {}
};

class unix_listener : public listener {
public:
    unix_listener() noexcept = default;
    ~unix_listener();
    unix_listener(unix_listener&& other) noexcept;
    unix_listener& operator=(unix_listener&& other) noexcept;

    // Binds and listens at a path (or "@abstract" name). With `replace_stale_path`, a socket file
    // left at the path by a process that is gone is removed first (nobody accepts on it: a connect
    // is refused); a path where someone still listens, or that is not a socket, is never touched,
    // and bind fails with EADDRINUSE. The listener removes its path when it is closed.
    static unix_listener bind(const endpoint& address, const listen_options& options = {},
                              bool replace_stale_path = true);

    unix_stream accept(duration timeout = forever);
    unix_stream accept(endpoint& peer, duration timeout = forever);
    unix_stream accept(endpoint& peer, duration timeout, std::error_code& ec);

    // Closes it and removes its path.
    void close() noexcept;

private:
    explicit unix_listener(nonblocking_fd adopt, std::string path) noexcept
        : listener(adopt), path_(std::move(path)) {}
    std::string path_;  // removed on close; empty for abstract names
};

}  // namespace cogent
