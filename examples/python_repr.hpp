// Python's repr() of a bytes object, for the examples that print what the seed's Python prints
// (echo_client's "Received b'...'", fetch_pages' page bodies).
#pragma once

#include <string>
#include <string_view>

namespace cogent_examples {

// b'...', or b"..." when that needs fewer escapes, exactly as python3 writes it.
inline std::string python_bytes_repr(std::string_view data) {
    const bool has_single = data.find('\'') != std::string_view::npos;
    const bool has_double = data.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out = "b";
    out += quote;
    for (unsigned char c : data) {
        if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c >= 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += quote;
    return out;
}

}  // namespace cogent_examples
