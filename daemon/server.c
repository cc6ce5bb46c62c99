/* server.c: a worker's event loop: listeners, accept and connection limits,
 * signals, and the drain on shutdown. */
#include "campusd.h"
#include "cohort-time.h"
#include "cohort.h"
#include "auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct server server;

double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections per client address ---- */

#define ADDR_BUCKETS 4096
struct addr_count {
    char addr[64];
    long n;
    struct addr_count *next;
};
static struct addr_count *addr_table[ADDR_BUCKETS];

static size_t addr_hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % ADDR_BUCKETS;
}

static struct addr_count **addr_find(const char *addr)
{
    struct addr_count **pp = &addr_table[addr_hash(addr)];
    while (*pp && strcmp((*pp)->addr, addr) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Counts a new connection from addr; false if that address is at its limit. */
static bool addr_take(const char *addr)
{
    struct addr_count **pp = addr_find(addr);

    if (*pp == NULL) {
        *pp = xcalloc(1, sizeof(**pp));
        snprintf((*pp)->addr, sizeof((*pp)->addr), "%s", addr);
    }
    if ((*pp)->n >= cfg.max_conns_per_addr)
        return false;
    (*pp)->n++;
    return true;
}

void server_release_addr(const char *addr)
{
    struct addr_count **pp = addr_find(addr);

    if (*pp && --(*pp)->n == 0) {
        struct addr_count *a = *pp;
        *pp = a->next;
        free(a);
    }
}

/* ---- accepting ---- */

static void reject(int fd, const char *line)
{
    /* One line, best effort, then close: the socket is new and its buffer
     * empty, so a short write does not block. */
    ssize_t n = write(fd, line, strlen(line));
    (void)n;
    close(fd);
    stats.conns_rejected++;
}

/* A connection whose client address is known: the peer's, or the one a
 * trusted balancer's PROXY header gave. The limits count that address. */
static void accept_client(int fd, const char *addr, bool tls)
{
    if (server.draining) {
        reject(fd, "503 server shutting down\r\n");
        return;
    }
    if ((long)conn_count() >= cfg.max_conns) {
        reject(fd, "503 too many connections\r\n");
        return;
    }
    if (!addr_take(addr)) {
        reject(fd, "503 too many connections from your address\r\n");
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SSL *ssl = NULL;
    if (tls) {
        ssl = SSL_new(server.ssl_ctx);
        if (ssl == NULL) {
            server_release_addr(addr);
            close(fd);
            return;
        }
    }
    conn_new(server.base, fd, addr, ssl);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    bool tls = arg != NULL;
    char addr[64] = "?";

    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
    if (proxy_on(tls ? PROXY_TLS : PROXY_TEXT) && proxy_trusted(sa) && !server.draining) {
        proxy_wait(server.base, fd, addr, tls, accept_client);
        return;
    }
    accept_client(fd, addr, tls);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();
    /* EMFILE and friends: log and go on; the listener keeps listening. */
    log_warn("accept: %s", evutil_socket_error_to_string(err));
}

/* Binds with SO_REUSEPORT so that several workers share the port. */
static int bind_socket(const char *host, long port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
    struct addrinfo *res;
    char portstr[16];

    snprintf(portstr, sizeof(portstr), "%ld", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        log_error("bind %s:%ld: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        log_error("bind %s:%ld: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static struct evconnlistener *listen_on(long port, bool tls)
{
    int fd = bind_socket(cfg.bind, port);
    if (fd < 0)
        return NULL;
    struct evconnlistener *l = evconnlistener_new(server.base, accept_cb, tls ? (void *)1 : NULL,
                                                  LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (l == NULL) {
        close(fd);
        return NULL;
    }
    evconnlistener_set_error_cb(l, accept_error_cb);
    return l;
}

/* ---- signals and shutdown ---- */

static struct event *drain_timer;
static double drain_deadline;

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
    if (conn_count() == 0 || now_mono() >= drain_deadline) {
        if (conn_count() > 0)
            log_warn("shutdown: %zu connections still busy after %ld s; exiting",
                     conn_count(), cfg.shutdown_timeout);
        event_base_loopexit(server.base, NULL);
    }
}

static void begin_shutdown(void)
{
    if (server.draining)
        return;
    server.draining = true;
    log_info("shutdown: no new connections; finishing what is in flight");
    if (server.text_listener)
        evconnlistener_disable(server.text_listener);
    if (server.tls_listener)
        evconnlistener_disable(server.tls_listener);
    conn_drain_all();
    live_sse_stop();             /* browsers resume their streams elsewhere */
    drain_deadline = now_mono() + (double)cfg.shutdown_timeout;
    drain_timer = event_new(server.base, -1, EV_PERSIST, shutdown_tick, NULL);
    struct timeval tv = { 0, 50000 };
    event_add(drain_timer, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    if (sig == SIGTERM || sig == SIGINT) {
        begin_shutdown();
    } else if (sig == SIGCHLD) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            embed_child_exited(pid, status);
    } else if (sig == SIGHUP) {
        log_info("SIGHUP: reloading courses");
        courses_reload();
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    embed_restart_if_needed();
    exercise_review_repair_tick();
    stats_publish();
    cohort_tick();
    live_bus_tick();
}

int server_run(int worker_id, SSL_CTX *ssl_ctx)
{
    struct event *sigs[4], *tick;
    int signums[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP };

    memset(&server, 0, sizeof(server));
    server.worker_id = worker_id;
    cmd_init();
    stats.started = time(NULL);
    stats_attach(worker_id);
    /* With the changelist, turning EV_WRITE on and off within one loop
     * iteration (every answer does) costs no epoll_ctl. */
    struct event_config *ecfg = event_config_new();
    event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    server.base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    if (server.base == NULL)
        fatal("event_base_new failed");
    for (int i = 0; i < 4; i++) {
        sigs[i] = evsignal_new(server.base, signums[i], signal_cb, NULL);
        event_add(sigs[i], NULL);
    }
    tick = event_new(server.base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval one = { 1, 0 };
    event_add(tick, &one);

    server.ssl_ctx = ssl_ctx;
    int rc = 0;
    if (cfg.text_port && (server.text_listener = listen_on(cfg.text_port, false)) == NULL)
        rc = 1;
    if (rc == 0 && cfg.tls_port && server.ssl_ctx &&
        (server.tls_listener = listen_on(cfg.tls_port, true)) == NULL)
        rc = 1;
    if (rc == 0 && cfg.http_port) {
        int fd = bind_socket(cfg.bind, cfg.http_port);
        if (fd < 0 || http_start(server.base, &cfg, fd) < 0)
            rc = 1;
    }
    if (rc == 0) {
        store_start(server.base, &cfg);
        bus_start(server.base);
        /* Worker 0's listeners are bound: the service is ready (a unit
         * with several workers sets NotifyAccess=all). */
        if (worker_id == 0) {
            char state[64];
            snprintf(state, sizeof(state), "READY=1\nMAINPID=%d\n",
                     (int)(cfg.workers > 1 ? getppid() : getpid()));
            notify_systemd(state);
        }
        live_bus_start(server.base);
        log_info("worker %d ready: ctp %s:%ld, tls %ld, http %ld", worker_id, cfg.bind,
                 cfg.text_port, server.tls_listener ? cfg.tls_port : 0L, cfg.http_port);
        event_base_dispatch(server.base);
        log_info("worker %d stopped", worker_id);
    }

    /* Whatever is still open goes now; requests still waiting on Redis are
     * answered into the void by store_stop, which frees them. An HTTP
     * request's evhttp request stays alive until then: evhttp_free frees a
     * pending request without its error callback, so freeing it first left
     * the answer a dangling request to write into. */
    conn_close_all();
    proxy_wait_free_all();
    live_sse_stop();
    if (server.text_listener)
        evconnlistener_free(server.text_listener);
    if (server.tls_listener)
        evconnlistener_free(server.tls_listener);
    auth_pool_stop();            /* hashes in flight answer 503 before the store goes */
    bus_stop();
    live_bus_stop();
    store_stop();
    http_stop();
    read_cache_free();
    search_cache_free();
    http_static_free();
    ctz_cache_free();
    if (drain_timer)
        event_free(drain_timer);
    drain_timer = NULL;
    for (int i = 0; i < 4; i++)
        event_free(sigs[i]);
    event_free(tick);
    event_base_free(server.base);
    return rc;
}
