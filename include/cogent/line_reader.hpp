// Reading a stream line by line with a bounded buffer (gevent's socket.makefile().readline(),
// with a limit): a peer that sends a huge message without a newline gets
// net_errc::message_too_long, never unbounded memory.
//
//   cogent::line_reader lines(stream, 64 * 1024);
//   while (auto line = lines.read_line(30s)) handle(*line);
//
// Works on any stream with read_some(std::span<char>, duration, std::error_code&): tcp_stream,
// unix_stream, tls_stream.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "cogent/net_errors.hpp"
#include "cogent/time.hpp"

namespace cogent {

template <class Stream>
class line_reader {
public:
    // `max_line`: the longest line accepted, its '\n' included.
    explicit line_reader(Stream& stream, std::size_t max_line = 64 * 1024) : stream_(stream), max_line_(max_line) {}

    // The next line without its "\n" (or "\r\n"). At the end of the stream: the last, unfinished
    // line if there is one, then nullopt. The timeout is for the whole line. The error-code form
    // gives nullopt with `ec` set; bytes read so far stay buffered, so nothing is lost by a
    // timeout.
    std::optional<std::string> read_line(duration timeout, std::error_code& ec) {
        const clock::time_point deadline = deadline_after(timeout);
        ec.clear();
        std::size_t scanned = 0;  // how many bytes after start_ are known to hold no '\n'
        for (;;) {
            std::size_t newline = buffer_.find('\n', start_ + scanned);
            if (newline != std::string::npos && newline - start_ < max_line_) return take(newline, 1);
            if (newline != std::string::npos || buffer_.size() - start_ >= max_line_) {
                ec = make_error_code(net_errc::message_too_long);
                return std::nullopt;
            }
            scanned = buffer_.size() - start_;
            compact();
            const std::size_t old_size = buffer_.size();
            const std::size_t room = std::min<std::size_t>(chunk, max_line_ - (old_size - start_));
            buffer_.resize(old_size + room);
            const duration left = deadline == clock::time_point::max()
                                      ? forever
                                      : std::max<duration>(deadline - clock::now(), duration::zero());
            std::size_t n = stream_.read_some(std::span<char>(buffer_.data() + old_size, room), left, ec);
            buffer_.resize(old_size + n);
            if (ec) return std::nullopt;
            if (n == 0) {
                if (start_ == buffer_.size()) return std::nullopt;
                return take(buffer_.size(), 0);
            }
        }
    }

    std::optional<std::string> read_line(duration timeout = forever) {
        std::error_code ec;
        auto line = read_line(timeout, ec);
        if (ec) detail::throw_net_error(ec, "cogent: read_line");
        return line;
    }

    // What was read from the stream but not returned yet.
    std::string_view buffered() const noexcept { return std::string_view(buffer_).substr(start_); }

private:
    static constexpr std::size_t chunk = 4096;

    // Returns buffer_[start_, end) without a trailing '\r', and skips `skip` more bytes.
    std::string take(std::size_t end, std::size_t skip) {
        std::size_t stop = end;
        if (skip == 1 && stop > start_ && buffer_[stop - 1] == '\r') --stop;
        std::string line = buffer_.substr(start_, stop - start_);
        start_ = end + skip;
        return line;
    }
    // Drops the returned lines from the front of the buffer, once they are most of it.
    void compact() {
        if (start_ > 0 && start_ >= buffer_.size() / 2) {
            buffer_.erase(0, start_);
            start_ = 0;
        }
    }

    Stream& stream_;
    std::size_t max_line_;
    std::string buffer_;
    std::size_t start_ = 0;
};

}  // namespace cogent
