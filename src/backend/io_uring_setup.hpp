// Making the io_uring backend's ring.
#pragma once

#include <liburing.h>

namespace cogent::detail {

// Initialises `ring` with `entries` entries, or throws backend_error saying why io_uring is
// unavailable here (refused, missing, or lacking the features the backend needs: Linux 5.11).
void init_ring(io_uring& ring, unsigned entries);

}  // namespace cogent::detail
