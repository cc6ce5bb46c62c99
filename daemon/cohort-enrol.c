/* cohort-enrol.c: who is in a cohort: COHORT ADD and REMOVE, and ENROL, a
 * CSV of up to 500 learners applied all or nothing, optionally making
 * accounts whose one-time passwords are answered once and kept only as
 * password hashes. */
#include "campusd.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "cohort-op.h"
#include "cohort-time.h"
#include "cohort.h"
#include "keys.h"
#include "scripts.h"

/* Parses one RFC 4180 record at *p (fields into out, at most 3). Returns the
 * number of fields, 0 at the end, -1 when malformed; lines counts the
 * newlines consumed. */
static int csv_record(const char **p, const char *end, struct sbuf out[3], int *lines)
{
    const char *s = *p;
    int nf = 0;

    if (s >= end)
        return 0;
    for (int i = 0; i < 3; i++)
        out[i].len = 0, sbuf_adds(&out[i], "");
    for (;;) {
        struct sbuf tmp = {0};
        struct sbuf *f = nf < 3 ? &out[nf] : &tmp;
        if (s < end && *s == '"') {
            s++;
            for (;;) {
                if (s >= end) {
                    sbuf_free(&tmp);
                    return -1;
                }
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        sbuf_addc(f, '"');
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                if (*s == '\n')
                    (*lines)++;
                sbuf_addc(f, *s++);
            }
            if (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                sbuf_free(&tmp);
                return -1;
            }
        } else {
            while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                if (*s == '"') {
                    sbuf_free(&tmp);
                    return -1;
                }
                sbuf_addc(f, *s++);
            }
        }
        sbuf_free(&tmp);
        nf++;
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n')
            s++;
        (*lines)++;
        *p = s;
        return nf;
    }
}

static void enrol_write(struct cop *op);

static void enrol_registered(struct cop *op)
{
    if (--op->waiting > 0)
        return;
    if (op->failed) {
        cop_answer(op, 409, "an account to be created was taken meanwhile, or the store failed; "
                            "some accounts may exist: enrol again");
        return;
    }
    enrol_write(op);
}

static void enrol_registered_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_reply_bad(reply) || (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0))
        op->failed = true;
    enrol_registered(op);
}

static void enrol_hash_next(struct cop *op);

static void enrol_hashed(int result, const char *hash, void *priv)
{
    struct cop *op = priv;

    if (result != 0 || hash == NULL) {
        cop_answer(op, result == -2 ? 503 : 500, "%s",
                   result == -2 ? "server shutting down" : "cannot hash a password");
        return;
    }
    json_array_append_new(op->hashes, json_string(hash));
    op->hashed++;
    enrol_hash_next(op);
}

/* One hash at a time: the pool is shared with every LOGIN. */
static void enrol_hash_next(struct cop *op)
{
    size_t n = json_array_size(op->create);

    if (op->hashed < n) {
        const char *pw = json_string_value(json_array_get(op->passwords, op->hashed));
        if (auth_submit_hash(pw, strlen(pw), enrol_hashed, op) < 0)
            cop_answer(op, 503, "too many logins at once; retry in a moment");
        return;
    }
    /* Every hash is ready: the accounts are written, then the cohort. */
    op->waiting = 1;
    op->failed = false;
    char created[24], maxlen[16];
    snprintf(created, sizeof(created), "%lld", cohort_now_ms() / 1000);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(op->create, i));
        char *k1 = key_new(KEY_ACCOUNT, name), *k2 = key_new(KEY_EVENTS, name);
        const char *argv[] = { k1, k2, "learner", json_string_value(json_array_get(op->hashes, i)),
                               created, maxlen };
        op->waiting++;
        if (script_call(SCRIPT_REGISTER, enrol_registered_cb, op, 2, 6, argv) < 0) {
            op->waiting--;
            op->failed = true;
        }
        const char *z[] = { "ZADD", KEY_USERS, created, name };
        store_command_argv(NULL, NULL, 4, z, NULL);
        free(k1);
        free(k2);
    }
    enrol_registered(op);                 /* drops the hold */
}

static void enrol_checked(struct cop *op)
{
    bool make = op->req->args.argc == 5;

    if (op->failed) {
        cop_store_failed(op);
        return;
    }
    if (json_array_size(op->create) > 0 && !make) {
        const char *name = json_string_value(json_array_get(op->create, 0));
        cop_answer(op, 400, "no account '%s' (ENROL id accounts {N} creates missing ones); "
                            "nothing enrolled", name);
        return;
    }
    op->passwords = json_array();
    op->hashes = json_array();
    op->hashed = 0;
    for (size_t i = 0; i < json_array_size(op->create); i++) {
        char pw[COHORT_OTP_LEN + 1];
        cohort_random(pw, COHORT_OTP_LEN);
        json_array_append_new(op->passwords, json_string(pw));
        explicit_bzero(pw, sizeof(pw));
    }
    enrol_hash_next(op);
}

static void enrol_write(struct cop *op)
{
    size_t n = json_array_size(op->create);
    struct sbuf b = {0};

    op->code = 200;
    snprintf(op->msg, sizeof(op->msg), "enrolled %zu learners in cohort %s, %zu accounts created",
             json_array_size(op->names), op->id, n);
    if (n > 0) {
        /* The one-time passwords leave here once; only their hashes are kept. */
        sbuf_adds(&b, "name,password\r\n");
        for (size_t i = 0; i < n; i++)
            sbuf_printf(&b, "%s,%s\r\n", json_string_value(json_array_get(op->create, i)),
                        json_string_value(json_array_get(op->passwords, i)));
        op->body = sbuf_take(&b);
        op->body_type = "text/csv; charset=utf-8";
    }
    op->op = '+';
    cop_members_write(op);
}

static void account_exists_cb(redisReply *reply, const char *err, void *priv);

struct exists_probe {
    struct cop *op;
    size_t index;
};

static void account_exists_cb(redisReply *reply, const char *err, void *priv)
{
    struct exists_probe *pr = priv;
    struct cop *op = pr->op;

    if (cop_reply_bad(reply))
        op->failed = true;
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0)
        json_array_append(op->create, json_array_get(op->names, pr->index));
    free(pr);
    if (--op->waiting > 0)
        return;
    op->next(op);
}

/* Asks Redis whether each of op->names has an account (pipelined: one round
 * trip); the missing ones go to op->create, then next(op). */
static void check_accounts(struct cop *op, void (*next)(struct cop *))
{
    op->create = json_array();
    op->next = next;
    op->failed = false;
    op->waiting = 1;
    for (size_t i = 0; i < json_array_size(op->names); i++) {
        struct exists_probe *pr = xcalloc(1, sizeof(*pr));
        pr->op = op;
        pr->index = i;
        char *k = key_new(KEY_ACCOUNT, json_string_value(json_array_get(op->names, i)));
        const char *argv[] = { "EXISTS", k };
        op->waiting++;
        if (store_command_argv(account_exists_cb, pr, 2, argv, NULL) < 0) {
            free(pr);
            op->waiting--;
            op->failed = true;
        }
        free(k);
    }
    struct exists_probe *last = xcalloc(1, sizeof(*last));
    last->op = op;
    last->index = (size_t)-1;
    redisReply none = { .type = REDIS_REPLY_NIL };
    account_exists_cb(&none, NULL, last);
}

static bool field_clean(const char *s, size_t n)
{
    return strlen(s) == n && utf8_valid(s, n);
}

static void enrol_loaded(struct cop *op)
{
    const struct proto_req *a = &op->req->args;
    const char *csv = a->argv[a->argc - 1];
    const char *p = csv, *end = csv + a->argl[a->argc - 1];
    struct sbuf f[3] = { {0}, {0}, {0} };
    int line = 1, rows = 0;

    if (a->argc == 5 && strcasecmp(a->argv[3], "accounts") != 0) {
        cop_answer(op, 400, "usage: COHORT ENROL id [accounts] {N}");
        return;
    }
    op->names = json_array();
    op->extras = json_array();
    json_t *seen = json_object();
    for (;;) {
        int at = line;
        int nf = csv_record(&p, end, f, &line);
        if (nf == 0)
            break;
        if (nf < 0 || nf > 3) {
            cop_answer(op, 400, "line %d: %s; nothing enrolled", at,
                       nf < 0 ? "bad quoting" : "want name[,display name,email]");
            goto out;
        }
        if (at == 1 && strcmp(f[0].data, "name") == 0)
            continue;                               /* a header row */
        if (nf == 1 && f[0].len == 0)
            continue;                               /* a blank line */
        if (++rows > COHORT_ENROL_ROWS_MAX) {
            cop_answer(op, 413, "at most %d rows per ENROL; nothing enrolled", COHORT_ENROL_ROWS_MAX);
            goto out;
        }
        if (!auth_name_valid(f[0].data, f[0].len)) {
            cop_answer(op, 400, "line %d: a name is 3 to 32 of a-z, 0-9, '.', '_' and '-'; "
                                "nothing enrolled", at);
            goto out;
        }
        if (json_object_get(seen, f[0].data)) {
            cop_answer(op, 400, "line %d: '%s' is there twice; nothing enrolled", at, f[0].data);
            goto out;
        }
        if (!field_clean(f[1].data, f[1].len) || !field_clean(f[2].data, f[2].len) ||
            f[1].len > 200 || f[2].len > 200 || (f[2].len && !strchr(f[2].data, '@'))) {
            cop_answer(op, 400, "line %d: a display name or email that is not UTF-8 text of at "
                                "most 200 bytes, or an email without '@'; nothing enrolled", at);
            goto out;
        }
        json_object_set_new(seen, f[0].data, json_true());
        json_array_append_new(op->names, json_string(f[0].data));
        json_t *x = json_pack("{s:s,s:s}", "display", f[1].data, "email", f[2].data);
        char *xs = json_dumps(x, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_array_append_new(op->extras, json_string(xs));
        free(xs);
        json_decref(x);
    }
    if (rows == 0) {
        cop_answer(op, 400, "no learners in the CSV");
        goto out;
    }
    check_accounts(op, enrol_checked);
out:
    json_decref(seen);
    for (int i = 0; i < 3; i++)
        sbuf_free(&f[i]);
}

void cop_enrol(struct cop *op)
{
    cop_load_managed(op, enrol_loaded);
}

static void add_checked(struct cop *op)
{
    if (op->failed) {
        cop_store_failed(op);
        return;
    }
    if (json_array_size(op->create) > 0) {
        cop_answer(op, 404, "no account '%s'; nobody added",
                   json_string_value(json_array_get(op->create, 0)));
        return;
    }
    op->op = '+';
    cop_members_write(op);
}

static bool collect_names(struct cop *op, int from)
{
    const struct proto_req *a = &op->req->args;

    op->names = json_array();
    for (int i = from; i < a->argc; i++) {
        if (!auth_name_valid(a->argv[i], a->argl[i])) {
            cop_answer(op, 400, "'%.40s' is not an account name", a->argv[i]);
            return false;
        }
        json_array_append_new(op->names, json_string(a->argv[i]));
    }
    return true;
}

void cop_add_loaded(struct cop *op)
{
    if (collect_names(op, 3))
        check_accounts(op, add_checked);
}

void cop_remove_loaded(struct cop *op)
{
    if (!collect_names(op, 3))
        return;
    op->op = '-';
    cop_members_write(op);
}

