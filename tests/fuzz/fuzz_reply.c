/* fuzz_reply.c: what a Redis we do not control may answer. The bytes go
 * through hiredis's reader (redisReaderCreate, Feed, GetReply) fed whole,
 * byte by byte and in chunks, as hiredis's own OSS-Fuzz harness does; each
 * reply then goes through campusd's readers of replies (the handshake's
 * campus:meta, CONFIG GET, INFO fields, the account reply strings), at
 * every level of nesting. Checks, beyond "no crash": every way of feeding
 * gives the same replies, and what the readers copy is within bounds. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "campusd.h"

#define FUZZ_REPLY_DEPTH 8       /* nesting walked; deeper is hiredis's own limit */

static void describe(const redisReply *r, int depth, struct sbuf *out)
{
    const char *instance, *version;
    char v[32];

    sbuf_printf(out, "%d:", r->type);
    store_parse_meta(r, &instance, &version);
    if (instance)
        sbuf_printf(out, "i=%s;", instance);
    if (version)
        sbuf_printf(out, "v=%s;", version);
    if (store_parse_config_get(r, "appendonly", v, sizeof(v)) == 0) {
        if (strlen(v) >= sizeof(v))
            abort();
        sbuf_printf(out, "a=%s;", v);
    }
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR) {
        if (store_info_field(r->str, r->len, "aof_enabled", v, sizeof(v)) == 0)
            sbuf_printf(out, "f=%s;", v);
        sbuf_add(out, r->str, r->len);
    } else if (r->type == REDIS_REPLY_INTEGER) {
        sbuf_printf(out, "%lld", r->integer);
    }
    const char *s = account_reply_str((struct redisReply *)r);
    if (s == NULL)
        abort();
    sbuf_addc(out, '\n');
    if (r->type == REDIS_REPLY_ARRAY && depth < FUZZ_REPLY_DEPTH)
        for (size_t i = 0; i < r->elements; i++)
            describe(r->element[i], depth + 1, out);
}

/* Feeds data in pieces of chunk bytes; every reply is described in out,
 * an error of the reader ends it. */
static void feed(const uint8_t *data, size_t size, size_t chunk, struct sbuf *out)
{
    redisReader *rd = redisReaderCreate();

    for (size_t off = 0; off < size;) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (redisReaderFeed(rd, (const char *)data + off, n) != REDIS_OK)
            break;
        off += n;
        for (;;) {
            void *reply = NULL;
            if (redisReaderGetReply(rd, &reply) != REDIS_OK) {
                sbuf_printf(out, "E\n");
                redisReaderFree(rd);
                return;
            }
            if (reply == NULL)
                break;
            describe(reply, 0, out);
            freeReplyObject(reply);
        }
    }
    redisReaderFree(rd);
}

/* Debian's hiredis (0.14) allocates an aggregate's element array as soon as
 * it reads the header, with no bound of its own (later versions have
 * maxelements), so "*1111111111" is gigabytes before a single element has
 * arrived. campusd reads replies only from the Redis it is configured with;
 * the harness skips inputs that announce an aggregate or a string larger
 * than this, and fuzzes everything else. */
#define FUZZ_REPLY_LEN_MAX 100000

static bool announces_too_much(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (i > 0 && data[i - 1] != '\n')
            continue;
        if (data[i] != '*' && data[i] != '$' && data[i] != '%' && data[i] != '~' &&
            data[i] != '>' && data[i] != '|' && data[i] != '=' && data[i] != '!')
            continue;
        unsigned long long n = 0;
        for (size_t k = i + 1; k < size && data[k] >= '0' && data[k] <= '9'; k++)
            if ((n = n * 10 + (data[k] - '0')) > FUZZ_REPLY_LEN_MAX)
                return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sbuf whole = {0}, bytes = {0}, chunks = {0};

    if (announces_too_much(data, size))
        return 0;

    feed(data, size, size ? size : 1, &whole);
    feed(data, size, 1, &bytes);
    feed(data, size, 7, &chunks);
    if (whole.len != bytes.len || (whole.len && memcmp(whole.data, bytes.data, whole.len) != 0) ||
        whole.len != chunks.len || (whole.len && memcmp(whole.data, chunks.data, whole.len) != 0))
        abort();
    sbuf_free(&whole);
    sbuf_free(&bytes);
    sbuf_free(&chunks);
    return 0;
}
