/* sentinel.c: asking Redis Sentinels where the primary is, and hearing
 * from one of them when it moves (+switch-master). store.c decides what to
 * do with the answers; this file only talks to the Sentinels.
 *
 * Each question is a short-lived connection to one Sentinel, bounded by a
 * timer; the Sentinels are tried in turn, starting from the last one that
 * answered. The watch is one long-lived subscribed connection (a
 * subscribed context can send nothing else), moved to the next Sentinel
 * whenever it drops. */
#include "campusd.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL_ASK_TIMEOUT_MS  500     /* one Sentinel's time to answer */
#define SENTINEL_WATCH_RETRY_MS  500     /* between watch connections */

static struct {
    struct event_base *base;
    const char *master;
    struct sentinel_addr addrs[SENTINEL_MAX];
    int n;
    sentinel_found_cb *found, *switched;
    /* the question in progress */
    redisAsyncContext *ask_ac;   /* NULL when none is connected */
    bool asking;
    int ask_idx, ask_tried;
    int good;                    /* the Sentinel that answered last */
    struct event *ask_timer;
    /* the watch */
    redisAsyncContext *watch_ac;
    int watch_idx;
    struct event *watch_timer;
    bool stopping;
} sn;

int sentinel_parse_list(const char *s, struct sentinel_addr *out, int n)
{
    int count = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[300];
        if (len == 0 || len >= sizeof(item) || count >= SENTINEL_MAX)
            return -1;
        memcpy(item, p, len);
        item[len] = '\0';
        const char *colon = strrchr(item, ':');
        int port = arg_addr_port(item, -1);
        if (colon == NULL || colon == item || port <= 0)
            return -1;
        if (out && count < n) {
            const char *h = item;
            int hl = (int)(colon - item);
            if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {    /* [v6]:port */
                h++;
                hl -= 2;
            }
            snprintf(out[count].host, sizeof(out[count].host), "%.*s", hl, h);
            out[count].port = port;
        }
        count++;
        p = comma ? comma + 1 : p + len;
        if (comma && comma[1] == '\0')
            return -1;
    }
    return count;
}

static void arm(struct event *ev, long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(ev, &tv);
}

/* ---- asking: SENTINEL get-master-addr-by-name ---- */

static void ask_next(void);

static void ask_finish(const char *host, int port)
{
    sn.asking = false;
    evtimer_del(sn.ask_timer);
    sn.found(host, port);
}

/* The current Sentinel did not answer usefully: on to the next. */
static void ask_give_up(void)
{
    sn.ask_idx = (sn.ask_idx + 1) % sn.n;
    sn.ask_tried++;
    ask_next();
}

static void ask_reply_cb(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;

    if (ac != sn.ask_ac)
        return;                  /* abandoned by the timer */
    sn.ask_ac = NULL;
    if (reply)
        redisAsyncDisconnect(ac);    /* freed once this callback returns */
    evtimer_del(sn.ask_timer);
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        char host[256];
        snprintf(host, sizeof(host), "%s", reply->element[0]->str);
        int port = atoi(reply->element[1]->str);
        if (port > 0 && port < 65536) {
            sn.good = sn.ask_idx;
            log_debug("sentinel %s:%d: primary of %s is %s:%d", sn.addrs[sn.ask_idx].host,
                      sn.addrs[sn.ask_idx].port, sn.master, host, port);
            ask_finish(host, port);
            return;
        }
    }
    log_warn("sentinel %s:%d: no primary for %s: %s", sn.addrs[sn.ask_idx].host,
             sn.addrs[sn.ask_idx].port, sn.master,
             reply == NULL ? "no answer" : reply->type == REDIS_REPLY_ERROR ? reply->str
                                                                          : "unknown master");
    ask_give_up();
}

static void ask_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    redisAsyncContext *ac = sn.ask_ac;

    sn.ask_ac = NULL;
    if (ac)
        redisAsyncFree(ac);      /* its callback sees it abandoned */
    log_warn("sentinel %s:%d: no answer in %d ms", sn.addrs[sn.ask_idx].host,
             sn.addrs[sn.ask_idx].port, SENTINEL_ASK_TIMEOUT_MS);
    ask_give_up();
}

static void ask_next(void)
{
    while (sn.ask_tried < sn.n && !sn.stopping) {
        const struct sentinel_addr *a = &sn.addrs[sn.ask_idx];
        redisAsyncContext *ac = redisAsyncConnect(a->host, a->port);
        if (ac == NULL || ac->err) {
            log_warn("sentinel %s:%d: %s", a->host, a->port, ac ? ac->errstr : "out of memory");
            if (ac)
                redisAsyncFree(ac);
            sn.ask_idx = (sn.ask_idx + 1) % sn.n;
            sn.ask_tried++;
            continue;
        }
        redisLibeventAttach(ac, sn.base);
        sn.ask_ac = ac;
        arm(sn.ask_timer, SENTINEL_ASK_TIMEOUT_MS);
        /* Queued before the connect completes; a failed connect answers it
         * with NULL, which moves on. */
        if (redisAsyncCommand(ac, ask_reply_cb, NULL, "SENTINEL get-master-addr-by-name %s",
                              sn.master) != REDIS_OK) {
            sn.ask_ac = NULL;
            redisAsyncFree(ac);
            evtimer_del(sn.ask_timer);
            sn.ask_idx = (sn.ask_idx + 1) % sn.n;
            sn.ask_tried++;
            continue;
        }
        return;
    }
    if (!sn.stopping)
        ask_finish(NULL, 0);
}

void sentinel_ask(void)
{
    if (sn.asking || sn.stopping || sn.n == 0)
        return;
    sn.asking = true;
    sn.ask_idx = sn.good;
    sn.ask_tried = 0;
    ask_next();
}

/* ---- watching: SUBSCRIBE +switch-master ---- */

static void watch_connect(void);

static void watch_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    watch_connect();
}

static void watch_msg_cb(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;

    if (reply == NULL) {
        /* The link went: the context is being freed by hiredis. */
        if (ac == sn.watch_ac) {
            sn.watch_ac = NULL;
            sn.watch_idx = (sn.watch_idx + 1) % sn.n;
            if (!sn.stopping)
                arm(sn.watch_timer, SENTINEL_WATCH_RETRY_MS);
        }
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[2]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[0]->str, "message") != 0)
        return;
    /* "<master-name> <old-ip> <old-port> <new-ip> <new-port>" */
    char name[128], oldip[256], newip[256];
    int oldport, newport;
    if (sscanf(reply->element[2]->str, "%127s %255s %d %255s %d", name, oldip, &oldport, newip,
               &newport) != 5 || strcmp(name, sn.master) != 0 || newport <= 0 || newport > 65535)
        return;
    log_warn("sentinel: +switch-master %s: %s:%d -> %s:%d", name, oldip, oldport, newip, newport);
    sn.switched(newip, newport);
}

static void watch_disconnect_cb(const redisAsyncContext *ac, int status)
{
    if (ac == sn.watch_ac) {
        sn.watch_ac = NULL;
        sn.watch_idx = (sn.watch_idx + 1) % sn.n;
        if (!sn.stopping)
            arm(sn.watch_timer, SENTINEL_WATCH_RETRY_MS);
    }
}

static void watch_connect(void)
{
    if (sn.watch_ac || sn.stopping)
        return;
    const struct sentinel_addr *a = &sn.addrs[sn.watch_idx];
    redisAsyncContext *ac = redisAsyncConnect(a->host, a->port);
    if (ac == NULL || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        sn.watch_idx = (sn.watch_idx + 1) % sn.n;
        arm(sn.watch_timer, SENTINEL_WATCH_RETRY_MS);
        return;
    }
    redisLibeventAttach(ac, sn.base);
    redisAsyncSetDisconnectCallback(ac, watch_disconnect_cb);
    sn.watch_ac = ac;
    redisAsyncCommand(ac, watch_msg_cb, NULL, "SUBSCRIBE +switch-master");
}

void sentinel_start(struct event_base *base, const struct config *c, sentinel_found_cb *found,
                    sentinel_found_cb *switched)
{
    memset(&sn, 0, sizeof(sn));
    sn.base = base;
    sn.master = c->sentinel_master;
    sn.found = found;
    sn.switched = switched;
    sn.n = sentinel_parse_list(c->sentinel, sn.addrs, SENTINEL_MAX);   /* checked by config_set */
    if (sn.n <= 0) {
        sn.n = 0;
        return;
    }
    sn.ask_timer = evtimer_new(base, ask_timeout_cb, NULL);
    sn.watch_timer = evtimer_new(base, watch_retry_cb, NULL);
    watch_connect();
}

void sentinel_stop(void)
{
    sn.stopping = true;
    if (sn.ask_ac) {
        redisAsyncContext *ac = sn.ask_ac;
        sn.ask_ac = NULL;
        redisAsyncFree(ac);
    }
    if (sn.watch_ac) {
        redisAsyncContext *ac = sn.watch_ac;
        sn.watch_ac = NULL;
        redisAsyncFree(ac);
    }
    if (sn.ask_timer) {
        event_free(sn.ask_timer);
        event_free(sn.watch_timer);
        sn.ask_timer = sn.watch_timer = NULL;
    }
}
