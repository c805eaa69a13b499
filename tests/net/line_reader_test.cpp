// line_reader: lines whole, bounded memory, nothing lost to a timeout.
#include <gtest/gtest.h>

#include "cogent/errors.hpp"
#include "cogent/line_reader.hpp"
#include "cogent/unix.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::patience;
using namespace std::chrono_literals;

class LineReader : public cogent_test::hub_test {};

TEST_F(LineReader, SplitsLinesAcrossReadsAndStripsCarriageReturns) {
    auto pair = cogent::unix_stream::pair();  // not a structured binding: clang 14 cannot capture one
    cogent::unix_stream& a = pair.first;
    cogent::unix_stream& b = pair.second;
    auto writer = cogent::spawn([&a] {
        a.write_all("first\r\nsec", patience);
        cogent::yield();
        a.write_all("ond\n\nlast without newline", patience);
        a.shutdown(cogent::shutdown_type::write);
    });
    cogent::line_reader lines(b);
    EXPECT_EQ(lines.read_line(patience), "first");
    EXPECT_EQ(lines.read_line(patience), "second");
    EXPECT_EQ(lines.read_line(patience), "");
    EXPECT_EQ(lines.read_line(patience), "last without newline");
    EXPECT_EQ(lines.read_line(patience), std::nullopt);
    writer.get(patience);
}

TEST_F(LineReader, AHugeLineIsAnErrorWithBoundedMemory) {
    auto pair = cogent::unix_stream::pair();  // not a structured binding: clang 14 cannot capture one
    cogent::unix_stream& a = pair.first;
    cogent::unix_stream& b = pair.second;
    auto flood = cogent::spawn([&a] {
        std::string chunk(65536, 'x');
        std::error_code ec;
        for (int i = 0; i < 1000 && !ec; ++i) a.write_all(chunk, patience, ec);  // 64 MB, no newline
        return ec;
    });
    cogent::line_reader lines(b, 8192);
    std::error_code ec;
    EXPECT_EQ(lines.read_line(patience, ec), std::nullopt);
    EXPECT_EQ(ec, cogent::net_errc::message_too_long);
    EXPECT_LE(lines.buffered().size(), 8192u);
    EXPECT_THROW(lines.read_line(patience), std::system_error);
    b.close();  // the flooder now fails instead of waiting forever
    EXPECT_TRUE(flood.get(patience));
}

TEST_F(LineReader, ATimeoutLosesNothing) {
    auto pair = cogent::unix_stream::pair();  // not a structured binding: clang 14 cannot capture one
    cogent::unix_stream& a = pair.first;
    cogent::unix_stream& b = pair.second;
    a.write_all("half a ", patience);
    cogent::line_reader lines(b);
    EXPECT_THROW(lines.read_line(20ms), cogent::timeout_error);
    EXPECT_EQ(lines.buffered(), "half a ");
    a.write_all("line\n", patience);
    EXPECT_EQ(lines.read_line(patience), "half a line");
}

}  // namespace
