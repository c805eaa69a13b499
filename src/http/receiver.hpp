// Reading a response: curl's header and write callbacks, filling an http::response in the
// requesting greenlet's frame within options::max_response_bytes. They run on the driver's
// stack, inside curl_multi_socket_action, and never throw into curl's C frames.
#pragma once

#include <cstddef>
#include <exception>
#include <string>

#include "cogent/http.hpp"

namespace cogent::http::detail {

struct receiver {
    response* out = nullptr;
    std::size_t limit = 0;         // for the body, and for the header fields of each response
    std::size_t header_bytes = 0;
    bool too_large = false;
    std::string field_name;        // the field being read, until the next line shows it complete
    std::string field_value;
    std::exception_ptr failure;    // bad_alloc, caught before it could cross curl's frames
};

// CURLOPT_HEADERFUNCTION and CURLOPT_WRITEFUNCTION, with a receiver* as their data.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user);
// Adds the field kept aside (see on_header) to the response's headers.
void flush_field(receiver& r);

}  // namespace cogent::http::detail
