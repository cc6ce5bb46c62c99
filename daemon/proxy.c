/* proxy.c: the PROXY protocol v2 header a balancer (HAProxy's send-proxy-v2)
 * puts in front of a connection, so that per-address limits and logs see
 * the learner's address, not the balancer's. Taken only on listeners that
 * proxy_protocol names, and only from the addresses proxy_from trusts:
 * anyone else could claim to be anyone. From other addresses the listener
 * reads no header, so a forged one is just a bad request line.
 *
 * The parser is pure (bytes in, address out); the wait for the header on a
 * CTP/1 or TLS socket is a one-shot read event, bounded, before the
 * connection (or the TLS handshake) begins. HTTP reads it in http-conn.c. */
#include "campusd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROXY_NETS_MAX 32
#define PROXY_WAIT_S   5          /* a trusted balancer sends the header at once */

static const uint8_t proxy_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

int proxy_listeners_parse(const char *s)
{
    int mask = 0;

    if (s == NULL)
        return 0;
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 4 && strncasecmp(p, "text", 4) == 0)
            mask |= PROXY_TEXT;
        else if (len == 3 && strncasecmp(p, "tls", 3) == 0)
            mask |= PROXY_TLS;
        else if (len == 4 && strncasecmp(p, "http", 4) == 0)
            mask |= PROXY_HTTP;
        else
            return -1;
        p += len;
        if (*p == ',' && *++p == '\0')
            return -1;
    }
    return mask;
}

int proxy_from_parse(const char *s, struct proxy_net *out, int n)
{
    int count = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof(item) || count >= PROXY_NETS_MAX)
            return -1;
        memcpy(item, p, len);
        item[len] = '\0';
        struct proxy_net net = {0};
        char *slash = strchr(item, '/');
        long bits = -1;
        if (slash) {
            *slash = '\0';
            long long b;
            if (arg_parse_ll(slash + 1, strlen(slash + 1), 0, 128, &b) < 0)
                return -1;
            bits = (long)b;
        }
        if (inet_pton(AF_INET, item, net.addr) == 1) {
            net.family = AF_INET;
            net.bits = bits < 0 ? 32 : (int)bits;
            if (net.bits > 32)
                return -1;
        } else if (inet_pton(AF_INET6, item, net.addr) == 1) {
            net.family = AF_INET6;
            net.bits = bits < 0 ? 128 : (int)bits;
        } else {
            return -1;
        }
        if (out && count < n)
            out[count] = net;
        count++;
        p += len;
        if (*p == ',' && *++p == '\0')
            return -1;
    }
    return count;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool proxy_on(int listener)
{
    static int mask = -2;

    if (mask == -2)
        mask = proxy_listeners_parse(cfg.proxy_protocol);    /* checked by config_set */
    return mask > 0 && (mask & listener) != 0 && cfg.proxy_from != NULL;
}

bool proxy_trusted(const struct sockaddr *sa)
{
    static struct proxy_net nets[PROXY_NETS_MAX];
    static int nnets = -2;
    uint8_t a[16];
    int family = sa->sa_family;

    if (nnets == -2)
        nnets = proxy_from_parse(cfg.proxy_from, nets, PROXY_NETS_MAX);
    if (family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            family = AF_INET;
            memcpy(a, in6->s6_addr + 12, 4);
        } else {
            memcpy(a, in6->s6_addr, 16);
        }
    } else {
        return false;
    }
    for (int i = 0; i < nnets; i++)
        if (nets[i].family == family && prefix_match(a, nets[i].addr, nets[i].bits))
            return true;
    return false;
}

int proxy_parse_v2(const uint8_t *buf, size_t len, char *addr, size_t n, size_t *need)
{
    addr[0] = '\0';
    *need = PROXY_V2_HEAD;
    /* A prefix that is not the signature is refused as soon as it is seen. */
    if (memcmp(buf, proxy_sig, len < 12 ? len : 12) != 0)
        return -1;
    if (len < PROXY_V2_HEAD)
        return 0;
    uint8_t ver_cmd = buf[12], fam = buf[13];
    size_t body = ((size_t)buf[14] << 8) | buf[15];
    if ((ver_cmd & 0xF0) != 0x20 || (ver_cmd & 0x0F) > 1 || body > PROXY_V2_MAX - PROXY_V2_HEAD)
        return -1;
    *need = PROXY_V2_HEAD + body;
    if (len < *need)
        return 0;
    const uint8_t *p = buf + PROXY_V2_HEAD;
    if ((ver_cmd & 0x0F) == 0)
        return (int)*need;                       /* LOCAL: the balancer's own (health checks) */
    switch (fam) {
    case 0x11: case 0x12:                        /* TCP or UDP over IPv4 */
        if (body < 12 || inet_ntop(AF_INET, p, addr, (socklen_t)n) == NULL)
            return -1;
        break;
    case 0x21: case 0x22:                        /* over IPv6 */
        if (body < 36 || inet_ntop(AF_INET6, p, addr, (socklen_t)n) == NULL)
            return -1;
        break;
    case 0x00:                                   /* UNSPEC: keep the real peer */
        break;
    default:
        return -1;
    }
    return (int)*need;
}

/* ---- waiting for the header on a CTP/1 or TLS socket ---- */

struct proxy_wait {
    struct proxy_wait *prev, *next;  /* every socket waiting, for the exit */
    int fd;
    bool tls;
    char peer[64];
    uint8_t buf[PROXY_V2_MAX];
    size_t len;
    struct event *ev;
    proxy_ready_cb *ready;
};

static struct proxy_wait *waiting;

static void wait_end(struct proxy_wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        waiting = w->next;
    if (w->next)
        w->next->prev = w->prev;
    event_free(w->ev);
    free(w);
}

static void wait_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy_wait *w = arg;
    char addr[64];
    size_t need = PROXY_V2_HEAD;
    const char *why = NULL;

    if (what & EV_TIMEOUT) {
        why = "no PROXY header in time";
    } else {
        /* Read no further than the header: what follows is the client's. */
        int rc = proxy_parse_v2(w->buf, w->len, addr, sizeof(addr), &need);
        ssize_t got = 0;
        if (rc == 0) {
            got = read(fd, w->buf + w->len, need - w->len);
            if (got > 0)
                w->len += (size_t)got;
            rc = proxy_parse_v2(w->buf, w->len, addr, sizeof(addr), &need);
        }
        if (got == 0 && rc == 0)
            why = "closed before its PROXY header";
        else if (got < 0 && errno != EAGAIN && errno != EINTR)
            why = "read error before its PROXY header";
        else if (rc < 0)
            why = "a bad PROXY v2 header";
        else if (rc == 0)
            return;                              /* more to come */
        if (why == NULL) {
            char client[64];
            snprintf(client, sizeof(client), "%s", addr[0] ? addr : w->peer);
            int wfd = w->fd;
            bool tls = w->tls;
            proxy_ready_cb *ready = w->ready;
            wait_end(w);
            ready(wfd, client, tls);
            return;
        }
    }
    log_info("proxy: connection from %s: %s", w->peer, why);
    close(w->fd);
    wait_end(w);
}

void proxy_wait_free_all(void)
{
    while (waiting) {
        close(waiting->fd);
        wait_end(waiting);
    }
}

void proxy_wait(struct event_base *base, int fd, const char *peer, bool tls, proxy_ready_cb *ready)
{
    struct proxy_wait *w = xcalloc(1, sizeof(*w));
    struct timeval tv = { PROXY_WAIT_S, 0 };

    w->fd = fd;
    w->tls = tls;
    w->ready = ready;
    snprintf(w->peer, sizeof(w->peer), "%s", peer);
    w->ev = event_new(base, fd, EV_READ | EV_PERSIST, wait_cb, w);
    w->next = waiting;
    if (waiting)
        waiting->prev = w;
    waiting = w;
    event_add(w->ev, &tv);
}
