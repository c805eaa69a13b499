/* The classic baseline for bench/echo/echo_compare.sh: a single-threaded, level-triggered epoll
 * echo server in plain C, written the way such servers have been written since epoll appeared.
 * It sends back every byte it receives, upper-cased (ASCII a-z only), so that the load generator
 * can tell an echo from a bug.
 *
 *   epoll_server --port N     (0: an ephemeral port; binds 127.0.0.1)
 *
 * Once listening it prints "listening on port <N>" and nothing else; SIGTERM or SIGINT ends it.
 */
#define _GNU_SOURCE /* accept4 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    RECV_SIZE = 16 * 1024,
    /* Past this much unsent output a connection stops being read until the peer has taken it,
     * so a client that sends without reading cannot make the server hold unbounded memory. */
    MAX_PENDING = 1024 * 1024,
    MAX_EVENTS = 256,
};

/* What a connection has not been able to send yet. Most connections never need the buffer (the
 * reply to one recv fits in the socket's send buffer), so it is allocated on the first partial
 * write only and kept for the connection's life. */
struct conn {
    int open;
    char *out;
    size_t out_start, out_end, out_cap;
    unsigned events; /* what the fd is registered for, so epoll_ctl runs only on a change */
};

static struct conn *conns; /* indexed by fd: fds are small and dense */
static size_t conns_size;
static int epfd;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static struct conn *conn_for(int fd) {
    if ((size_t)fd >= conns_size) {
        size_t size = conns_size ? conns_size : 1024;
        while (size <= (size_t)fd) size *= 2;
        struct conn *grown = realloc(conns, size * sizeof *grown);
        if (!grown) die("realloc");
        memset(grown + conns_size, 0, (size - conns_size) * sizeof *grown);
        conns = grown;
        conns_size = size;
    }
    return &conns[fd];
}

static void close_conn(int fd) {
    struct conn *c = &conns[fd];
    free(c->out);
    memset(c, 0, sizeof *c);
    close(fd); /* closing also removes the fd from the epoll set */
}

/* Registers for EPOLLIN while the pending output is under the bound, and for EPOLLOUT only while
 * there is pending output: level-triggered EPOLLOUT on an idle socket would wake the loop on
 * every pass. */
static void update_events(int fd, struct conn *c) {
    size_t pending = c->out_end - c->out_start;
    unsigned events = (pending < MAX_PENDING ? EPOLLIN : 0) | (pending ? EPOLLOUT : 0);
    if (events == c->events) return;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl");
    c->events = events;
}

/* Sends what is pending. Returns -1 when the connection is dead and has been closed. */
static int flush_out(int fd, struct conn *c) {
    while (c->out_start < c->out_end) {
        ssize_t n = send(fd, c->out + c->out_start, c->out_end - c->out_start, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            close_conn(fd);
            return -1;
        }
        c->out_start += (size_t)n;
    }
    if (c->out_start == c->out_end) c->out_start = c->out_end = 0;
    return 0;
}

/* Appends the part of a reply that the socket did not take. */
static void queue_out(struct conn *c, const char *data, size_t len) {
    if (c->out_start > 0 && c->out_end + len > c->out_cap) {
        memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
    }
    if (c->out_end + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : RECV_SIZE;
        while (cap < c->out_end + len) cap *= 2;
        char *grown = realloc(c->out, cap);
        if (!grown) die("realloc");
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_end, data, len);
    c->out_end += len;
}

static void on_readable(int fd, struct conn *c) {
    static char buf[RECV_SIZE];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
        /* EOF, ECONNRESET or any other error ends the connection; EAGAIN is a spurious wake-up. */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        close_conn(fd);
        return;
    }
    for (ssize_t i = 0; i < n; ++i) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch >= 'a' && ch <= 'z') buf[i] = (char)(ch - ('a' - 'A'));
    }
    size_t sent = 0;
    if (c->out_start == c->out_end) { /* nothing queued: try to send straight away */
        while (sent < (size_t)n) {
            ssize_t w = send(fd, buf + sent, (size_t)n - sent, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                close_conn(fd);
                return;
            }
            sent += (size_t)w;
        }
    }
    if (sent < (size_t)n) queue_out(c, buf + sent, (size_t)n - sent);
    update_events(fd, c);
}

static void on_acceptable(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            /* EMFILE and the like: leave the rest in the backlog and try on the next wake-up (which
             * comes at once: the comparison never runs out of fds, so this is not worth more). */
            perror("accept4");
            return;
        }
        /* Replies go out as soon as they are made, as Go does for every TCP connection. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = conn_for(fd);
        c->open = 1;
        c->events = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
}

static int parse_port(int argc, char **argv) {
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            long value = strtol(argv[++i], &end, 10);
            if (*end != '\0' || value < 0 || value > 65535) goto usage;
            port = (int)value;
        } else {
            goto usage;
        }
    }
    return port;
usage:
    fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
    exit(2);
}

int main(int argc, char **argv) {
    int port = parse_port(argc, argv);

    /* No SA_RESTART, so that a signal interrupts epoll_wait and the loop sees `stopping`. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* belt and braces: every send also passes MSG_NOSIGNAL */

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    /* A deep backlog, so that a thousand clients connecting at once are not refused. */
    if (listen(lfd, 4096) < 0) die("listen");
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0) die("getsockname");

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");

    printf("listening on port %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    while (!stopping) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                on_acceptable(lfd);
                continue;
            }
            struct conn *c = &conns[fd];
            /* An fd closed earlier in this batch is skipped (its number may even have been reused
             * by an accept in this batch, in which case this spurious wake-up is harmless). */
            if (!c->open) continue;
            unsigned got = events[i].events;
            if (got & EPOLLOUT) {
                if (flush_out(fd, c) < 0) continue;
                update_events(fd, c);
            }
            /* EPOLLHUP and EPOLLERR go through recv, which reports the EOF or the error. */
            if ((got & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (c->events & EPOLLIN)) on_readable(fd, c);
            else if ((got & (EPOLLHUP | EPOLLERR)) && !(got & EPOLLOUT)) close_conn(fd);
        }
    }
    return 0;
}
