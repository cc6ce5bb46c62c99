/* fuzz_http.c: raw bytes as an HTTP client would send them, through
 * campusd's own HTTP handling: libevent's evhttp parses them and calls
 * http.c's dispatch (healthz, metrics, the API routes onto the command
 * table, static files), exactly as on the HTTP port. The connection is a
 * unix socket in the abstract namespace: no network, no file. The progress
 * store is down, as it is between reconnects, so store commands answer 503.
 * Checks, beyond "no crash, no leak": every answer starts with a status
 * line (for HTTP/1.x requests). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "campusd.h"

#ifndef FUZZ_SOURCE_DIR
#define FUZZ_SOURCE_DIR "."
#endif

/* Requests beyond this are cut: evhttp's own limits are tested on the
 * header block and body sizes configured below, far under it. */
#define FUZZ_HTTP_INPUT_MAX (64 * 1024)
/* Loop passes per input before we stop waiting for an answer. */
#define FUZZ_HTTP_PASSES    400
/* Passes without a new byte of answer before the client half-closes. */
#define FUZZ_HTTP_QUIET     16

static struct sockaddr_un addr;
static socklen_t addrlen;
static bool ready;

static void setup(void)
{
    config_defaults(&cfg);
    config_set(&cfg, "courses", FUZZ_SOURCE_DIR "/tests/fixtures/courses-good", NULL, 0);
    config_set(&cfg, "web", FUZZ_SOURCE_DIR "/clients/web", NULL, 0);
    config_set(&cfg, "data", "/nonexistent", NULL, 0);
    config_set(&cfg, "http_header_max", "4096", NULL, 0);
    config_set(&cfg, "http_body_max", "16384", NULL, 0);
    log_set_level("error");
    cmd_init();
    if (courses_reload() < 0)
        abort();
    server.base = event_base_new();
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    /* Abstract: sun_path[0] is NUL. */
    int n = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "campus-fuzz-http-%d", (int)getpid());
    addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, addrlen) < 0 || listen(lfd, 16) < 0 ||
        http_start(server.base, &cfg, lfd) < 0)
        abort();
    ready = true;
}

/* One pass of the loop, then what the client can read. Returns false at
 * the server's EOF. */
static bool pump(int fd, struct sbuf *got)
{
    char buf[16384];

    event_base_loop(server.base, EVLOOP_NONBLOCK);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            sbuf_add(got, buf, (size_t)n);
            continue;
        }
        return !(n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR));
    }
}

/* Whether the first request line ends in HTTP/1.0 or 1.1: evhttp answers
 * other versions (0.9) without a status line, by design. */
static bool asks_http1(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    if (n && data[n - 1] == '\r')
        n--;
    /* evhttp reads the line as a C string: a NUL ends it early. */
    return n >= 9 && memchr(data, '\0', n) == NULL && (memcmp(data + n - 9, " HTTP/1.0", 9) == 0 ||
                      memcmp(data + n - 9, " HTTP/1.1", 9) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sbuf got = {0};

    if (!ready)
        setup();
    if (size > FUZZ_HTTP_INPUT_MAX)
        size = FUZZ_HTTP_INPUT_MAX;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addrlen) < 0)
        abort();
    size_t sent = 0, had = 0;
    bool open = true, half_closed = false;
    int quiet = 0;
    for (int pass = 0; pass < FUZZ_HTTP_PASSES && open; pass++) {
        if (sent < size) {
            ssize_t n = write(fd, data + sent, size - sent);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                sent = size;                     /* the server closed on us */
        } else if (!half_closed && quiet >= FUZZ_HTTP_QUIET) {
            /* All sent and nothing more comes: evhttp answers pipelined
             * requests one by one, so the EOF waits until it is idle. */
            shutdown(fd, SHUT_WR);
            half_closed = true;
        }
        open = pump(fd, &got);
        quiet = got.len == had ? quiet + 1 : 0;
        had = got.len;
    }
    close(fd);
    /* Let evhttp see the close and free the connection. */
    for (int pass = 0; pass < 8; pass++)
        event_base_loop(server.base, EVLOOP_NONBLOCK);
    if (got.len && asks_http1(data, size) && (got.len < 9 || memcmp(got.data, "HTTP/1.", 7) != 0))
        abort();
    if (getenv("FUZZ_HTTP_SHOW"))                /* to see what a seed reaches */
        fprintf(stderr, "--- %zu bytes in, %zu out\n%.*s\n", size, got.len, (int)got.len, got.data);
    sbuf_free(&got);
    return 0;
}
