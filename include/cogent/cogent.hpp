// Everything cogent offers, in one include.
#pragma once

// greenlet layer
#include "cogent/errors.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/greenlet_local.hpp"
#include "cogent/switch_value.hpp"

// hub layer
#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/observability.hpp"
#include "cogent/signal.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/thread_pool.hpp"
#include "cogent/time.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"

// sync layer
#include "cogent/async_result.hpp"
#include "cogent/channel.hpp"
#include "cogent/condition_variable.hpp"
#include "cogent/event.hpp"
#include "cogent/group.hpp"
#include "cogent/mutex.hpp"
#include "cogent/pool.hpp"
#include "cogent/queue.hpp"
#include "cogent/queue_errors.hpp"
#include "cogent/semaphore.hpp"

// net layer: sockets, name resolution, TLS, servers
#include "cogent/datagram_server.hpp"
#include "cogent/dtls.hpp"
#include "cogent/endpoint.hpp"
#include "cogent/line_reader.hpp"
#include "cogent/listener.hpp"
#include "cogent/net_errors.hpp"
#include "cogent/resolve.hpp"
#include "cogent/socket.hpp"
#include "cogent/stream_server.hpp"
#include "cogent/stream_socket.hpp"
#include "cogent/tcp.hpp"
#include "cogent/tls.hpp"
#include "cogent/udp.hpp"
#include "cogent/unix.hpp"

// hooks: monkey patching (the interposers themselves are in cogent::hooks or libcogent_hooks.so;
// the HTTP client, cogent/http.hpp, is left out so that only programs using it load libcurl)
#include "cogent/monkey.hpp"
