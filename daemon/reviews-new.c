/* reviews-new.c: how many of a learner's answers a trainer has graded since
 * they last looked: the "reviews-new" line of LOGIN, WHOAMI and /api/me. */
#include "campusd.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>

#include "keys.h"

struct reviews_new_op {
    struct req *req;
    char *msg;
};

static void reviews_new_cb(redisReply *reply, const char *err, void *priv)
{
    struct reviews_new_op *op = priv;
    long long n = 0;

    /* Without the store the answer still stands, only without the count. */
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_STRING)
                n += strtoll(reply->element[i]->str, NULL, 10);
        req_kv(op->req, "reviews-new", "%lld", n);
    }
    req_reply_data(op->req, 200, "%s", op->msg);
    free(op->msg);
    free(op);
}

void reviews_new_reply(struct req *req, const char *user, const char *msg)
{
    struct reviews_new_op *op = xcalloc(1, sizeof(*op));
    char *key = key_new(KEY_REVIEWS_NEW, user);

    op->req = req;
    op->msg = xstrdup(msg);
    int rc = store_state() == STORE_UP ? store_command(reviews_new_cb, op, "HVALS %s", key) : -1;
    free(key);
    if (rc < 0) {
        req_reply_data(req, 200, "%s", op->msg);
        free(op->msg);
        free(op);
    }
}

void reviews_new_clear(const char *user, const char *exercise)
{
    char *key = key_new(KEY_REVIEWS_NEW, user);
    store_command(NULL, NULL, "HDEL %s %s", key, exercise);
    free(key);
}
