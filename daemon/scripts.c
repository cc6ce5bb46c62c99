/* scripts.c: the Lua scripts behind every atomic change to accounts,
 * sessions and progress, called with EVALSHA and reloaded on NOSCRIPT. */
#include "scripts.h"

#include <hiredis/hiredis.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tally of the open poll as JSON, from its hash: "_answers" learners
 * have answered, "_right" of them rightly, the rest counts per bucket. */
#define LIVE_TALLY_LUA \
    "local function tally(k, n, closed)\n" \
    "  local t = redis.call('HGETALL', k)\n" \
    "  local c, a, r, any = {}, 0, 0, false\n" \
    "  for i = 1, #t, 2 do\n" \
    "    local v = tonumber(t[i + 1])\n" \
    "    if t[i] == '_answers' then a = v elseif t[i] == '_right' then r = v\n" \
    "    elseif v > 0 then c[t[i]] = v; any = true end\n" \
    "  end\n" \
    "  local cj = any and cjson.encode(c) or '{}'\n" \
    "  return '{\"poll\":' .. tonumber(n) .. ',\"answers\":' .. a .. ',\"right\":' .. r .." \
    " ',\"counts\":' .. cj .. ',\"closed\":' .. (closed and 'true' or 'false') .. '}'\n" \
    "end\n"

/* Sources used twice: alone, and as parts of SCRIPT_DONE_CHECKED. */
#define SESSION_TOUCH_LUA \
        "local known = tonumber(ARGV[6]) > 0\n" \
        "local a = redis.call('HMGET', KEYS[2], 'role', 'disabled', 'sessions_revoked', 'lang')\n" \
        "if not a[1] then return known and 'account removed' or 0 end\n" \
        "if a[2] == '1' then return known and 'account disabled' or 0 end\n" \
        "local v = redis.call('HGET', KEYS[1], ARGV[1])\n" \
        "if not v then\n" \
        "  if known and a[3] and tonumber(a[3]) >= tonumber(ARGV[6]) then\n" \
        "    return 'password changed'\n" \
        "  end\n" \
        "  return known and 'logged out or expired' or 0\n" \
        "end\n" \
        "local c, l, h = string.match(v, '^(%d+) (%d+) (%x+)$')\n" \
        "local now = tonumber(ARGV[2])\n" \
        "if not c or now - tonumber(l) > tonumber(ARGV[3])" \
        " or now - tonumber(c) > tonumber(ARGV[4]) then\n" \
        "  redis.call('HDEL', KEYS[1], ARGV[1])\n" \
        "  return known and 'expired' or 0\n" \
        "end\n" \
        "if now - tonumber(l) >= tonumber(ARGV[5]) then\n" \
        "  redis.call('HSET', KEYS[1], ARGV[1], c .. ' ' .. ARGV[2] .. ' ' .. h)\n" \
        "end\n" \
        "return {a[1], h, c, a[4] or ''}\n"

/* DONE. With a key (KEYS[3]) a replay answers what the first DONE
 * answered, so a client that lost the reply sees "done" both times.
 * Already done: the mark is written again as it is, so that it goes to
 * the replicas once more on this link and a WAIT after this call covers
 * it, even when the first DONE came by another link (another worker or
 * machine) and was left unconfirmed. The same for a retried SUBMIT. */
#define DONE_LUA \
        "if KEYS[3] then\n" \
        "  local v = redis.call('GET', KEYS[3])\n" \
        "  if v then\n" \
        "    local l, r = string.match(v, '^(%S+) (%d)$')\n" \
        "    if l ~= ARGV[1] then return -1 end\n" \
        "    local t = redis.call('HGET', KEYS[1], ARGV[1])\n" \
        "    if t then redis.call('HSET', KEYS[1], ARGV[1], t) end\n" \
        "    return tonumber(r)\n" \
        "  end\n" \
        "end\n" \
        "local r = 0\n" \
        "local t = redis.call('HGET', KEYS[1], ARGV[1])\n" \
        "if t then\n" \
        "  redis.call('HSET', KEYS[1], ARGV[1], t)\n" \
        "else\n" \
        "  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n" \
        "  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 't', 'completed', 'o', ARGV[1])\n" \
        "  r = 1\n" \
        "end\n" \
        "if KEYS[3] then redis.call('SET', KEYS[3], ARGV[1] .. ' ' .. r, 'PX', ARGV[4]) end\n" \
        "return r\n"

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
        "local a = redis.call('HMGET', KEYS[1], 'hash', 'role', 'disabled', 'lang')\n"
        "return {0, 0, a[1] or '', a[2] or '', a[3] or '', a[4] or ''}\n",

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
    [SCRIPT_SESSION_TOUCH] = SESSION_TOUCH_LUA,

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

    [SCRIPT_DONE] = DONE_LUA,   /* see DONE_LUA */

    /* A CTP/1 DONE of a logged-in connection: the session check and the
     * mark in one round trip (cmd-progress.c). Each part is its script as
     * a function of its own keys and arguments; the mark is made only for
     * a live session of a known role (every role may DONE), as the check
     * would have let it through. Answers {touch} when it was not made,
     * {touch, done} when it was. */
    [SCRIPT_DONE_CHECKED] =
        "local function touch(KEYS, ARGV)\n" SESSION_TOUCH_LUA "end\n"
        "local function done(KEYS, ARGV)\n" DONE_LUA "end\n"
        "local s = touch({KEYS[1], KEYS[2]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]})\n"
        "local roles = {learner = true, trainer = true, admin = true}\n"
        "if type(s) ~= 'table' or s[2] ~= ARGV[1] or not roles[s[1]] then return {s} end\n"
        "return {s, done({KEYS[3], KEYS[4], KEYS[5]}, {ARGV[7], ARGV[8], ARGV[9], ARGV[10]})}\n",

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
        "  if rec then\n"
        "    redis.call('PEXPIRE', KEYS[4], math.max(redis.call('PTTL', KEYS[4]), 1))\n"
        "    return {tonumber(m), sha == ARGV[9] and 1 or 0, rec}\n"
        "  end\n"
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

    /* ---- cohorts: every script runs on the keys of one {c:ID} or one {u:NAME} ---- */
    [SCRIPT_COHORT_CREATE] =
        "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
        "redis.call('HSET', KEYS[1], 'course', ARGV[1], 'name', ARGV[2], 'start', ARGV[3],"
        " 'tz', ARGV[4], 'pace', ARGV[5], 'created', ARGV[6], 'owner', ARGV[7], 'code', ARGV[8],"
        " 'closed', '0')\n"
        "redis.call('SADD', KEYS[2], ARGV[7])\n"
        "for i = 0, tonumber(ARGV[9]) - 1 do\n"
        "  local b = 10 + 3 * i\n"
        "  redis.call('HSET', KEYS[3], ARGV[b], ARGV[b + 1])\n"
        "  if ARGV[b + 2] ~= '' then redis.call('HSET', KEYS[4], ARGV[b], ARGV[b + 2]) end\n"
        "end\n"
        "redis.call('HSET', KEYS[5], 't:' .. ARGV[7], '+')\n"
        "return 1\n",

    [SCRIPT_COHORT_GET] =
        "local m = redis.call('HGETALL', KEYS[1])\n"
        "if #m == 0 then return 0 end\n"
        "local l = redis.call('ZSCORE', KEYS[3], ARGV[1])\n"
        "return {m, redis.call('SISMEMBER', KEYS[2], ARGV[1]), l and 1 or 0,"
        " redis.call('ZCARD', KEYS[3]), redis.call('SCARD', KEYS[2]), redis.call('HLEN', KEYS[4])}\n",

    /* Adds (+) or removes (-) learners; the pending entry is written even
     * for a learner already in, so the user's side is put right too. */
    [SCRIPT_COHORT_MEMBERS] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
        "local changed = 0\n"
        "for i = 0, tonumber(ARGV[4]) - 1 do\n"
        "  local name, extra = ARGV[5 + 2 * i], ARGV[6 + 2 * i]\n"
        "  if ARGV[1] == '+' then\n"
        "    changed = changed + redis.call('ZADD', KEYS[2], 'NX', ARGV[2], name)\n"
        "    if extra ~= '' then redis.call('HSET', KEYS[4], name, extra) end\n"
        "    redis.call('HSET', KEYS[3], 'l:' .. name, '+' .. ARGV[3])\n"
        "  else\n"
        "    changed = changed + redis.call('ZREM', KEYS[2], name)\n"
        "    redis.call('HSET', KEYS[3], 'l:' .. name, '-')\n"
        "  end\n"
        "end\n"
        "return changed\n",

    [SCRIPT_COHORT_JOIN] =
        "local m = redis.call('HMGET', KEYS[1], 'code', 'closed', 'course')\n"
        "if not m[1] or m[1] == '' or m[1] ~= ARGV[1] then return 0 end\n"
        "if m[2] == '1' then return -1 end\n"
        "local n = redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2])\n"
        "redis.call('HSET', KEYS[3], 'l:' .. ARGV[2], '+' .. m[3])\n"
        "if n == 1 then return 1 end\n"
        "return 2\n",

    [SCRIPT_COHORT_TRAINER] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
        "local n\n"
        "if ARGV[1] == '+' then n = redis.call('SADD', KEYS[2], ARGV[2])\n"
        "else\n"
        "  if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 and redis.call('SCARD', KEYS[2]) == 1 then"
        " return -1 end\n"
        "  n = redis.call('SREM', KEYS[2], ARGV[2])\n"
        "end\n"
        "redis.call('HSET', KEYS[3], 't:' .. ARGV[2], ARGV[1])\n"
        "return n\n",

    [SCRIPT_COHORT_USER] =
        "if ARGV[1] == 'l' then\n"
        "  if ARGV[2] == '+' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])\n"
        "  else redis.call('HDEL', KEYS[1], ARGV[3]) end\n"
        "else\n"
        "  if ARGV[2] == '+' then redis.call('SADD', KEYS[2], ARGV[3])\n"
        "  else redis.call('SREM', KEYS[2], ARGV[3]) end\n"
        "end\n"
        "return 1\n",

    /* An entry goes only if nobody wrote a newer one meanwhile. */
    [SCRIPT_COHORT_SETTLE] =
        "for i = 1, #ARGV, 2 do\n"
        "  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then"
        " redis.call('HDEL', KEYS[1], ARGV[i]) end\n"
        "end\n"
        "return redis.call('HLEN', KEYS[1])\n",

    [SCRIPT_COHORT_SET] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
        "local old = redis.call('HGET', KEYS[1], ARGV[1]) or ''\n"
        "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
        "return old\n",

    /* Opening early only moves a module's date earlier. */
    [SCRIPT_COHORT_OPEN] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
        "local cur = redis.call('HGET', KEYS[2], ARGV[1])\n"
        "if not cur then return 0 end\n"
        "if tonumber(cur) > tonumber(ARGV[2]) then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end\n"
        "return 1\n",

    [SCRIPT_COHORT_GATE] =
        "local m = redis.call('HMGET', KEYS[1], 'tz', 'closed')\n"
        "if not m[1] then return 0 end\n"
        "local e = redis.call('HMGET', KEYS[4], 'open ' .. ARGV[1] .. ' ' .. ARGV[2],"
        " 'due ' .. ARGV[1] .. ' ' .. ARGV[2])\n"
        "return {m[1], m[2], redis.call('HGET', KEYS[2], ARGV[2]) or '',"
        " redis.call('HGET', KEYS[3], ARGV[2]) or '', e[1] or '', e[2] or ''}\n",

    /* Every JOIN counts before its code is looked up (a right code gives
     * its count back), so guesses sent at once on many connections are
     * limited as surely as guesses sent one by one. */
    [SCRIPT_COHORT_TRY] =
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
        "if n >= tonumber(ARGV[1]) then return {1, redis.call('PTTL', KEYS[1])} end\n"
        "n = redis.call('INCR', KEYS[1])\n"
        "if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end\n"
        "return {0, 0}\n",

    [SCRIPT_COHORT_ROSTER] =
        "return {redis.call('ZRANGE', KEYS[1], 0, -1), redis.call('HGETALL', KEYS[2]),"
        " redis.call('HGETALL', KEYS[3])}\n",

    /* One learner's progress and attempts, read together (keys of one {u:}). */
    [SCRIPT_COHORT_LEARNER] =
        "local out = {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}\n"
        "for i = 3, #KEYS do table.insert(out, redis.call('LRANGE', KEYS[i], 0, -1)) end\n"
        "return out\n",

    [SCRIPT_COHORT_ROW] =
        "return {redis.call('HMGET', KEYS[1], 'name', 'course', 'start', 'tz', 'closed'),"
        " redis.call('ZCARD', KEYS[2])}\n",

    [SCRIPT_COHORT_MINE] =
        "return {redis.call('SMEMBERS', KEYS[1]), redis.call('HKEYS', KEYS[2])}\n",

    /* What PROGRESS needs of a learner, and no more: names, not times; the
     * newest event other than the account's creation gives the last
     * activity (registered is the first event, so two are enough). */
    [SCRIPT_COHORT_PROGRESS] =
        "local last = ''\n"
        "for _, e in ipairs(redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 2)) do\n"
        "  if e[2][2] ~= 'registered' then last = e[1] break end\n"
        "end\n"
        "return {redis.call('HKEYS', KEYS[1]), redis.call('HKEYS', KEYS[2]), last}\n",

    [SCRIPT_COHORT_SCHEDULE] =
        "local out = {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}\n"
        "if KEYS[3] then\n"
        "  table.insert(out, redis.call('HGET', KEYS[3], 'tz') or 'UTC')\n"
        "  table.insert(out, redis.call('HGETALL', KEYS[4]))\n"
        "end\n"
        "return out\n",

    /* ---- live sessions ---- */
    [SCRIPT_LIVE_CTX] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
        "redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[2])\n"
        "return {redis.call('SISMEMBER', KEYS[2], ARGV[1]),"
        " redis.call('ZSCORE', KEYS[3], ARGV[1]) and 1 or 0, redis.call('HGETALL', KEYS[4]),"
        " redis.call('ZCARD', KEYS[5]), redis.call('HGETALL', KEYS[6])}\n",

    [SCRIPT_LIVE_START] =
        "local s = redis.call('HMGET', KEYS[1], 'state', 'session', 'started', 'seq')\n"
        "if s[1] == 'live' then return {0, s[2], s[3], s[4] or '0'} end\n"
        "local n = redis.call('HINCRBY', KEYS[1], 'sessions', 1)\n"
        "local id = ARGV[1] .. '-' .. n\n"
        "redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])\n"
        "redis.call('HSET', KEYS[1], 'session', id, 'started', ARGV[3], 'by', ARGV[2], 'state', 'live',"
        " 'lesson', '', 'anchor', '', 'poll', 0, 'poll_open', 0, 'poll_gift', '', 'poll_view', '',"
        " 'said', '[]')\n"
        "redis.call('HSETNX', KEYS[1], 'seq', 0)\n"
        "return {1, id, ARGV[3], redis.call('HGET', KEYS[1], 'seq')}\n",

    /* Numbers an event, keeps it, applies its fields to the state and
     * publishes it, in that order: a reader of the state never misses an
     * event newer than the seq it read. */
    [SCRIPT_LIVE_EVENT] =
        "local s = redis.call('HMGET', KEYS[1], 'state', 'session')\n"
        "if s[1] ~= 'live' or s[2] ~= ARGV[2] then return 0 end\n"
        "local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)\n"
        "local ev = '{\"id\":' .. id .. ',\"type\":\"' .. ARGV[3] .. '\",\"session\":\"' .. ARGV[2]"
        " .. '\",\"data\":' .. ARGV[4] .. '}'\n"
        "redis.call('RPUSH', KEYS[2], ev)\n"
        "redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)\n"
        "for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end\n"
        "if ARGV[3] == 'say' then\n"
        "  local said = cjson.decode(redis.call('HGET', KEYS[1], 'said') or '[]')\n"
        "  table.insert(said, cjson.decode(ARGV[4]).text)\n"
        "  while #said > tonumber(ARGV[6]) do table.remove(said, 1) end\n"
        "  redis.call('HSET', KEYS[1], 'said', cjson.encode(said))\n"
        "elseif ARGV[3] == 'end' then\n"
        "  redis.call('HSET', KEYS[1], 'state', 'ended', 'poll_open', 0)\n"
        "end\n"
        "redis.call('PUBLISH', ARGV[1], ev)\n"
        "return id\n",

    [SCRIPT_LIVE_POLL] =
        "local s = redis.call('HMGET', KEYS[1], 'state', 'session', 'poll_open')\n"
        "if s[1] ~= 'live' or s[2] ~= ARGV[2] then return 0 end\n"
        "if s[3] == '1' then return -1 end\n"
        "local n = redis.call('HINCRBY', KEYS[1], 'poll', 1)\n"
        "local view = '{\"id\":' .. n .. ',' .. ARGV[3]\n"
        "redis.call('HSET', KEYS[1], 'poll_open', 1, 'poll_gift', ARGV[4], 'poll_view', view)\n"
        "redis.call('DEL', KEYS[3])\n"
        "redis.call('HSET', KEYS[4], n, '{\"gift\":' .. cjson.encode(ARGV[4]) .. ',\"view\":' .. view .. '}')\n"
        "local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)\n"
        "local ev = '{\"id\":' .. id .. ',\"type\":\"poll\",\"session\":\"' .. ARGV[2] .. '\",\"data\":' .. view .. '}'\n"
        "redis.call('RPUSH', KEYS[2], ev)\n"
        "redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)\n"
        "redis.call('PUBLISH', ARGV[1], ev)\n"
        "return {n, id}\n",

    /* The last answer of a learner counts: the one before leaves its bucket. */
    [SCRIPT_LIVE_ANSWER] =
        LIVE_TALLY_LUA
        "local s = redis.call('HMGET', KEYS[1], 'state', 'session', 'poll', 'poll_open', 'seq')\n"
        "if s[1] ~= 'live' or s[2] ~= ARGV[2] then return 0 end\n"
        "if s[4] ~= '1' or s[3] ~= ARGV[3] then return -1 end\n"
        "local f = ARGV[3] .. ' ' .. ARGV[4]\n"
        "local old = redis.call('HGET', KEYS[2], f)\n"
        "if old then\n"
        "  local o = cjson.decode(old)\n"
        "  redis.call('HINCRBY', KEYS[3], o.bucket, -1)\n"
        "  if o.right then redis.call('HINCRBY', KEYS[3], '_right', -1) end\n"
        "else\n"
        "  redis.call('HINCRBY', KEYS[3], '_answers', 1)\n"
        "end\n"
        "redis.call('HSET', KEYS[2], f, ARGV[5])\n"
        "redis.call('HINCRBY', KEYS[3], ARGV[6], 1)\n"
        "if ARGV[7] == '1' then redis.call('HINCRBY', KEYS[3], '_right', 1) end\n"
        "local t = tally(KEYS[3], s[3], false)\n"
        "redis.call('PUBLISH', ARGV[1], '{\"id\":' .. s[5] .. ',\"type\":\"tally\",\"trainer\":true,"
        "\"session\":\"' .. ARGV[2] .. '\",\"data\":' .. t .. '}')\n"
        "return t\n",

    [SCRIPT_LIVE_CLOSE] =
        LIVE_TALLY_LUA
        "local s = redis.call('HMGET', KEYS[1], 'state', 'session', 'poll', 'poll_open')\n"
        "if s[1] ~= 'live' or s[2] ~= ARGV[2] then return 0 end\n"
        "if s[4] ~= '1' then return -1 end\n"
        "redis.call('HSET', KEYS[1], 'poll_open', 0)\n"
        "local t = tally(KEYS[3], s[3], true)\n"
        "local p = redis.call('HGET', KEYS[4], s[3])\n"
        "if p then\n"
        "  redis.call('HSET', KEYS[4], s[3], string.sub(p, 1, -2) .. ',\"tally\":' .. t .. '}')\n"
        "end\n"
        "local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)\n"
        "local ev = '{\"id\":' .. id .. ',\"type\":\"tally\",\"session\":\"' .. ARGV[2] .. '\",\"data\":' .. t .. '}'\n"
        "redis.call('RPUSH', KEYS[2], ev)\n"
        "redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)\n"
        "redis.call('PUBLISH', ARGV[1], ev)\n"
        "return t\n",

    [SCRIPT_LIVE_PRESENCE] =
        "local s = redis.call('HMGET', KEYS[1], 'state', 'session', 'seq')\n"
        "if s[1] ~= 'live' then return -1 end\n"
        "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])\n"
        "local ch\n"
        "if ARGV[2] == '+' then\n"
        "  ch = redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + tonumber(ARGV[5]), ARGV[3])\n"
        "else\n"
        "  ch = redis.call('ZREM', KEYS[2], ARGV[3])\n"
        "end\n"
        "local n = redis.call('ZCARD', KEYS[2])\n"
        "if ch > 0 then\n"
        "  redis.call('PUBLISH', ARGV[1], '{\"id\":' .. s[3] .. ',\"type\":\"room\",\"trainer\":true,"
        "\"session\":\"' .. s[2] .. '\",\"data\":{\"room\":' .. n .. '}}')\n"
        "end\n"
        "return n\n",
};

/* The shape of each script's call: how many keys and how many other
 * arguments it takes (ARGS_ANY: a repeated group, any number). script_call
 * refuses a call that does not fit, so a caller that passes a key too few
 * fails at once, in its own request, rather than run a script on a
 * neighbour's key. tests/unit/test_scripts.c checks that every script has
 * its row and that the rows agree with the sources. */
#define ARGS_ANY INT_MAX
static const struct script_shape {
    int keys_min, keys_max;
    int args_min, args_max;
} shapes[SCRIPT_COUNT] = {
    [SCRIPT_REGISTER]        = { 2, 2, 4, 4 },
    [SCRIPT_LOGIN_FETCH]     = { 2, 2, 1, 1 },
    [SCRIPT_RATE_PEEK]       = { 1, 1, 1, 1 },
    [SCRIPT_FAIL]            = { 1, 1, 1, 1 },
    [SCRIPT_SESSION_NEW]     = { 3, 3, 5, 5 },
    [SCRIPT_SESSION_TOUCH]   = { 2, 2, 6, 6 },
    [SCRIPT_PASSWORD_SET]    = { 2, 2, 3, 6 },   /* tokhash now max_ms: optional */
    [SCRIPT_USER_SET]        = { 2, 2, 3, 3 },
    [SCRIPT_DONE]            = { 2, 3, 3, 4 },   /* donekey and window_ms: a keyed DONE */
    [SCRIPT_DONE_CHECKED]    = { 4, 5, 9, 10 },  /* the same, after SESSION_TOUCH's */
    [SCRIPT_VIEWED]          = { 2, 2, 4, 4 },
    [SCRIPT_ATTEMPT]         = { 5, 5, 9, ARGS_ANY },   /* task... */
    [SCRIPT_ATTEMPT_UPDATE]  = { 4, 4, 9, 9 },
    [SCRIPT_REVIEW_ADD]      = { 4, 4, 3, 3 },
    [SCRIPT_REVIEW_DONE]     = { 3, 3, 2, 2 },
    [SCRIPT_COHORT_CREATE]   = { 5, 5, 8, ARGS_ANY },   /* [module open due]*n */
    [SCRIPT_COHORT_GET]      = { 4, 4, 1, 1 },
    [SCRIPT_COHORT_MEMBERS]  = { 4, 4, 4, ARGS_ANY },   /* [name roster-json]*n */
    [SCRIPT_COHORT_JOIN]     = { 3, 3, 3, 3 },
    [SCRIPT_COHORT_TRAINER]  = { 3, 3, 2, 2 },
    [SCRIPT_COHORT_USER]     = { 2, 2, 4, 4 },
    [SCRIPT_COHORT_SETTLE]   = { 1, 1, 0, ARGS_ANY },   /* [field value]* */
    [SCRIPT_COHORT_SET]      = { 1, 1, 2, 2 },
    [SCRIPT_COHORT_OPEN]     = { 2, 2, 2, 2 },
    [SCRIPT_COHORT_GATE]     = { 4, 4, 2, 2 },
    [SCRIPT_COHORT_SCHEDULE] = { 2, 4, 0, 0 },          /* meta extend: optional */
    [SCRIPT_COHORT_TRY]      = { 1, 1, 2, 2 },
    [SCRIPT_COHORT_ROSTER]   = { 3, 3, 0, 0 },
    [SCRIPT_COHORT_LEARNER]  = { 2, ARGS_ANY, 0, 0 },   /* attempts* */
    [SCRIPT_COHORT_ROW]      = { 2, 2, 0, 0 },
    [SCRIPT_COHORT_MINE]     = { 2, 2, 0, 0 },
    [SCRIPT_COHORT_PROGRESS] = { 3, 3, 0, 0 },
    [SCRIPT_LIVE_CTX]        = { 6, 6, 2, 2 },
    [SCRIPT_LIVE_START]      = { 4, 4, 3, 3 },
    [SCRIPT_LIVE_EVENT]      = { 2, 2, 6, ARGS_ANY },   /* [field value]* */
    [SCRIPT_LIVE_POLL]       = { 4, 4, 5, 5 },
    [SCRIPT_LIVE_ANSWER]     = { 3, 3, 7, 7 },
    [SCRIPT_LIVE_CLOSE]      = { 4, 4, 3, 3 },
    [SCRIPT_LIVE_PRESENCE]   = { 2, 2, 5, 5 },
};

bool script_shape_fits(enum script_id id, int nkeys, int nargs)
{
    if ((int)id < 0 || id >= SCRIPT_COUNT)
        return false;
    const struct script_shape *sh = &shapes[id];
    return sh->keys_max > 0 && nkeys >= sh->keys_min && nkeys <= sh->keys_max &&
           nargs >= sh->args_min && nargs <= sh->args_max;
}

bool script_shape_known(enum script_id id)
{
    return (int)id >= 0 && id < SCRIPT_COUNT && shapes[id].keys_max > 0;
}

void script_shape_widest(enum script_id id, int *keys_max, int *args_max)
{
    *keys_max = script_shape_known(id) ? shapes[id].keys_max : 0;
    *args_max = script_shape_known(id) ? shapes[id].args_max : 0;
}

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

void key_hash_tag(const char *key, const char **tag, size_t *len)
{
    const char *open = strchr(key, '{');
    const char *close = open ? strchr(open + 1, '}') : NULL;

    if (close && close > open + 1) {
        *tag = open + 1;
        *len = (size_t)(close - open - 1);
    } else {
        *tag = key;
        *len = strlen(key);
    }
}

int script_keys_one_tag(int nkeys, const char *const *keys)
{
    const char *t0, *t;
    size_t l0, l;

    if (nkeys <= 1)
        return 0;
    key_hash_tag(keys[0], &t0, &l0);
    for (int i = 1; i < nkeys; i++) {
        key_hash_tag(keys[i], &t, &l);
        if (l != l0 || memcmp(t, t0, l) != 0)
            return i;
    }
    return 0;
}

int script_call(enum script_id id, store_cb *cb, void *priv, int nkeys, int argc,
                const char *const *argv)
{
    if (nkeys < 0 || nkeys > argc || !script_shape_fits(id, nkeys, argc - nkeys)) {
        log_error("script %d called with %d keys and %d arguments, which its shape does not allow",
                (int)id, nkeys, argc - nkeys);
#ifdef CAMPUS_TEST_HOOKS
        abort();   /* a caller's bug: make the test that reached it fail loudly */
#endif
        return -1;
    }
    /* Redis Cluster runs a script on one slot: keys of two hash tags are a
     * bug of the caller, never sent. Test builds stop at once, so that every
     * integration test is a check of the callers it reaches. */
    int bad = script_keys_one_tag(nkeys, argv);
    if (bad) {
#ifdef CAMPUS_TEST_HOOKS
        fatal("script %d: key %s is not in the hash tag of %s", (int)id, argv[bad], argv[0]);
#else
        log_error("script %d: key %s is not in the hash tag of %s; not sent", (int)id, argv[bad],
                  argv[0]);
        return -1;
#endif
    }
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
