// What the newer examples' command lines share: a usage error that exits with status 2, and
// numbers checked as they are read (a typo is an error, never a silent 0).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace cogent_examples {

class command_line {
public:
    // `usage`: the synopsis printed after "usage: " with every complaint.
    command_line(const char* program, const char* usage) : program_(program), usage_(usage) {}

    // "<program>: <complaint>" and the usage on stderr, then exit status 2.
    [[noreturn]] void fail(const std::string& complaint) const {
        std::fprintf(stderr, "%s: %s\nusage: %s\n", program_, complaint.c_str(), usage_);
        std::exit(2);
    }

    // The decimal number `text` given for `option`, at most `max`.
    unsigned long number(const char* text, std::string_view option, unsigned long max) const {
        char* end = nullptr;
        errno = 0;
        unsigned long value = std::strtoul(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || *text == '-' || value > max) {
            fail(std::string(option) + " needs a number up to " + std::to_string(max));
        }
        return value;
    }

private:
    const char* program_;
    const char* usage_;
};

}  // namespace cogent_examples
