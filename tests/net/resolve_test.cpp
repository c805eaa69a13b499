// cogent::resolve, offline: /etc/hosts, numeric hosts and services, and a DNS responder of our own
// (dns_responder.hpp) for names, errors, silence and many greenlets at once. Runs once per backend.
#include "cogent/resolve.hpp"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/net_errors.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "hub/core_test_support.hpp"
#include "net/dns_responder.hpp"
#include "net/resolve_ares.hpp"

using namespace std::chrono_literals;
using cogent_test::dns_responder;

namespace {

constexpr auto patience = 10s;

class Resolve : public cogent_test::hub_test {};

std::vector<std::string> texts(const std::vector<cogent::endpoint>& endpoints) {
    std::vector<std::string> out;
    for (const auto& e : endpoints)
        out.push_back(e.to_string());
    return out;
}

// Ask only `dns`, never /etc/hosts.
cogent::resolve_options through(const dns_responder& dns, int family = AF_UNSPEC) {
    cogent::resolve_options options;
    options.family = family;
    options.name_servers = dns.address();
    options.use_hosts_file = false;
    return options;
}

std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

std::error_code error_of(std::string_view host, const cogent::resolve_options& options,
                         cogent::duration timeout = patience) {
    std::error_code ec;
    auto result = cogent::resolve(host, "80", timeout, options, ec);
    EXPECT_TRUE(result.empty() || !ec);
    return ec;
}

TEST_F(Resolve, LocalhostComesFromTheHostsFile) {
    const auto all = cogent::resolve("localhost", "80", patience);
    ASSERT_FALSE(all.empty());
    for (const auto& e : all) {
        EXPECT_TRUE(e.address() == "127.0.0.1" || e.address() == "::1") << e;
        EXPECT_EQ(e.port(), 80);
    }
    cogent::resolve_options v4;
    v4.family = AF_INET;
    EXPECT_EQ(texts(cogent::resolve("localhost", "80", patience, v4)),
              std::vector<std::string>{"127.0.0.1:80"});
}

TEST_F(Resolve, NumericHostsNeverReachCares) {
    // A server list c-ares would refuse: were c-ares involved, this would throw.
    cogent::resolve_options options;
    options.name_servers = "not a name server";
    EXPECT_EQ(texts(cogent::resolve("192.0.2.7", "8080", patience, options)),
              std::vector<std::string>{"192.0.2.7:8080"});
    EXPECT_EQ(texts(cogent::resolve("::1", "443", patience, options)), std::vector<std::string>{"[::1]:443"});
    const unsigned lo = ::if_nametoindex("lo");
    ASSERT_NE(lo, 0u);
    auto scoped = cogent::resolve("fe80::1%lo", "22", patience, options);
    ASSERT_EQ(scoped.size(), 1u);
    EXPECT_EQ(scoped[0].address(), "fe80::1%" + std::to_string(lo));
    EXPECT_EQ(scoped[0].port(), 22);

    EXPECT_EQ(error_of("fe80::1%no-such-interface", options), cogent::net_errc::host_not_found);

    options.family = AF_INET6;
    EXPECT_EQ(error_of("127.0.0.1", options), cogent::net_errc::no_address);
    options.family = AF_INET;
    EXPECT_EQ(error_of("::1", options), cogent::net_errc::no_address);
}

TEST_F(Resolve, ServiceNamesAndNumbers) {
    EXPECT_EQ(texts(cogent::resolve("127.0.0.1", "http", patience)),
              std::vector<std::string>{"127.0.0.1:80"});
    cogent::resolve_options udp;
    udp.socktype = SOCK_DGRAM;
    EXPECT_EQ(texts(cogent::resolve("127.0.0.1", "domain", patience, udp)),
              std::vector<std::string>{"127.0.0.1:53"});
    EXPECT_EQ(texts(cogent::resolve("127.0.0.1", "", patience)), std::vector<std::string>{"127.0.0.1:0"});
    for (const auto& e : cogent::resolve("localhost", "http", patience))
        EXPECT_EQ(e.port(), 80) << e;

    std::error_code ec;
    EXPECT_TRUE(cogent::resolve("127.0.0.1", "no-such-service", patience, {}, ec).empty());
    EXPECT_EQ(ec, cogent::net_errc::service_not_found);
    EXPECT_TRUE(cogent::resolve("127.0.0.1", "65536", patience, {}, ec).empty());
    EXPECT_EQ(ec, cogent::net_errc::service_not_found);
    try {
        cogent::resolve("localhost", "no-such-service");
        ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), cogent::net_errc::service_not_found);
        EXPECT_NE(std::string(e.what()).find("'no-such-service'"), std::string::npos) << e.what();
    }
}

TEST_F(Resolve, AnUnknownNameIsHostNotFound) {
    dns_responder dns({});
    EXPECT_EQ(error_of("nosuch.invalid", through(dns)), cogent::net_errc::host_not_found);
    EXPECT_GE(dns.questions(), 1);
    try {
        cogent::resolve("nosuch.invalid", "80", patience, through(dns));
        ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), cogent::net_errc::host_not_found);
        EXPECT_STREQ(e.what(), "cogent: cannot resolve 'nosuch.invalid': host not found");
    }
    EXPECT_EQ(error_of("", through(dns)), cogent::net_errc::host_not_found);
}

TEST_F(Resolve, ARecordsAndAaaaRecordsFromTheNameServer) {
    dns_responder dns({{"cogent.test", dns_responder::addresses({"10.1.2.3"}, {"2001:db8::1"})},
                       {"v4only.test", dns_responder::addresses({"10.0.0.2", "10.0.0.1", "10.0.0.2"})}});
    auto both = texts(cogent::resolve("cogent.test", "443", patience, through(dns)));
    EXPECT_EQ(std::set<std::string>(both.begin(), both.end()),
              (std::set<std::string>{"10.1.2.3:443", "[2001:db8::1]:443"}));
    EXPECT_EQ(both.size(), 2u);
    EXPECT_EQ(texts(cogent::resolve("COGENT.test", "443", patience, through(dns, AF_INET))),
              std::vector<std::string>{"10.1.2.3:443"});
    EXPECT_EQ(texts(cogent::resolve("cogent.test", "http", patience, through(dns, AF_INET6))),
              std::vector<std::string>{"[2001:db8::1]:80"});

    // Duplicates are dropped; a name with no address of the family asked for is no_address.
    auto v4 = texts(cogent::resolve("v4only.test", "1", patience, through(dns)));
    EXPECT_EQ(std::set<std::string>(v4.begin(), v4.end()),
              (std::set<std::string>{"10.0.0.1:1", "10.0.0.2:1"}));
    EXPECT_EQ(v4.size(), 2u);
    EXPECT_EQ(error_of("v4only.test", through(dns, AF_INET6)), cogent::net_errc::no_address);
}

TEST_F(Resolve, ASilentNameServerRunsIntoTheCallersTimeout) {
    dns_responder dns({{"silent.test", dns_responder::fails(dns_responder::reply::drop)}});
    EXPECT_EQ(error_of("silent.test", through(dns), 200ms), std::errc::timed_out);
    EXPECT_THROW(cogent::resolve("silent.test", "80", 200ms, through(dns)), cogent::timeout_error);
    // A timeout scope interrupts it as any other blocking call.
    cogent::timeout scope(100ms);
    try {
        cogent::resolve("silent.test", "80", cogent::forever, through(dns));
        ADD_FAILURE() << "no exception";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(scope.raised(e));
    }
}

TEST_F(Resolve, NameServersThatGiveUpAreNameServerFailures) {
    dns_responder dns({{"broken.test", dns_responder::fails(dns_responder::reply::servfail)},
                       {"refusing.test", dns_responder::fails(dns_responder::reply::refused)},
                       {"silent.test", dns_responder::fails(dns_responder::reply::drop)}});
    EXPECT_EQ(error_of("broken.test", through(dns)), cogent::net_errc::name_server_failure);
    EXPECT_EQ(error_of("refusing.test", through(dns)), cogent::net_errc::name_server_failure);

    // c-ares' own retries running out is a name server failure, not the caller's timeout.
    std::error_code ec;
    std::string why;
    cogent::detail::resolver_retries quick{.first_timeout_ms = 20, .tries = 2};
    cogent::detail::resolve_with("silent.test", "80", patience, through(dns), quick, ec, &why);
    EXPECT_EQ(ec, cogent::net_errc::name_server_failure);
    EXPECT_NE(why.find("c-ares"), std::string::npos) << why;
}

TEST_F(Resolve, NobodyListeningIsANameServerFailure) {
    // A port nobody listens on: the kernel refuses every question at once.
    int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(probe, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), size), 0);
    ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size), 0);
    ::close(probe);
    cogent::resolve_options options;
    options.name_servers = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    options.use_hosts_file = false;
    // c-ares sometimes misses a refusal (a later send consumes the ICMP error) and then waits out
    // its timeout, so retries are made quick here to keep the test short whatever the timing.
    std::error_code ec;
    cogent::detail::resolver_retries quick{.first_timeout_ms = 20, .tries = 2};
    cogent::detail::resolve_with("cogent.test", "80", patience, options, quick, ec);
    EXPECT_EQ(ec, cogent::net_errc::name_server_failure);
}

TEST_F(Resolve, MisreadNameServersAreRefused) {
    cogent::resolve_options options;
    options.name_servers = "not a name server";
    std::error_code ec;
    EXPECT_THROW(cogent::resolve("cogent.test", "80", patience, options, ec), std::invalid_argument);
}

TEST_F(Resolve, TheHubKeepsServingWhileAResolveWaits) {
    dns_responder dns({{"slow.test", dns_responder::addresses({"10.9.9.9"}, {}, 150ms)}});
    bool done = false;
    int ticks = 0;
    auto ticker = cogent::spawn([&] {
        while (!done) {
            ++ticks;
            cogent::sleep(5ms);
        }
    });
    auto result = texts(cogent::resolve("slow.test", "80", patience, through(dns, AF_INET)));
    done = true;
    ticker.get(patience);
    EXPECT_EQ(result, std::vector<std::string>{"10.9.9.9:80"});
    EXPECT_GE(ticks, 1);
}

TEST_F(Resolve, FiftyGreenletsResolveAtOnce) {
    std::map<std::string, dns_responder::rule> table;
    for (int i = 0; i < 50; ++i) {
        table["host" + std::to_string(i) + ".test"] = dns_responder::addresses(
            {"10.0." + std::to_string(i) + ".1"}, {"2001:db8::" + std::to_string(i + 1)});
    }
    dns_responder dns(std::move(table));
    std::vector<cogent::task<std::vector<cogent::endpoint>>> tasks;
    for (int i = 0; i < 50; ++i) {
        tasks.push_back(cogent::spawn([&dns, i] {
            return cogent::resolve("host" + std::to_string(i) + ".test", std::to_string(1000 + i), patience,
                                   through(dns, i % 2 == 0 ? AF_INET : AF_UNSPEC));
        }));
    }
    for (int i = 0; i < 50; ++i) {
        auto got = texts(tasks[i].get(patience));
        std::set<std::string> expected{"10.0." + std::to_string(i) + ".1:" + std::to_string(1000 + i)};
        if (i % 2 != 0)
            expected.insert("[2001:db8::" + std::to_string(i + 1) + "]:" + std::to_string(1000 + i));
        EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected) << i;
        EXPECT_EQ(got.size(), expected.size()) << i;
    }
}

TEST_F(Resolve, AResolveKilledMidwayLeavesNothingBehind) {
    dns_responder dns({{"silent.test", dns_responder::fails(dns_responder::reply::drop)}});
    // What is made once per thread or process is not to be counted as left behind: the hub and
    // its backend's fds (a lookup answered fast enough never parks, so it may not start them),
    // and whatever c-ares or the C library set up on a first lookup.
    (void)cogent::current_backend();
    EXPECT_EQ(error_of("warm-up.test", through(dns)), cogent::net_errc::host_not_found);
    const std::size_t fds_before = open_fds();
    auto t = cogent::spawn([&] { cogent::resolve("silent.test", "80", cogent::forever, through(dns)); });
    for (int i = 0; i < 5000 && dns.questions() == 0; ++i)
        cogent::sleep(1ms);
    ASSERT_GE(dns.questions(), 1);
    EXPECT_TRUE(t.kill(nullptr, true, patience));
    EXPECT_TRUE(t.killed());
    EXPECT_EQ(open_fds(), fds_before);  // c-ares' sockets are closed (the fixture checks the hub)
}

}  // namespace
