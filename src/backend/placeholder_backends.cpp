// TEMPORARY during development: replaced by select.cpp, poll.cpp, io_uring.cpp.
#include "backend/backend.hpp"
#include "cogent/errors.hpp"
namespace cogent::detail {
std::unique_ptr<backend> make_select_backend() { throw backend_error("select: in progress"); }
std::unique_ptr<backend> make_poll_backend() { throw backend_error("poll: in progress"); }
std::unique_ptr<backend> make_io_uring_backend() { throw backend_error("io_uring: in progress"); }
}
