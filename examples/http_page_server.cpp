// The page server's thread, its hub and its connection loop (see http_page_server.hpp).
#include "http_page_server.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <exception>
#include <future>
#include <thread>

#include <cogent/cogent.hpp>

#include "http_page_routes.hpp"

namespace cogent_pages {

namespace {

constexpr std::size_t max_head = 64 * 1024;
constexpr std::size_t max_body = 16u << 20;
constexpr auto idle_timeout = std::chrono::seconds(30);
constexpr auto io_timeout = std::chrono::seconds(30);

}  // namespace

struct page_server::state {
    page_server_options options;
    std::uint16_t port = 0;
    std::atomic<std::size_t> responses{0};
    std::atomic<std::size_t> connections{0};
    cogent::hub_handle hub;           // the server thread's, to ask it to stop
    cogent::event* stop = nullptr;    // lives on the server thread; set through `hub`
    std::promise<void> ready;         // kept, not the constructor's: run() may touch it late
    std::thread thread;

    // Reads more of the connection into `buffer`; false at its end, on an error or when idle.
    template <class Stream>
    static bool read_more(Stream& stream, std::string& buffer, cogent::duration timeout) {
        char chunk[4096];
        std::error_code ec;
        std::size_t n = stream.read_some(std::span<char>(chunk), timeout, ec);
        if (ec || n == 0) return false;
        buffer.append(chunk, n);
        return true;
    }

    template <class Stream>
    void refuse(Stream& stream, int status, const char* why) {
        detail::response r;
        r.status = status;
        r.body = std::string(why) + "\n";
        std::error_code ec;
        stream.write_all(detail::format_head(r, false) + r.body, io_timeout, ec);
    }

    // One connection: requests in turn until the client closes, asks to close, or idles.
    template <class Stream>
    void serve(Stream& stream) {
        connections.fetch_add(1, std::memory_order_relaxed);
        std::string buffer;
        for (;;) {
            std::size_t head_end;
            while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
                if (buffer.size() > max_head) return refuse(stream, 431, "request head too large");
                if (!read_more(stream, buffer, idle_timeout)) return;
            }
            detail::request request;
            if (int bad = detail::parse_head(std::string_view(buffer).substr(0, head_end), request)) {
                return refuse(stream, bad, "malformed request");
            }
            buffer.erase(0, head_end + 4);
            if (request.header("transfer-encoding")) return refuse(stream, 411, "send a Content-Length");
            std::size_t length = 0;
            if (auto text = request.header("content-length")) {
                auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), length);
                if (error != std::errc() || end != text->data() + text->size()) {
                    return refuse(stream, 400, "bad Content-Length");
                }
                if (length > max_body) return refuse(stream, 413, "body too large");
            }
            // curl asks before sending a large body; answering at once saves it a second's wait.
            if (length > buffer.size() && request.header("expect") == "100-continue") {
                stream.write_all("HTTP/1.1 100 Continue\r\n\r\n", io_timeout);
            }
            while (buffer.size() < length) {
                if (!read_more(stream, buffer, io_timeout)) return;
            }
            request.body = buffer.substr(0, length);
            buffer.erase(0, length);

            detail::response response = detail::route(request);
            cogent::sleep(options.delay + response.delay);
            const bool keep_alive = request.keep_alive();
            std::string out = detail::format_head(response, keep_alive);
            if (request.method != "HEAD") out += response.body;
            responses.fetch_add(1, std::memory_order_relaxed);
            stream.write_all(out, io_timeout);
            if (options.log) {
                std::printf("page_server: %s %s -> %d (%zu bytes)\n", request.method.c_str(), request.target.c_str(),
                            response.status, response.body.size());
                std::fflush(stdout);
            }
            if (!keep_alive) return;
        }
    }

    // The server thread: listens, reports the port (or why it could not), serves until stopped.
    void run() {
        try {
            if (options.backend) {
                cogent::hub_options hub_options;
                hub_options.backend = options.backend;
                cogent::start_hub(hub_options);
            }
            cogent::endpoint address = cogent::endpoint::ip(options.host, options.port);
            cogent::server_options server_options;
            server_options.stack_size = 256 * 1024;  // room for TLS and the /page bodies' strings
            std::unique_ptr<cogent::stream_server> server;
            if (options.tls) {
                server = std::make_unique<cogent::stream_server>(
                    address, options.tls,
                    [this](cogent::tls_stream& stream, const cogent::endpoint&) { serve(stream); }, server_options);
            } else {
                server = std::make_unique<cogent::stream_server>(
                    address, [this](cogent::stream_socket& stream, const cogent::endpoint&) { serve(stream); },
                    server_options);
            }
            cogent::event stopped;
            stop = &stopped;
            hub = cogent::this_hub();
            port = server->local_endpoint().port();
            server->start();
            ready.set_value();
            stopped.wait();
            server->stop(std::chrono::seconds(1));
        } catch (...) {
            // Before ready: the constructor rethrows it. After: a failure of stop() itself,
            // which leaves nothing to report to.
            try {
                ready.set_exception(std::current_exception());
            } catch (const std::future_error&) {
            }
        }
    }
};

page_server::page_server(page_server_options options) : state_(std::make_unique<state>()) {
    state_->options = std::move(options);
    std::future<void> started = state_->ready.get_future();
    state_->thread = std::thread([this] { state_->run(); });
    try {
        started.get();
    } catch (...) {
        state_->thread.join();
        throw;
    }
}

page_server::~page_server() {
    cogent::event* stop = state_->stop;
    state_->hub.post([stop] { stop->set(); });
    state_->thread.join();
}

std::uint16_t page_server::port() const noexcept { return state_->port; }

std::string page_server::url(std::string_view path) const {
    const std::string& host = state_->options.host;
    std::string text = state_->options.tls ? "https://" : "http://";
    if (host.find(':') != std::string::npos) {
        text.append("[").append(host).append("]");
    } else {
        text.append(host);
    }
    text.append(":").append(std::to_string(state_->port)).append(path);
    return text;
}

std::size_t page_server::responses() const noexcept { return state_->responses.load(std::memory_order_relaxed); }
std::size_t page_server::connections() const noexcept { return state_->connections.load(std::memory_order_relaxed); }

}  // namespace cogent_pages
