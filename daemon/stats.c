/* stats.c: the counters behind STATS and /metrics, one set per process,
 * and the slots they are copied to so that any worker can answer /metrics
 * for the whole machine: one shared anonymous mapping made by the master
 * before it forks, one slot per worker, each written only by its worker
 * (every second and before it answers /metrics), read by all. As the
 * Prometheus multi-process convention has it, counters are summed over
 * the workers and gauges are given per worker. */
#include "campusd.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct stats stats;

const double stats_latency_bounds[STATS_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
};

static uint64_t by_command[STATS_COMMANDS_MAX];

static struct stats_slot *slots;
static long nslots;
static struct stats_slot *own;

void stats_share(long workers)
{
    size_t size = (size_t)workers * sizeof(struct stats_slot);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        fatal("stats: cannot map %zu bytes for the workers' counters", size);
    slots = p;
    nslots = workers;
}

void stats_attach(int worker_id)
{
    if (slots == NULL || worker_id < 0 || worker_id >= nslots)
        return;
    own = &slots[worker_id];
    /* A restarted worker goes on from its predecessor's counts, so the
     * machine's sums never go back; what was open then is closed now. */
    if (own->used) {
        time_t started = stats.started;
        stats = own->s;
        stats.started = started;
        stats.conns_current = 0;
        memcpy(by_command, own->by_command, sizeof(by_command));
    }
    own->used = 1;
    own->pid = getpid();
    stats_publish();
}

void stats_publish(void)
{
    if (own == NULL)
        return;
    own->s = stats;
    memcpy(own->by_command, by_command, sizeof(by_command));
    own->http_conns = http_conn_count();
    own->store_up = store_state() == STORE_UP;
    own->store_writable = store_writable();
    memcpy(own->catalog_version, courses_version(), sizeof(own->catalog_version));
}

long stats_slots(void)
{
    return own ? nslots : 0;
}

const struct stats_slot *stats_slot(long i)
{
    return slots && i >= 0 && i < nslots && slots[i].used ? &slots[i] : NULL;
}

void stats_command(int cmd_index)
{
    if (cmd_index >= 0 && cmd_index < STATS_COMMANDS_MAX)
        by_command[cmd_index]++;
}

uint64_t stats_command_count(int cmd_index)
{
    return cmd_index >= 0 && cmd_index < STATS_COMMANDS_MAX ? by_command[cmd_index] : 0;
}

/* 400, 401+403, 404, 413, 429, 5xx: the families an operator watches. */
static int code_index(int code)
{
    switch (code) {
    case 400: return 0;
    case 401: case 403: return 1;
    case 404: return 2;
    case 413: return 3;
    case 429: return 4;
    default: return code >= 500 ? 5 : 0;
    }
}

void stats_reply_code(int code)
{
    if (code < 400)
        return;
    stats.errors_total++;
    stats.errors_by_code[code_index(code)]++;
}

void stats_latency(double seconds)
{
    int i = 0;

    while (i < STATS_LATENCY_BUCKETS && seconds > stats_latency_bounds[i])
        i++;
    stats.latency[i]++;
    stats.latency_sum += seconds;
    stats.latency_count++;
}
