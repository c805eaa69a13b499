// The "cogent.net" error category, and how the throwing forms of network calls throw.
#include "cogent/net_errors.hpp"

#include "cogent/errors.hpp"

namespace cogent {
namespace {

class net_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "cogent.net"; }
    std::string message(int value) const override {
        switch (static_cast<net_errc>(value)) {
            case net_errc::end_of_stream: return "the peer ended the stream";
            case net_errc::socket_closed: return "the socket was closed while this operation waited on it";
            case net_errc::message_too_long: return "the message is longer than the allowed maximum";
            case net_errc::host_not_found: return "host not found";
            case net_errc::no_address: return "the host has no address of the requested family";
            case net_errc::name_server_failure: return "the name servers failed to answer";
            case net_errc::service_not_found: return "service not found";
            case net_errc::resolver_failure: return "name resolution failed";
        }
        return "unknown cogent.net error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& net_category() noexcept {
    static const net_error_category category;
    return category;
}

namespace detail {

void throw_net_error(const std::error_code& ec, const std::string& what) {
    if (ec == std::errc::timed_out) throw timeout_error(nullptr, what + ": timed out");
    throw std::system_error(ec, what);
}

}  // namespace detail
}  // namespace cogent
