/* stats.c: the counters behind STATS and /metrics, one set per process. */
#include "campusd.h"

struct stats stats;

const double stats_latency_bounds[STATS_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
};

static uint64_t by_command[STATS_COMMANDS_MAX];

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
