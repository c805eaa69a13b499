// The queue exceptions' default messages, in one place.
#include "cogent/queue_errors.hpp"

namespace cogent {

queue_empty::queue_empty() : std::runtime_error("cogent: the queue is empty") {}
queue_empty::queue_empty(const std::string& what) : std::runtime_error(what) {}

queue_full::queue_full() : std::runtime_error("cogent: the queue is full") {}
queue_full::queue_full(const std::string& what) : std::runtime_error(what) {}

queue_closed::queue_closed() : std::runtime_error("cogent: the queue is closed") {}
queue_closed::queue_closed(const std::string& what) : std::runtime_error(what) {}

}  // namespace cogent
