/* scripts.c: the Lua scripts behind every atomic change to accounts,
 * sessions and progress, called with EVALSHA and reloaded on NOSCRIPT. */
#include "scripts.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sources[SCRIPT_COUNT] = {
    [SCRIPT_REGISTER] =
        "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
        "redis.call('HSET', KEYS[1], 'role', ARGV[1], 'hash', ARGV[2], 'created', ARGV[3],"
        " 'disabled', '0')\n"
        "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 't', 'registered', 'o', '')\n"
        "return 1\n",

    [SCRIPT_LOGIN_FETCH] =
        "local n = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
        "if n >= tonumber(ARGV[1]) then return {1, redis.call('PTTL', KEYS[2])} end\n"
        "local a = redis.call('HMGET', KEYS[1], 'hash', 'role', 'disabled')\n"
        "return {0, 0, a[1] or '', a[2] or '', a[3] or ''}\n",

    [SCRIPT_RATE_PEEK] =
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
        "if n >= tonumber(ARGV[1]) then return {1, redis.call('PTTL', KEYS[1])} end\n"
        "return {0, 0}\n",

    [SCRIPT_FAIL] =
        "local n = redis.call('INCR', KEYS[1])\n"
        "if n == 1 or redis.call('TTL', KEYS[1]) < 0 then\n"
        "  redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
        "end\n"
        "return n\n",

    /* Prunes expired sessions and the oldest past the cap, then adds one. */
    [SCRIPT_SESSION_NEW] =
        "local a = redis.call('HMGET', KEYS[1], 'role', 'disabled')\n"
        "if not a[1] or a[2] == '1' then return 0 end\n"
        "local now = tonumber(ARGV[2])\n"
        "local all = redis.call('HGETALL', KEYS[2])\n"
        "local live = {}\n"
        "for i = 1, #all, 2 do\n"
        "  local c, l = string.match(all[i + 1], '^(%d+) (%d+) ')\n"
        "  if not c or now - tonumber(l) > tonumber(ARGV[3])"
        " or now - tonumber(c) > tonumber(ARGV[4]) then\n"
        "    redis.call('HDEL', KEYS[2], all[i])\n"
        "  else\n"
        "    table.insert(live, {tonumber(c), all[i]})\n"
        "  end\n"
        "end\n"
        "table.sort(live, function(x, y) return x[1] < y[1] end)\n"
        "for i = 1, #live - (tonumber(ARGV[5]) - 1) do\n"
        "  redis.call('HDEL', KEYS[2], live[i][2])\n"
        "end\n"
        "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. ARGV[2] .. ' ' .. ARGV[1])\n"
        "redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
        "redis.call('DEL', KEYS[3])\n"
        "return a[1]\n",

    /* Why a session ended is told only to a caller that shows when it
     * began (ARGV[6] > 0): a CTP/1 connection that had it. Anyone else,
     * holding only a token, learns nothing of the account. */
    [SCRIPT_SESSION_TOUCH] =
        "local known = tonumber(ARGV[6]) > 0\n"
        "local a = redis.call('HMGET', KEYS[2], 'role', 'disabled', 'sessions_revoked')\n"
        "if not a[1] then return known and 'account removed' or 0 end\n"
        "if a[2] == '1' then return known and 'account disabled' or 0 end\n"
        "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
        "if not v then\n"
        "  if known and a[3] and tonumber(a[3]) >= tonumber(ARGV[6]) then\n"
        "    return 'password changed'\n"
        "  end\n"
        "  return known and 'logged out or expired' or 0\n"
        "end\n"
        "local c, l, h = string.match(v, '^(%d+) (%d+) (%x+)$')\n"
        "local now = tonumber(ARGV[2])\n"
        "if not c or now - tonumber(l) > tonumber(ARGV[3])"
        " or now - tonumber(c) > tonumber(ARGV[4]) then\n"
        "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
        "  return known and 'expired' or 0\n"
        "end\n"
        "if now - tonumber(l) >= tonumber(ARGV[5]) then\n"
        "  redis.call('HSET', KEYS[1], ARGV[1], c .. ' ' .. ARGV[2] .. ' ' .. h)\n"
        "end\n"
        "return {a[1], h, c}\n",

    [SCRIPT_PASSWORD_SET] =
        "local cur = redis.call('HGET', KEYS[1], 'hash')\n"
        "if not cur then return -1 end\n"
        "if ARGV[1] ~= '' and cur ~= ARGV[1] then return 0 end\n"
        "redis.call('HSET', KEYS[1], 'hash', ARGV[2])\n"
        "if ARGV[3] == '1' then\n"
        "  redis.call('DEL', KEYS[2])\n"
        "  redis.call('HSET', KEYS[1], 'sessions_revoked', ARGV[5])\n"
        "end\n"
        "if ARGV[4] then\n"
        "  redis.call('HSET', KEYS[2], ARGV[4], ARGV[5] .. ' ' .. ARGV[5] .. ' ' .. ARGV[4])\n"
        "  redis.call('PEXPIRE', KEYS[2], ARGV[6])\n"
        "end\n"
        "return 1\n",

    [SCRIPT_USER_SET] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
        "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
        "if ARGV[3] == '1' then redis.call('DEL', KEYS[2]) end\n"
        "return 1\n",

    [SCRIPT_DONE] =
        "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
        "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 't', 'completed', 'o', ARGV[1])\n"
        "return 1\n",

    [SCRIPT_VIEWED] =
        "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
        "local first, last\n"
        "if v then first, last = string.match(v, '^(%d+) (%d+)$') end\n"
        "redis.call('HSET', KEYS[1], ARGV[1], (first or ARGV[2]) .. ' ' .. ARGV[2])\n"
        "if not last or tonumber(ARGV[2]) - tonumber(last) >= tonumber(ARGV[3]) then\n"
        "  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 't', 'viewed', 'o', ARGV[1])\n"
        "  return 1\n"
        "end\n"
        "return 0\n",
    /* SUBMIT. A retry (the same submission key, KEYS[4]) gets the attempt it
     * made back instead of making another: {n, 1 same document | 0 another,
     * record}. Otherwise the attempt is appended while the learner has
     * attempts left, numbered here (the number read before the call may be
     * stale under concurrent SUBMITs), with its review entries as pending
     * markers in the learner's own tag: {n, 2}, or {0} when none are left. */
    [SCRIPT_ATTEMPT] =
        "local v = redis.call('GET', KEYS[4])\n"
        "if v then\n"
        "  local m, sha = string.match(v, '^(%d+) (%x+)$')\n"
        "  local rec = m and redis.call('LINDEX', KEYS[1], tonumber(m) - 1)\n"
        "  if rec then return {tonumber(m), sha == ARGV[9] and 1 or 0, rec} end\n"
        "end\n"
        "local n = redis.call('LLEN', KEYS[1])\n"
        "if n >= tonumber(ARGV[1]) then return {0} end\n"
        "n = n + 1\n"
        "redis.call('RPUSH', KEYS[1], '{\"n\":' .. n .. ',' .. ARGV[2])\n"
        "redis.call('SET', KEYS[4], n .. ' ' .. ARGV[9], 'PX', ARGV[8])\n"
        "for i = 10, #ARGV do\n"
        "  redis.call('HSET', KEYS[5], ARGV[3] .. ' ' .. n .. ' ' .. ARGV[i], ARGV[4])\n"
        "end\n"
        "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 't', 'attempted', 'o', ARGV[3],"
        " 'score', ARGV[6], 'success', ARGV[5])\n"
        "if ARGV[5] == '1' and redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4]) == 1 then\n"
        "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 't', 'passed', 'o', ARGV[3],"
        " 'score', ARGV[6], 'success', '1')\n"
        "end\n"
        "return {n, 2}\n",
    /* A trainer's grade replaces an attempt record, only if nobody changed
     * it since it was read (compare and set); the task's pending marker
     * goes with it, so no repair pass queues a graded task again. */
    [SCRIPT_ATTEMPT_UPDATE] =
        "local cur = redis.call('LINDEX', KEYS[1], ARGV[1])\n"
        "if cur ~= ARGV[2] then return 0 end\n"
        "redis.call('LSET', KEYS[1], ARGV[1], ARGV[3])\n"
        "redis.call('HDEL', KEYS[4], ARGV[9])\n"
        "if ARGV[6] == '1' and redis.call('HSETNX', KEYS[2], ARGV[4], ARGV[5]) == 1 then\n"
        "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 't', 'passed', 'o', ARGV[4],"
        " 'score', ARGV[7], 'success', '1')\n"
        "end\n"
        "return 1\n",
    /* The review queue: a sequence, a sorted set of ids by time, the items,
     * and an index by attempt and task, all under the {reviews} tag. Adding
     * an entry already queued returns its id: SUBMIT and the repair pass
     * may both add it. */
    [SCRIPT_REVIEW_ADD] =
        "local id = redis.call('HGET', KEYS[4], ARGV[3])\n"
        "if id and redis.call('HEXISTS', KEYS[3], id) == 1 then return tonumber(id) end\n"
        "id = redis.call('INCR', KEYS[1])\n"
        "redis.call('ZADD', KEYS[2], ARGV[2], id)\n"
        "redis.call('HSET', KEYS[3], id, ARGV[1])\n"
        "redis.call('HSET', KEYS[4], ARGV[3], id)\n"
        "return id\n",
    /* A graded (or stale) entry leaves the queue, its item and its index. */
    [SCRIPT_REVIEW_DONE] =
        "redis.call('ZREM', KEYS[1], ARGV[1])\n"
        "redis.call('HDEL', KEYS[2], ARGV[1])\n"
        "if redis.call('HGET', KEYS[3], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[2]) end\n"
        "return 1\n",
};

static char shas[SCRIPT_COUNT][41];

const char *script_source(enum script_id id)
{
    return sources[id];
}

const char *script_sha(enum script_id id)
{
    static const char hex[] = "0123456789abcdef";

    if (shas[id][0] == '\0') {
        unsigned char md[20];
        unsigned int n = 0;
        EVP_Digest(sources[id], strlen(sources[id]), md, &n, EVP_sha1(), NULL);
        for (unsigned i = 0; i < 20; i++) {
            shas[id][2 * i] = hex[md[i] >> 4];
            shas[id][2 * i + 1] = hex[md[i] & 15];
        }
        shas[id][40] = '\0';
    }
    return shas[id];
}

/* A call in flight: its own copy of the arguments, for the retry. */
struct call {
    enum script_id id;
    store_cb *cb;
    void *priv;
    int nkeys, argc;
    char **argv;
    bool retried;
};

static void call_free(struct call *c)
{
    for (int i = 0; i < c->argc; i++)
        free(c->argv[i]);
    free(c->argv);
    free(c);
}

static int send_evalsha(struct call *c);

static void load_cb(redisReply *reply, const char *err, void *priv)
{
    /* The EVALSHA sent right behind this tells the caller how it went. */
}

static void eval_cb(redisReply *reply, const char *err, void *priv)
{
    struct call *c = priv;

    if (reply && reply->type == REDIS_REPLY_ERROR && !c->retried &&
        strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        c->retried = true;
        /* Pipelined: the load reaches Redis before the second EVALSHA. */
        if (store_command(load_cb, NULL, "SCRIPT LOAD %s", sources[c->id]) == 0 &&
            send_evalsha(c) == 0)
            return;
        if (c->cb)
            c->cb(NULL, "store unavailable", c->priv);
        call_free(c);
        return;
    }
    if (c->cb)
        c->cb(reply, err, c->priv);
    call_free(c);
}

static int send_evalsha(struct call *c)
{
    int n = c->argc + 3;
    const char **argv = xcalloc((size_t)n, sizeof(*argv));
    char nkeys[16];

    snprintf(nkeys, sizeof(nkeys), "%d", c->nkeys);
    argv[0] = "EVALSHA";
    argv[1] = script_sha(c->id);
    argv[2] = nkeys;
    for (int i = 0; i < c->argc; i++)
        argv[3 + i] = c->argv[i];
    int rc = store_command_argv(eval_cb, c, n, argv, NULL);
    free(argv);
    return rc;
}

int script_call(enum script_id id, store_cb *cb, void *priv, int nkeys, int argc,
                const char *const *argv)
{
    struct call *c = xcalloc(1, sizeof(*c));

    c->id = id;
    c->cb = cb;
    c->priv = priv;
    c->nkeys = nkeys;
    c->argc = argc;
    c->argv = xcalloc((size_t)argc, sizeof(char *));
    for (int i = 0; i < argc; i++)
        c->argv[i] = xstrdup(argv[i]);
    if (send_evalsha(c) < 0) {
        call_free(c);
        return -1;
    }
    return 0;
}
