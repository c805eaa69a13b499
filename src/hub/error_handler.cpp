// What happens to exceptions nobody else will see (gevent's Hub.handle_error).
#include <cstdio>
#include <mutex>
#include <string>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"

namespace cogent {
namespace {

std::mutex handler_mutex;
error_handler& handler() {
    static error_handler* h = new error_handler;  // never destroyed: threads may report after exit
    return *h;
}

void print_error(std::string_view where, std::exception_ptr error) {
    std::string name(where);
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cogent: task '%s' failed with %s: %s\n", name.c_str(), type_name(typeid(e)).c_str(),
                     e.what());
    } catch (...) {
        std::fprintf(stderr, "cogent: task '%s' failed with an exception not derived from std::exception\n",
                     name.c_str());
    }
}

}  // namespace

error_handler set_error_handler(error_handler h) {
    std::lock_guard lock(handler_mutex);
    std::swap(handler(), h);
    return h;
}

void report_error(std::string_view where, std::exception_ptr error) noexcept {
    if (!error) return;
    error_handler h;
    {
        std::lock_guard lock(handler_mutex);
        h = handler();
    }
    try {
        if (h) {
            h(where, error);
        } else {
            print_error(where, error);
        }
    } catch (...) {
        std::fputs("cogent: the error handler itself raised an exception\n", stderr);
    }
}

}  // namespace cogent
