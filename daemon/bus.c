/* bus.c: this worker's subscription to the deployment's pub/sub channels,
 * on a second hiredis connection (a subscribed context can send nothing
 * else). It follows the store: every second it checks that it is
 * connected to the address the store's link uses now, so after a Sentinel
 * failover it moves to the new primary with the store. A message sent
 * while it was away is missed: RELOAD all says how many workers heard it.
 *
 * Channels: KEY_CHAN_RELOAD (courses_reload in every worker). */
#include "campusd.h"
#include "keys.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_CHECK_MS 1000

static struct {
    struct event_base *base;
    redisAsyncContext *ac;
    char addr[300];              /* where ac is connected */
    bool subscribed;
    struct event *tick;
    bool stopping;
} bus;

static void bus_msg_cb(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;

    if (reply == NULL || ac != bus.ac)
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(reply->element[0]->str, "subscribe") == 0) {
        bus.subscribed = true;
        log_info("bus: subscribed at %s", bus.addr);
        return;
    }
    if (strcmp(reply->element[0]->str, "message") != 0 ||
        reply->element[1]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[1]->str, KEY_CHAN_RELOAD) != 0)
        return;
    log_info("bus: RELOAD all from %.100s",
             reply->element[2]->type == REDIS_REPLY_STRING ? reply->element[2]->str : "?");
    courses_reload();
}

static void bus_disconnect_cb(const redisAsyncContext *ac, int status)
{
    if (ac == bus.ac) {
        bus.ac = NULL;
        bus.subscribed = false;
        bus.addr[0] = '\0';
    }
}

static void bus_connect_cb(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK && ac == bus.ac) {
        bus.ac = NULL;           /* hiredis frees it */
        bus.subscribed = false;
        bus.addr[0] = '\0';
    }
}

static void bus_drop(void)
{
    redisAsyncContext *ac = bus.ac;

    bus.ac = NULL;
    bus.subscribed = false;
    bus.addr[0] = '\0';
    if (ac)
        redisAsyncFree(ac);
}

static void bus_connect(const char *addr)
{
    redisAsyncContext *ac;

    if (addr[0] == '/') {
        ac = redisAsyncConnectUnix(addr);
    } else {
        char host[256];
        const char *colon = strrchr(addr, ':');
        size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
        snprintf(host, sizeof(host), "%.*s", (int)(n < 255 ? n : 255), addr);
        ac = redisAsyncConnect(host, arg_addr_port(addr, 6379));
    }
    if (ac == NULL || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        return;
    }
    redisLibeventAttach(ac, bus.base);
    redisAsyncSetConnectCallback(ac, bus_connect_cb);
    redisAsyncSetDisconnectCallback(ac, bus_disconnect_cb);
    bus.ac = ac;
    snprintf(bus.addr, sizeof(bus.addr), "%s", addr);
    redisAsyncCommand(ac, bus_msg_cb, NULL, "SUBSCRIBE %s", KEY_CHAN_RELOAD);
}

/* Every second: be where the store is, and nowhere when it is down. */
static void bus_tick(evutil_socket_t fd, short what, void *arg)
{
    const char *want = store_state() == STORE_UP ? store_address() : "";

    if (bus.ac && strcmp(bus.addr, want) != 0)
        bus_drop();
    if (bus.ac == NULL && want[0] && !bus.stopping)
        bus_connect(want);
}

void bus_start(struct event_base *base)
{
    memset(&bus, 0, sizeof(bus));
    bus.base = base;
    bus.tick = event_new(base, -1, EV_PERSIST, bus_tick, NULL);
    struct timeval tv = { BUS_CHECK_MS / 1000, (BUS_CHECK_MS % 1000) * 1000 };
    event_add(bus.tick, &tv);
}

bool bus_subscribed(void)
{
    return bus.subscribed;
}

void bus_stop(void)
{
    bus.stopping = true;
    bus_drop();
    if (bus.tick)
        event_free(bus.tick);
    bus.tick = NULL;
}
