// getaddrinfo, gethostbyname and gethostbyname_r inside greenlets: answered by cogent's resolver
// with libc's layout (freed by libc's freeaddrinfo: ASan and valgrind see any mismatch), and
// compared with libc's own answers where the two must agree.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cogent/task.hpp"
#include "hooks/hooks_test_support.hpp"

namespace cogent_test {
namespace {

using ResolveHooks = Hooks;

std::set<std::string> addresses(const addrinfo* list, int* count = nullptr) {
    std::set<std::string> found;
    int n = 0;
    for (const addrinfo* a = list; a != nullptr; a = a->ai_next, ++n) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* raw = a->ai_family == AF_INET
                              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
                              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
        ::inet_ntop(a->ai_family, raw, text, sizeof text);
        found.insert(text);
    }
    if (count != nullptr) *count = n;
    return found;
}

TEST_F(ResolveHooks, LocalhostComesFromTheHostsFileWithThePortAndSocketTypes) {
    cogent::run([] {
        addrinfo hints{};
        hints.ai_family = AF_INET;
        addrinfo* list = nullptr;
        ASSERT_EQ(::getaddrinfo("localhost", "8080", &hints, &list), 0);
        int count = 0;
        EXPECT_EQ(addresses(list, &count), std::set<std::string>{"127.0.0.1"});
        EXPECT_EQ(count, 3);  // SOCK_STREAM, SOCK_DGRAM and SOCK_RAW, as libc lists them
        EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(list->ai_addr)->sin_port), 8080);
        ::freeaddrinfo(list);

        hints.ai_socktype = SOCK_STREAM;
        ASSERT_EQ(::getaddrinfo("localhost", "http", &hints, &list), 0);
        EXPECT_EQ(list->ai_next, nullptr);
        EXPECT_EQ(list->ai_protocol, IPPROTO_TCP);
        EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(list->ai_addr)->sin_port), 80);
        ::freeaddrinfo(list);

        ASSERT_EQ(::getaddrinfo("localhost", nullptr, nullptr, &list), 0);
        EXPECT_TRUE(addresses(list).count("127.0.0.1"));
        ::freeaddrinfo(list);
    });
}

TEST_F(ResolveHooks, FailuresAndBadArgumentsAreLibcsCodes) {
    int libc_answer = 0;
    {
        addrinfo* list = nullptr;
        libc_answer = ::getaddrinfo("nosuch.invalid", "80", nullptr, &list);  // outside: libc
        if (libc_answer == 0) ::freeaddrinfo(list);
    }
    cogent::run([&] {
        addrinfo* list = nullptr;
        int answer = ::getaddrinfo("nosuch.invalid", "80", nullptr, &list);
        EXPECT_NE(answer, 0);
        if (libc_answer == EAI_NONAME) {
            EXPECT_EQ(answer, EAI_NONAME) << ::gai_strerror(answer);
        }
        addrinfo hints{};
        hints.ai_flags = AI_NUMERICSERV;
        EXPECT_EQ(::getaddrinfo("localhost", "http", &hints, &list), EAI_NONAME);
        hints.ai_flags = 0;
        hints.ai_socktype = SOCK_STREAM;
        EXPECT_EQ(::getaddrinfo("localhost", "no-such-service", &hints, &list), EAI_SERVICE);
        hints.ai_family = 12345;
        EXPECT_EQ(::getaddrinfo("localhost", "80", &hints, &list), EAI_FAMILY);
    });
}

TEST_F(ResolveHooks, NumericHostsAndCanonicalNamesAreLibcsAnswers) {
    cogent::run([] {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* list = nullptr;
        ASSERT_EQ(::getaddrinfo("10.1.2.3", "443", &hints, &list), 0);
        EXPECT_EQ(addresses(list), std::set<std::string>{"10.1.2.3"});
        ::freeaddrinfo(list);
        hints.ai_flags = AI_CANONNAME;
        hints.ai_family = AF_INET;
        ASSERT_EQ(::getaddrinfo("localhost", "80", &hints, &list), 0);
        ASSERT_NE(list->ai_canonname, nullptr);
        EXPECT_STREQ(list->ai_canonname, "localhost");
        ::freeaddrinfo(list);
    });
}

TEST_F(ResolveHooks, LookupsInManyGreenletsOverlap) {
    cogent::run([] {
        std::vector<cogent::task<int>> lookups;
        for (int i = 0; i < 20; ++i) {
            lookups.push_back(cogent::spawn([] {
                addrinfo hints{};
                hints.ai_family = AF_INET;
                addrinfo* list = nullptr;
                int answer = ::getaddrinfo("localhost", "80", &hints, &list);
                if (answer == 0) ::freeaddrinfo(list);
                return answer;
            }));
        }
        for (auto& t : lookups) EXPECT_EQ(t.get(), 0);
    });
}

TEST_F(ResolveHooks, GethostbynameFillsAThreadLocalEntry) {
    cogent::run([] {
        hostent* entry = ::gethostbyname("localhost");
        ASSERT_NE(entry, nullptr);
        EXPECT_STREQ(entry->h_name, "localhost");
        EXPECT_EQ(entry->h_addrtype, AF_INET);
        EXPECT_EQ(entry->h_length, 4);
        ASSERT_NE(entry->h_addr_list[0], nullptr);
        in_addr first;
        std::memcpy(&first, entry->h_addr_list[0], 4);
        EXPECT_EQ(first.s_addr, htonl(INADDR_LOOPBACK));
        EXPECT_EQ(entry->h_aliases[0], nullptr);

        h_errno = 0;
        EXPECT_EQ(::gethostbyname("nosuch.invalid"), nullptr);
        EXPECT_NE(h_errno, 0);
    });
}

TEST_F(ResolveHooks, GethostbynameRUsesTheCallersBufferAsLibcDoes) {
    cogent::run([] {
        hostent entry{};
        hostent* result = nullptr;
        int error = 0;
        char small[8];
        EXPECT_EQ(::gethostbyname_r("localhost", &entry, small, sizeof small, &result, &error), ERANGE);
        EXPECT_EQ(result, nullptr);
        EXPECT_EQ(error, NETDB_INTERNAL);
        char buffer[1024];
        ASSERT_EQ(::gethostbyname_r("localhost", &entry, buffer, sizeof buffer, &result, &error), 0);
        ASSERT_EQ(result, &entry);
        EXPECT_STREQ(entry.h_name, "localhost");
        EXPECT_GE(entry.h_addr_list[0], buffer);
        EXPECT_LT(entry.h_addr_list[0], buffer + sizeof buffer);
        EXPECT_EQ(::gethostbyname_r("nosuch.invalid", &entry, buffer, sizeof buffer, &result, &error), 0);
        EXPECT_EQ(result, nullptr);
        EXPECT_TRUE(error == HOST_NOT_FOUND || error == TRY_AGAIN) << error;
    });
}

}  // namespace
}  // namespace cogent_test
