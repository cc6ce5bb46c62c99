/* livebench.c: the live-session benchmark's clients (tests/bench/live.py
 * sets up the accounts and the cohort): N learners log in and LIVE JOIN
 * over CTP/1, spread over the ports given, then a trainer sends R LIVE GOTO
 * one after the other; for each, the time from writing the GOTO to the
 * last learner's "* LIVE GOTO" line, and to each learner's. Prints one
 * line of figures; asserts nothing about speed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define LB_CONNS_MAX 20000
#define LB_PORTS_MAX 8
#define LB_LINE_MAX  65536

struct lb_conn {
    struct bufferevent *bev;
    int idx;                     /* -1: the trainer */
    int answers;                 /* responses read */
    long long skip;              /* body bytes (with CRLF) still to skip */
    int round_seen;              /* the last round whose GOTO it had */
};

static struct {
    struct event_base *base;
    int nports, ports[LB_PORTS_MAX];
    int n, rounds, gap_ms;
    const char *prefix, *password, *cohort, *trainer;
    struct lb_conn *learners, trainer_conn;
    int ready;                   /* learners joined */
    int round;                   /* current round, from 1 */
    int got;                     /* learners that had it */
    double t0;
    double *last, *each;         /* per round: to the last learner; per push */
    size_t neach;
    int errors;
    bool started;
} lb;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
    fprintf(stderr, "livebench: %s\n", msg);
    exit(1);
}

static void send_goto(evutil_socket_t fd, short what, void *arg)
{
    char line[128];

    lb.round++;
    lb.got = 0;
    snprintf(line, sizeof(line), "LIVE GOTO %s\r\n", lb.round % 2 ? "demo/welcome" : "demo/lists");
    lb.t0 = now();
    bufferevent_write(lb.trainer_conn.bev, line, strlen(line));
}

static void next_round(void)
{
    if (lb.round >= lb.rounds) {
        event_base_loopexit(lb.base, NULL);
        return;
    }
    struct timeval tv = { lb.gap_ms / 1000, (lb.gap_ms % 1000) * 1000 };
    event_base_once(lb.base, -1, EV_TIMEOUT, send_goto, NULL, &tv);
}

static void send_login(struct lb_conn *c)
{
    char buf[256];

    if (c->idx < 0)
        snprintf(buf, sizeof(buf), "LOGIN %s \"%s\"\r\n", lb.trainer, lb.password);
    else
        snprintf(buf, sizeof(buf), "LOGIN %s%04d \"%s\"\r\n", lb.prefix, c->idx, lb.password);
    bufferevent_write(c->bev, buf, strlen(buf));
}

static void login_again(evutil_socket_t fd, short what, void *arg)
{
    send_login(arg);
}

/* One line of a connection: a status line (maybe announcing a body) or a
 * push. */
static void on_line(struct lb_conn *c, const char *line, size_t len)
{
    if (len >= 2 && line[0] == '*' && line[1] == ' ') {
        if (c->idx >= 0 && len > 12 && strncmp(line, "* LIVE GOTO ", 12) == 0 && lb.round > 0 &&
            c->round_seen < lb.round) {
            double dt = now() - lb.t0;
            c->round_seen = lb.round;
            lb.each[lb.neach++] = dt;
            if (++lb.got == lb.n) {
                lb.last[lb.round - 1] = dt;
                next_round();
            }
        }
        return;
    }
    const char *br = len > 3 && line[len - 1] == '}' ? memrchr(line, '{', len) : NULL;
    if (br)
        c->skip = strtoll(br + 1, NULL, 10) + 2;
    c->answers++;
    if (c->answers == 1)
        return;                  /* the greeting */
    if (c->answers == 2) {
        /* LOGIN: the hash pool may be full ("503 too many logins at once"):
         * it is asked again a moment later. */
        if (strncmp(line, "503 ", 4) == 0) {
            c->answers = 1;
            struct timeval tv = { 0, 50000 };
            event_base_once(lb.base, -1, EV_TIMEOUT, login_again, c, &tv);
            return;
        }
        if (strncmp(line, "200 ", 4) != 0) {
            fprintf(stderr, "livebench: conn %d: %.*s\n", c->idx, (int)len, line);
            exit(1);
        }
        char buf[128];
        if (c->idx < 0)
            snprintf(buf, sizeof(buf), "LIVE START %s\r\n", lb.cohort);
        else
            snprintf(buf, sizeof(buf), "LIVE JOIN %s\r\n", lb.cohort);
        bufferevent_write(c->bev, buf, strlen(buf));
        return;
    }
    if (strncmp(line, "200 ", 4) != 0 && strncmp(line, "201 ", 4) != 0) {
        fprintf(stderr, "livebench: conn %d: %.*s\n", c->idx, (int)len, line);
        lb.errors++;
    }
    /* learners: greeting, LOGIN, JOIN; the trainer: greeting, LOGIN, START */
    if (c->answers == 3 && c->idx >= 0 && ++lb.ready == lb.n && lb.trainer_conn.answers >= 3)
        next_round();
    else if (c->answers == 3 && c->idx < 0 && lb.ready == lb.n)
        next_round();
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct lb_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    for (;;) {
        if (c->skip > 0) {
            size_t have = evbuffer_get_length(in);
            size_t take = have < (size_t)c->skip ? have : (size_t)c->skip;
            evbuffer_drain(in, take);
            c->skip -= (long long)take;
            if (c->skip > 0)
                return;
        }
        size_t len;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
        if (line == NULL) {
            if (evbuffer_get_length(in) > LB_LINE_MAX)
                die("a line too long");
            return;
        }
        on_line(c, line, len);
        free(line);
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct lb_conn *c = arg;

    if (what & BEV_EVENT_CONNECTED) {
        send_login(c);
        return;
    }
    fprintf(stderr, "livebench: conn %d: %s\n", c->idx, what & BEV_EVENT_EOF ? "closed" : strerror(errno));
    exit(1);
}

static void open_conn(struct lb_conn *c, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

    c->bev = bufferevent_socket_new(lb.base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect failed");
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1] * 1000;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' }, { "learners", required_argument, NULL, 'n' },
        { "rounds", required_argument, NULL, 'r' }, { "gap-ms", required_argument, NULL, 'g' },
        { "prefix", required_argument, NULL, 'x' }, { "password", required_argument, NULL, 'w' },
        { "cohort", required_argument, NULL, 'c' }, { "trainer", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    int o;

    lb.n = 2000;
    lb.rounds = 50;
    lb.gap_ms = 100;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            if (lb.nports == LB_PORTS_MAX)
                die("too many ports");
            lb.ports[lb.nports++] = atoi(optarg);
            break;
        case 'n': lb.n = atoi(optarg); break;
        case 'r': lb.rounds = atoi(optarg); break;
        case 'g': lb.gap_ms = atoi(optarg); break;
        case 'x': lb.prefix = optarg; break;
        case 'w': lb.password = optarg; break;
        case 'c': lb.cohort = optarg; break;
        case 't': lb.trainer = optarg; break;
        default: die("usage: livebench --port P [--port P2] --learners N --rounds R --gap-ms G "
                     "--prefix P --password W --cohort ID --trainer NAME");
        }
    }
    if (lb.nports == 0 || !lb.prefix || !lb.password || !lb.cohort || !lb.trainer || lb.n < 1 ||
        lb.n > LB_CONNS_MAX || lb.rounds < 1)
        die("usage: livebench --port P [--port P2] --learners N --rounds R --gap-ms G "
            "--prefix P --password W --cohort ID --trainer NAME");
    lb.base = event_base_new();
    lb.learners = calloc((size_t)lb.n, sizeof(*lb.learners));
    lb.last = calloc((size_t)lb.rounds, sizeof(double));
    lb.each = calloc((size_t)lb.n * (size_t)lb.rounds, sizeof(double));
    double t_join = now();
    for (int i = 0; i < lb.n; i++) {
        lb.learners[i].idx = i;
        open_conn(&lb.learners[i], lb.ports[i % lb.nports]);
    }
    lb.trainer_conn.idx = -1;
    open_conn(&lb.trainer_conn, lb.ports[0]);
    event_base_dispatch(lb.base);
    double total = now() - t_join;
    if (lb.round < lb.rounds)
        die("the run stopped early");
    qsort(lb.last, (size_t)lb.rounds, sizeof(double), cmp);
    qsort(lb.each, lb.neach, sizeof(double), cmp);
    printf("learners=%d rounds=%d goto_to_last_p50_ms=%.2f goto_to_last_p99_ms=%.2f "
           "goto_to_last_max_ms=%.2f push_p50_ms=%.2f push_p99_ms=%.2f errors=%d total_s=%.1f\n",
           lb.n, lb.rounds, pct(lb.last, (size_t)lb.rounds, 0.5), pct(lb.last, (size_t)lb.rounds, 0.99),
           lb.last[lb.rounds - 1] * 1000, pct(lb.each, lb.neach, 0.5), pct(lb.each, lb.neach, 0.99),
           lb.errors, total);
    return lb.errors ? 1 : 0;
}
