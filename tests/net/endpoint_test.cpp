// Endpoints: parsing, printing, and clear errors for bad text.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <sstream>
#include <stdexcept>

#include "cogent/endpoint.hpp"

namespace {

TEST(Endpoint, ParsesAndPrintsIPv4) {
    auto e = cogent::endpoint::parse("127.0.0.1:8080");
    EXPECT_EQ(e.family(), AF_INET);
    EXPECT_EQ(e.port(), 8080);
    EXPECT_EQ(e.address(), "127.0.0.1");
    EXPECT_EQ(e.to_string(), "127.0.0.1:8080");
    EXPECT_EQ(e.size(), sizeof(sockaddr_in));
    std::ostringstream out;
    out << e;
    EXPECT_EQ(out.str(), "127.0.0.1:8080");
}

TEST(Endpoint, ParsesAndPrintsIPv6WithAndWithoutZone) {
    auto e = cogent::endpoint::parse("[::1]:443");
    EXPECT_EQ(e.family(), AF_INET6);
    EXPECT_EQ(e.port(), 443);
    EXPECT_EQ(e.to_string(), "[::1]:443");
    auto zoned = cogent::endpoint::parse("[fe80::1%1]:80");
    EXPECT_EQ(zoned.address(), "fe80::1%1");
    EXPECT_EQ(cogent::endpoint::parse(zoned.to_string()), zoned);
}

TEST(Endpoint, UnixPathsAndAbstractNamesRoundTrip) {
    auto path = cogent::endpoint::parse("/tmp/cogent.sock");
    EXPECT_EQ(path.family(), AF_UNIX);
    EXPECT_EQ(path.address(), "/tmp/cogent.sock");
    EXPECT_EQ(path.port(), 0);
    auto abstract = cogent::endpoint::unix_path("@cogent-test");
    EXPECT_EQ(abstract.to_string(), "@cogent-test");
    EXPECT_EQ(cogent::endpoint::parse("@cogent-test"), abstract);
}

TEST(Endpoint, LoopbackAnyAndSetPort) {
    auto e = cogent::endpoint::loopback(0, AF_INET6);
    EXPECT_EQ(e.to_string(), "[::1]:0");
    e.set_port(9);
    EXPECT_EQ(e.port(), 9);
    EXPECT_EQ(cogent::endpoint::any(80).to_string(), "0.0.0.0:80");
    EXPECT_THROW(cogent::endpoint::any(80, AF_UNIX), std::invalid_argument);
    EXPECT_EQ(cogent::endpoint().family(), AF_UNSPEC);
    EXPECT_EQ(cogent::endpoint().to_string(), "");
}

TEST(Endpoint, BadTextIsAClearError) {
    for (const char* text : {"", "localhost:80", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:8x", "::1:80",
                             "[::1]80", "[::1", "300.1.1.1:1", "[fe80::1%nosuchif0]:1"}) {
        try {
            cogent::endpoint::parse(text);
            ADD_FAILURE() << "'" << text << "' was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("'") + text + "'"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(cogent::endpoint::unix_path(std::string(200, 'x')), std::invalid_argument);
    EXPECT_THROW(cogent::endpoint::unix_path(""), std::invalid_argument);
}

TEST(Endpoint, FromARawSockaddrChecksItsSize) {
    sockaddr_in raw{};
    raw.sin_family = AF_INET;
    raw.sin_port = htons(7);
    raw.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cogent::endpoint e(reinterpret_cast<const sockaddr*>(&raw), sizeof raw);
    EXPECT_EQ(e.to_string(), "127.0.0.1:7");
    EXPECT_THROW(cogent::endpoint(reinterpret_cast<const sockaddr*>(&raw), 1), std::invalid_argument);
    EXPECT_THROW(cogent::endpoint(nullptr, 16), std::invalid_argument);
}

}  // namespace
