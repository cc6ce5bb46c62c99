/* cmd-cert.c: certificates: CERT (issue, list, show, revoke), VERIFY,
 * ISSUER (the public keys and the revocation status list), their HTTP
 * routes, and the printable page at /certificates/ID. A credential is an
 * Open Badges 3.0 OpenBadgeCredential secured as a VC-JWT (cert.c). */
#include "campusd.h"

#include "catalog.h"
#include "cert.h"
#include "cohort-time.h"
#include "keys.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#define CERT_CONTEXT_VC "https://www.w3.org/ns/credentials/v2"
#define CERT_CONTEXT_OB "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#define CERT_JWT_TYPE   "application/vc+jwt"

static char *base(void)
{
    const char *b = cfg.base_url ? cfg.base_url : "http://localhost:8080";
    size_t n = strlen(b);
    while (n > 0 && b[n - 1] == '/')
        n--;
    return xstrndup(b, n);
}

/* A credential id as the verbs take it: a lower-case UUID. */
static bool cert_id_valid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

static void new_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        fatal("RAND_bytes failed");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

/* Answers with a stored record {"id", "jwt", "issued", ...}: the JWT as the
 * body, the facts as meta. */
static void reply_record(struct req *req, int code, const char *msg, json_t *rec,
                         const char *course)
{
    const char *jwt = json_string_value(json_object_get(rec, "jwt"));
    char when[TIME_ISO_MAX];

    if (jwt == NULL) {
        req_reply(req, 503, "stored credential is damaged");
        return;
    }
    time_iso(json_integer_value(json_object_get(rec, "issued")), false, when);
    req_meta(req, "id", json_string_value(json_object_get(rec, "id")));
    req_meta(req, "course", course);
    req_meta(req, "issued", when);
    req_reply_text(req, code, msg, CERT_JWT_TYPE, jwt, strlen(jwt));
}

/* ---- CERT course ---- */

struct issue {
    struct req *req;
    struct catalog *cat;
    const struct course *course;
    json_t *done, *passed;
    char cohort[24];
    char *display;
    long long index;
    char id[37];
    char *record;
    int retries;
};

static void issue_free(struct issue *op)
{
    catalog_unref(op->cat);
    json_decref(op->done);
    json_decref(op->passed);
    free(op->display);
    free(op->record);
    free(op);
}

static void issue_begin(struct issue *op);

static json_t *hash_to_object(redisReply *reply)
{
    json_t *o = json_object();
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2)
        if (reply->element[i]->type == REDIS_REPLY_STRING &&
            reply->element[i + 1]->type == REDIS_REPLY_STRING)
            json_object_set_new(o, reply->element[i]->str, json_string(reply->element[i + 1]->str));
    return o;
}

/* The exercises of a course: its lessons with an exercise block, whose
 * full id is what the grading commands record once passed. */
static bool lesson_has_exercise(const struct lesson *l)
{
    return l->nexercises > 0 && catalog_lesson_counts(l);  /* a pre-test never counts */
}

static void issue_stored_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;
    struct req *req = op->req;

    if (req_store_failed(req, reply)) {
        issue_free(op);
        return;
    }
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        /* Another CERT for the same course won the race: answer with its
         * credential, and drop our index entry. */
        char *k = key_new(KEY_CERT_INDEX);
        const char *argv[] = { "HDEL", k, op->id };
        store_command_argv(NULL, NULL, 3, argv, NULL);
        free(k);
        if (op->retries++ < 2) {
            issue_begin(op);
            return;
        }
        req_reply(req, 503, "credential being issued by another request; retry");
        issue_free(op);
        return;
    }
    json_t *rec = json_loads(op->record, 0, NULL);
    log_info("cert: issued %s to %s for %s", op->id, req->user, op->course->id);
    reply_record(req, 201, "issued", rec, op->course->id);
    json_decref(rec);
    issue_free(op);
}

static void issue_indexed_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;

    if (req_store_failed(op->req, reply)) {
        issue_free(op);
        return;
    }
    char *k = key_new(KEY_USER_CERTS, op->req->user);
    const char *argv[] = { "HSETNX", k, op->course->id, op->record };
    if (store_command_argv(issue_stored_cb, op, 4, argv, NULL) < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
}

/* The achievement's description and criteria: course.md has no criteria or
 * skills fields, so they are made from its summary and completion rule. */
static char *criteria_text(const struct course *c)
{
    char lessons[48], ex[48];
    if (c->completion.lessons_percent >= 100)
        snprintf(lessons, sizeof(lessons), "every lesson");
    else
        snprintf(lessons, sizeof(lessons), "%d%% of the lessons", c->completion.lessons_percent);
    if (c->completion.exercises == CATALOG_ALL)
        snprintf(ex, sizeof(ex), "pass every exercise (%zu)", c->nexercises);
    else
        snprintf(ex, sizeof(ex), "pass %d of the %zu exercises", c->completion.exercises,
                 c->nexercises);
    /* The author's words from course.md first, then the rule campusd checks. */
    const char *own = c->criteria ? c->criteria : "";
    return xasprintf("%s%sComplete %s of the course (%zu in all) and %s.", own, own[0] ? " " : "",
                     lessons, c->ncounted, ex);
}

static size_t count_passed(const struct course *c, json_t *passed)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nlessons; i++)
        n += lesson_has_exercise(c->lessons[i]) &&
             json_object_get(passed, c->lessons[i]->full_id) != NULL;
    return n;
}

static json_t *build_credential(struct issue *op, long long now)
{
    const struct course *c = op->course;
    char *b = base(), when[32], until[32], idx[24];
    char *urn = xasprintf("urn:uuid:%s", op->id);
    char *issuer = xasprintf("%s/api/issuer", b);
    char *status = xasprintf("%s/api/status/1", b);
    char *status_id = xasprintf("%s#%lld", status, op->index);
    char *subject = xasprintf("%s/api/users/%s", b, op->req->user);
    char *ach = xasprintf("%s/api/courses/%s#v%s", b, c->id, c->version ? c->version : "");
    char *crit = criteria_text(c);
    char *desc = xasprintf("%s", c->summary ? c->summary : c->title);
    size_t passed = count_passed(c, op->passed), done = 0;
    for (size_t i = 0; i < c->nlessons; i++)
        done += catalog_lesson_counts(c->lessons[i]) &&
                json_object_get(op->done, c->lessons[i]->full_id) != NULL;
    /* The score: the share of the course's exercises passed, or of its
     * lessons done when it has no exercises. */
    long score = c->nexercises ? (long)(passed * 100 / c->nexercises)
                               : (long)(c->ncounted ? done * 100 / c->ncounted : 100);
    char scoretxt[16];
    snprintf(scoretxt, sizeof(scoretxt), "%ld%%", score);
    time_iso(now, false, when);
    snprintf(idx, sizeof(idx), "%lld", op->index);

    json_t *achievement = json_pack(
        "{s:s,s:[s],s:s,s:s,s:{s:s},s:s,s:s}", "id", ach, "type", "Achievement", "name", c->title,
        "description", desc, "criteria", "narrative", crit, "version", c->version ? c->version : "",
        "inLanguage", c->language ? c->language : "en");
    json_t *sub = json_pack("{s:s,s:[s],s:s,s:o,s:[{s:[s],s:s}]}", "id", subject, "type",
                            "AchievementSubject", "name", op->display ? op->display : op->req->user,
                            "achievement", achievement, "result", "type", "Result", "value",
                            scoretxt);
    if (op->cohort[0])
        json_object_set_new(sub, "cohort", json_string(op->cohort));
    /* Open Badges' own place for the recipient's name: an IdentityObject of
     * type "name", in plain text (the learner asked for it on the paper). */
    json_object_set_new(sub, "identifier", json_pack("[{s:s,s:b,s:s,s:s}]", "type", "IdentityObject",
                                                     "hashed", 0, "identityHash",
                                                     op->display ? op->display : op->req->user,
                                                     "identityType", "name"));
    /* The skills the course attests (course.md's skills:), as the
     * achievement's tags. */
    if (c->nskills) {
        json_t *tags = json_array();
        for (size_t i = 0; i < c->nskills; i++)
            json_array_append_new(tags, json_string(c->skills[i]));
        json_object_set_new(achievement, "tag", tags);
    }
    json_t *cred = json_pack(
        "{s:[s,s],s:s,s:[s,s],s:{s:s,s:[s],s:s,s:s},s:s,s:s,s:o,"
        "s:{s:s,s:s,s:s,s:s,s:s}}",
        "@context", CERT_CONTEXT_VC, CERT_CONTEXT_OB, "id", urn, "type", "VerifiableCredential",
        "OpenBadgeCredential", "issuer", "id", issuer, "type", "Profile", "name", "Campus", "url", b,
        "validFrom", when, "name", c->title, "credentialSubject", sub, "credentialStatus", "id",
        status_id, "type", "BitstringStatusListEntry", "statusPurpose", "revocation",
        "statusListIndex", idx, "statusListCredential", status);
    /* The registered JWT claims that VC-JWT (Open Badges 3.0, 8.2.4) adds. */
    json_object_set_new(cred, "iss", json_string(issuer));
    json_object_set_new(cred, "jti", json_string(urn));
    json_object_set_new(cred, "sub", json_string(subject));
    json_object_set_new(cred, "nbf", json_integer(now / 1000));
    json_object_set_new(cred, "iat", json_integer(now / 1000));
    if (cfg.cert_valid_days > 0) {
        long long exp = now + (long long)cfg.cert_valid_days * 86400000LL;
        time_iso(exp, false, until);
        json_object_set_new(cred, "validUntil", json_string(until));
        json_object_set_new(cred, "exp", json_integer(exp / 1000));
    }
    free(b);
    free(urn);
    free(issuer);
    free(status);
    free(status_id);
    free(subject);
    free(ach);
    free(crit);
    free(desc);
    return cred;
}

static void issue_seq_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;
    struct req *req = op->req;

    if (req_store_failed(req, reply)) {
        issue_free(op);
        return;
    }
    op->index = reply->integer;
    if (op->index < 0 || op->index >= CERT_STATUS_BITS) {
        req_reply(req, 503, "the status list is full (%d credentials)", CERT_STATUS_BITS);
        issue_free(op);
        return;
    }
    long long now = cohort_now_ms();
    new_uuid(op->id);
    json_t *cred = build_credential(op, now);
    char *jwt = cert_sign(cred);
    json_decref(cred);
    json_t *rec = json_pack("{s:s,s:s,s:I,s:I,s:s}", "id", op->id, "jwt", jwt, "issued",
                            (json_int_t)now, "index", (json_int_t)op->index, "cohort", op->cohort);
    op->record = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    free(jwt);
    char *k = key_new(KEY_CERT_INDEX);
    char *who = xasprintf("%s %s", req->user, op->course->id);
    const char *argv[] = { "HSETNX", k, op->id, who };
    if (store_command_argv(issue_indexed_cb, op, 4, argv, NULL) < 0) {
        req_reply(req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
    free(who);
}

static void issue_next_seq(struct issue *op)
{
    const char *argv[] = { "INCR", KEY_CERT_SEQ };
    if (store_command_argv(issue_seq_cb, op, 2, argv, NULL) < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        issue_free(op);
    }
}

static void issue_roster_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;

    if (req_store_failed(op->req, reply)) {
        issue_free(op);
        return;
    }
    if (reply->type == REDIS_REPLY_STRING) {
        json_t *r = json_loads(reply->str, 0, NULL);
        const char *d = json_string_value(json_object_get(r, "display"));
        if (d && d[0])
            op->display = xstrdup(d);
        json_decref(r);
    }
    issue_next_seq(op);
}

static void issue_cohorts_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;

    if (req_store_failed(op->req, reply)) {
        issue_free(op);
        return;
    }
    /* The cohort the learner took this course in, if any. */
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2)
        if (reply->element[i + 1]->str && strcmp(reply->element[i + 1]->str, op->course->id) == 0 &&
            reply->element[i]->str && strlen(reply->element[i]->str) < sizeof(op->cohort)) {
            snprintf(op->cohort, sizeof(op->cohort), "%s", reply->element[i]->str);
            break;
        }
    if (op->cohort[0] == '\0') {
        issue_next_seq(op);
        return;
    }
    char *k = key_new(KEY_COHORT_ROSTER, op->cohort);
    const char *argv[] = { "HGET", k, op->req->user };
    if (store_command_argv(issue_roster_cb, op, 3, argv, NULL) < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
}

/* Answers 409 with what the completion rule still needs, or returns true
 * when it holds. */
static bool completion_holds(struct issue *op)
{
    const struct course *c = op->course;
    struct req *req = op->req;
    size_t done = 0, passed = count_passed(c, op->passed);

    for (size_t i = 0; i < c->nlessons; i++)
        done += catalog_lesson_counts(c->lessons[i]) &&
                json_object_get(op->done, c->lessons[i]->full_id) != NULL;
    size_t need_lessons = ((size_t)c->completion.lessons_percent * c->ncounted + 99) / 100;
    size_t need_ex = c->completion.exercises == CATALOG_ALL ? c->nexercises
                                                            : (size_t)c->completion.exercises;
    if (need_ex > c->nexercises)
        need_ex = c->nexercises;
    if (done >= need_lessons && passed >= need_ex)
        return true;
    /* What is missing, by the titles the learner reads the course in. */
    struct lang_pick lp;
    i18n_pick(req, c, &lp);
    req_table(req, 3, "kind", "id", "title");
    for (size_t i = 0; done < need_lessons && i < c->nlessons; i++)
        if (catalog_lesson_counts(c->lessons[i]) &&
            json_object_get(op->done, c->lessons[i]->full_id) == NULL)
            req_row(req, 3, "lesson", c->lessons[i]->full_id,
                    catalog_lesson_lang(c->lessons[i], lp.lang)->title);
    for (size_t i = 0; passed < need_ex && i < c->nlessons; i++)
        if (lesson_has_exercise(c->lessons[i]) &&
            json_object_get(op->passed, c->lessons[i]->full_id) == NULL)
            req_row(req, 3, "exercise", c->lessons[i]->full_id,
                    catalog_lesson_lang(c->lessons[i], lp.lang)->title);
    req_reply_data(req, 409, "%s is not complete: %zu of %zu lessons needed done, %zu of %zu "
                   "exercises needed passed", c->id, done, need_lessons, passed, need_ex);
    return false;
}

static void issue_passed_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;

    if (req_store_failed(op->req, reply)) {
        issue_free(op);
        return;
    }
    op->passed = hash_to_object(reply);
    progress_merge_passed(op->done, op->passed);
    if (!completion_holds(op)) {
        issue_free(op);
        return;
    }
    char *k = key_new(KEY_USER_COHORTS, op->req->user);
    const char *argv[] = { "HGETALL", k };
    if (store_command_argv(issue_cohorts_cb, op, 2, argv, NULL) < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
}

static void issue_done_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;

    if (req_store_failed(op->req, reply)) {
        issue_free(op);
        return;
    }
    op->done = hash_to_object(reply);
    char *k = key_new(KEY_PASSED, op->req->user);
    const char *argv[] = { "HGETALL", k };
    if (store_command_argv(issue_passed_cb, op, 2, argv, NULL) < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
}

static void issue_existing_cb(redisReply *reply, const char *err, void *priv)
{
    struct issue *op = priv;
    struct req *req = op->req;

    if (req_store_failed(req, reply)) {
        issue_free(op);
        return;
    }
    if (reply->type == REDIS_REPLY_STRING) {
        json_t *rec = json_loads(reply->str, 0, NULL);
        reply_record(req, 200, "already issued", rec, op->course->id);
        json_decref(rec);
        issue_free(op);
        return;
    }
    json_decref(op->done);
    json_decref(op->passed);
    op->done = op->passed = NULL;
    char *k = key_new(KEY_DONE, req->user);
    const char *argv[] = { "HGETALL", k };
    if (store_command_argv(issue_done_cb, op, 2, argv, NULL) < 0) {
        req_reply(req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
}

static void issue_begin(struct issue *op)
{
    char *k = key_new(KEY_USER_CERTS, op->req->user);
    const char *argv[] = { "HGET", k, op->course->id };
    if (store_command_argv(issue_existing_cb, op, 3, argv, NULL) < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        issue_free(op);
    }
    free(k);
}

static void cert_issue(struct req *req)
{
    struct catalog *cat = courses_current();
    const char *id = req->args.argv[1];

    if (!id_valid_n(id, req->args.argl[1])) {
        req_reply(req, 400, "bad course id (use a-z, 0-9 and -)");
        return;
    }
    const struct course *c = cat ? catalog_course(cat, id) : NULL;
    if (c == NULL) {
        req_reply(req, 404, "no course '%.100s'", id);
        return;
    }
    if (cert_current_kid() == NULL) {
        req_reply(req, 503, "no issuer key");
        return;
    }
    struct issue *op = xcalloc(1, sizeof(*op));
    op->req = req;
    op->cat = catalog_ref(cat);
    op->course = c;
    issue_begin(op);
}

/* ---- CERT LIST ---- */

static void list_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;
    char when[TIME_ISO_MAX];

    if (req_store_failed(req, reply))
        return;
    req_table(req, 3, "id", "course", "issued");
    size_t n = 0;
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        json_t *rec = json_loads(reply->element[i + 1]->str ? reply->element[i + 1]->str : "", 0, NULL);
        const char *id = json_string_value(json_object_get(rec, "id"));
        if (id) {
            time_iso(json_integer_value(json_object_get(rec, "issued")), false, when);
            req_row(req, 3, id, reply->element[i]->str, when);
            n++;
        }
        json_decref(rec);
    }
    if (n == 1)
        req_reply_data(req, 200, "1 credential");
    else
        req_reply_data(req, 200, "%zu credentials", n);
}

static void cert_list(struct req *req)
{
    char *k = key_new(KEY_USER_CERTS, req->user);
    const char *argv[] = { "HGETALL", k };
    if (store_command_argv(list_cb, req, 2, argv, NULL) < 0)
        req_reply(req, 503, "progress store unavailable");
    free(k);
}

/* ---- CERT SHOW id, CERT REVOKE id reason: find the credential, then
 * check who may see or revoke it ---- */

struct lookup {
    struct req *req;
    bool revoke;
    char owner[128], course[ID_MAX + 1];
    json_t *rec;
};

static void lookup_free(struct lookup *op)
{
    json_decref(op->rec);
    free(op);
}

static void revoke_cb(redisReply *reply, const char *err, void *priv)
{
    struct lookup *op = priv;

    if (!req_store_failed(op->req, reply)) {
        const char *id = json_string_value(json_object_get(op->rec, "id"));
        if (reply->integer == 1) {
            log_info("cert: %s revoked by %s", id, op->req->user);
            req_reply(op->req, 200, "revoked %s", id);
        } else {
            req_reply(op->req, 200, "already revoked %s", id);
        }
    }
    lookup_free(op);
}

/* The caller may act: answers (show) or writes the revocation. */
static void lookup_act(struct lookup *op)
{
    struct req *req = op->req;

    if (!op->revoke) {
        reply_record(req, 200, "credential", op->rec, op->course);
        lookup_free(op);
        return;
    }
    struct sbuf why = { 0 };
    for (int i = 3; i < req->args.argc; i++) {
        if (i > 3)
            sbuf_addc(&why, ' ');
        sbuf_add(&why, req->args.argv[i], req->args.argl[i]);
    }
    char *reason = sbuf_take(&why);
    json_t *entry = json_pack("{s:s,s:s,s:I,s:I}", "reason", reason, "by", req->user, "at",
                              (json_int_t)cohort_now_ms(), "index",
                              json_integer_value(json_object_get(op->rec, "index")));
    char *doc = json_dumps(entry, JSON_COMPACT);
    const char *argv[] = { "HSETNX", KEY_CERT_REVOKED, json_string_value(json_object_get(op->rec, "id")), doc };
    if (store_command_argv(revoke_cb, op, 4, argv, NULL) < 0) {
        req_reply(req, 503, "progress store unavailable");
        lookup_free(op);
    }
    json_decref(entry);
    free(doc);
    free(reason);
}

static void trainer_cb(redisReply *reply, const char *err, void *priv)
{
    struct lookup *op = priv;

    if (req_store_failed(op->req, reply)) {
        lookup_free(op);
        return;
    }
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
        lookup_act(op);
        return;
    }
    if (op->revoke)
        req_reply(op->req, 403, "CERT REVOKE is for an admin or a trainer of the credential's cohort");
    else
        req_reply(op->req, 404, "no credential '%s'", op->req->args.argv[2]);
    lookup_free(op);
}

static void record_cb(redisReply *reply, const char *err, void *priv)
{
    struct lookup *op = priv;
    struct req *req = op->req;

    if (req_store_failed(req, reply)) {
        lookup_free(op);
        return;
    }
    op->rec = reply->type == REDIS_REPLY_STRING ? json_loads(reply->str, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(op->rec, "id"));
    if (id == NULL || strcmp(id, req->args.argv[2]) != 0) {
        req_reply(req, 404, "no credential '%s'", req->args.argv[2]);
        lookup_free(op);
        return;
    }
    bool mine = strcmp(op->owner, req->user) == 0;
    if (req->role == ROLE_ADMIN || (mine && !op->revoke)) {
        lookup_act(op);
        return;
    }
    const char *cohort = json_string_value(json_object_get(op->rec, "cohort"));
    if (req->role >= ROLE_TRAINER && cohort && cohort[0]) {
        char *k = key_new(KEY_COHORT_TRAINERS, cohort);
        const char *argv[] = { "SISMEMBER", k, req->user };
        int rc = store_command_argv(trainer_cb, op, 3, argv, NULL);
        free(k);
        if (rc == 0)
            return;
        req_reply(req, 503, "progress store unavailable");
    } else if (op->revoke) {
        req_reply(req, 403, "CERT REVOKE is for an admin or a trainer of the credential's cohort");
    } else {
        /* Someone else's credential is not found, rather than forbidden:
         * its existence is not the caller's to learn. */
        req_reply(req, 404, "no credential '%s'", req->args.argv[2]);
    }
    lookup_free(op);
}

static void index_cb(redisReply *reply, const char *err, void *priv)
{
    struct lookup *op = priv;
    struct req *req = op->req;

    if (req_store_failed(req, reply)) {
        lookup_free(op);
        return;
    }
    const char *sp = reply->type == REDIS_REPLY_STRING ? strchr(reply->str, ' ') : NULL;
    if (sp == NULL || (size_t)(sp - reply->str) >= sizeof(op->owner) ||
        strlen(sp + 1) >= sizeof(op->course)) {
        req_reply(req, 404, "no credential '%s'", req->args.argv[2]);
        lookup_free(op);
        return;
    }
    snprintf(op->owner, sizeof(op->owner), "%.*s", (int)(sp - reply->str), reply->str);
    snprintf(op->course, sizeof(op->course), "%s", sp + 1);
    char *k = key_new(KEY_USER_CERTS, op->owner);
    const char *argv[] = { "HGET", k, op->course };
    if (store_command_argv(record_cb, op, 3, argv, NULL) < 0) {
        req_reply(req, 503, "progress store unavailable");
        lookup_free(op);
    }
    free(k);
}

static void cert_lookup(struct req *req, bool revoke)
{
    if (!cert_id_valid(req->args.argv[2], req->args.argl[2])) {
        req_reply(req, 400, "a credential id is a lower-case UUID");
        return;
    }
    if (revoke) {
        size_t total = 0;
        for (int i = 3; i < req->args.argc; i++)
            total += req->args.argl[i] + 1;
        if (total > CERT_REASON_MAX) {
            req_reply(req, 400, "reason: at most %d bytes", CERT_REASON_MAX);
            return;
        }
    }
    struct lookup *op = xcalloc(1, sizeof(*op));
    op->req = req;
    op->revoke = revoke;
    const char *argv[] = { "HGET", KEY_CERT_INDEX, req->args.argv[2] };
    if (store_command_argv(index_cb, op, 3, argv, NULL) < 0) {
        req_reply(req, 503, "progress store unavailable");
        lookup_free(op);
    }
}

static void cmd_cert(struct req *req)
{
    const struct proto_req *a = &req->args;

    if (a->argc == 2 && strcasecmp(a->argv[1], "LIST") == 0)
        cert_list(req);
    else if (a->argc == 3 && strcasecmp(a->argv[1], "SHOW") == 0)
        cert_lookup(req, false);
    else if (a->argc >= 4 && strcasecmp(a->argv[1], "REVOKE") == 0)
        cert_lookup(req, true);
    else if (a->argc == 2 && strcasecmp(a->argv[1], "SHOW") != 0 &&
             strcasecmp(a->argv[1], "REVOKE") != 0)
        cert_issue(req);
    else
        req_reply(req, 400, "usage: %s", req->cmd->usage);
}

/* ---- VERIFY {N} ---- */

struct verify {
    struct req *req;
    json_t *payload;
    char kid[CERT_KID_MAX];
};

static void verify_answer(struct req *req, json_t *p, const char *kid, const char *why)
{
    json_t *sub = json_object_get(p, "credentialSubject");
    json_t *ach = json_object_get(sub, "achievement");
    const char *s;

    req_kv(req, "valid", "%s", why ? "no" : "yes");
    if (why)
        req_kv(req, "reason", "%s", why);
    if (p) {
        s = json_string_value(json_object_get(json_object_get(p, "issuer"), "name"));
        req_kv(req, "issuer", "%s", s ? s : "");
        s = json_string_value(json_object_get(sub, "name"));
        req_kv(req, "subject", "%s", s ? s : "");
        s = json_string_value(json_object_get(ach, "name"));
        req_kv(req, "achievement", "%s", s ? s : "");
        s = json_string_value(json_object_get(p, "validFrom"));
        req_kv(req, "issued", "%s", s ? s : "");
        s = json_string_value(json_object_get(p, "jti"));
        req_kv(req, "id", "%s", s ? s : "");
    }
    if (kid && kid[0])
        req_kv(req, "kid", "%s", kid);
    if (why)
        req_reply_data(req, 200, "invalid: %s", why);
    else
        req_reply_data(req, 200, "valid");
}

static void verify_revoked_cb(redisReply *reply, const char *err, void *priv)
{
    struct verify *op = priv;

    if (!req_store_failed(op->req, reply)) {
        if (reply->type == REDIS_REPLY_STRING) {
            json_t *e = json_loads(reply->str, 0, NULL);
            const char *r = json_string_value(json_object_get(e, "reason"));
            char *why = xasprintf("revoked: %s", r ? r : "");
            verify_answer(op->req, op->payload, op->kid, why);
            free(why);
            json_decref(e);
        } else {
            verify_answer(op->req, op->payload, op->kid, NULL);
        }
    }
    json_decref(op->payload);
    free(op);
}

static void cmd_verify(struct req *req)
{
    char why[160];
    json_t *p = NULL;
    struct verify *op = xcalloc(1, sizeof(*op));
    const char *jws = req->args.argv[1];
    size_t len = req->args.argl[1];

    while (len > 0 && (jws[len - 1] == '\n' || jws[len - 1] == '\r' || jws[len - 1] == ' '))
        len--;
    op->req = req;
    if (cert_verify_jws(jws, len, &p, op->kid, why, sizeof(why)) < 0) {
        verify_answer(req, NULL, op->kid, why);
        free(op);
        return;
    }
    op->payload = p;
    long long now = cohort_now_ms() / 1000;
    json_t *exp = json_object_get(p, "exp"), *nbf = json_object_get(p, "nbf");
    const char *jti = json_string_value(json_object_get(p, "jti"));
    if (json_is_integer(exp) && json_integer_value(exp) <= now) {
        char when[TIME_ISO_MAX];
        time_iso(json_integer_value(exp) * 1000, false, when);
        snprintf(why, sizeof(why), "expired at %s", when);
    } else if (json_is_integer(nbf) && json_integer_value(nbf) > now + 300) {
        snprintf(why, sizeof(why), "not valid before its nbf");
    } else if (jti == NULL || strncmp(jti, "urn:uuid:", 9) != 0 ||
               !cert_id_valid(jti + 9, strlen(jti + 9))) {
        /* Signed by us but not a learner's credential (the status list):
         * nothing can revoke it. */
        verify_answer(req, p, op->kid, NULL);
        json_decref(p);
        free(op);
        return;
    } else {
        const char *argv[] = { "HGET", KEY_CERT_REVOKED, jti + 9 };
        if (store_command_argv(verify_revoked_cb, op, 3, argv, NULL) == 0)
            return;
        req_reply(req, 503, "progress store unavailable: revocation cannot be checked");
        json_decref(p);
        free(op);
        return;
    }
    verify_answer(req, p, op->kid, why);
    json_decref(p);
    free(op);
}

/* ---- ISSUER [status] ---- */

/* An HTTP answer that is the document itself, not the API's envelope (a
 * JWK Set, a status list credential), as export_cb does for xAPI. */
static void reply_raw(struct req *req, const char *msg, const char *ctype, const char *doc)
{
    if (req->origin == REQ_HTTP && req->http) {
        struct evhttp_request *r = req->http;
        struct evkeyvalq *h = evhttp_request_get_output_headers(r);
        struct evbuffer *b = evbuffer_new();
        evhttp_request_set_error_cb(r, NULL);
        evhttp_add_header(h, "Content-Type", ctype);
        evhttp_add_header(h, "Cache-Control", "max-age=300");
        evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
        evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
        evbuffer_add(b, doc, strlen(doc));
        http_send_reply(r, 200, "OK", b);
        evbuffer_free(b);
        req->http = NULL;
        req_reply(req, 200, "%s", msg);
    } else {
        req_reply_text(req, 200, msg, ctype, doc, strlen(doc));
    }
}

static void status_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    if (req_store_failed(req, reply))
        return;
    unsigned char *bits = xcalloc(1, CERT_STATUS_BITS / 8);
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        json_t *e = json_loads(reply->element[i + 1]->str ? reply->element[i + 1]->str : "", 0, NULL);
        json_int_t idx = json_integer_value(json_object_get(e, "index"));
        /* Bit 0 is the left-most bit of the first byte (Bitstring Status List). */
        if (idx >= 0 && idx < CERT_STATUS_BITS)
            bits[idx / 8] |= (unsigned char)(0x80 >> (idx % 8));
        json_decref(e);
    }
    /* The list is GZIP-compressed, then multibase base64url ("u"). */
    unsigned char gz[CERT_STATUS_BITS / 8 + 1024];
    z_stream zs = { 0 };
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fatal("deflateInit2 failed");
    zs.next_in = bits;
    zs.avail_in = CERT_STATUS_BITS / 8;
    zs.next_out = gz;
    zs.avail_out = sizeof(gz);
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        fatal("deflate of the status list failed");
    size_t gzlen = zs.total_out;
    deflateEnd(&zs);
    free(bits);
    char *enc = b64url_encode(gz, gzlen);
    char *b = base(), when[32];
    char *url = xasprintf("%s/api/status/1", b), *issuer = xasprintf("%s/api/issuer", b);
    char *list = xasprintf("u%s", enc);
    long long now = cohort_now_ms();
    time_iso(now, false, when);
    json_t *cred = json_pack("{s:[s],s:s,s:[s,s],s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:s,s:I}",
                             "@context", CERT_CONTEXT_VC, "id", url, "type",
                             "VerifiableCredential", "BitstringStatusListCredential", "issuer",
                             issuer, "validFrom", when, "credentialSubject", "id", url, "type",
                             "BitstringStatusList", "statusPurpose", "revocation", "encodedList",
                             list, "iss", issuer, "jti", url, "nbf", (json_int_t)(now / 1000));
    char *jwt = cert_sign(cred);
    reply_raw(req, "status list", CERT_JWT_TYPE, jwt);
    json_decref(cred);
    free(jwt);
    free(enc);
    free(b);
    free(url);
    free(issuer);
    free(list);
}

static void cmd_issuer(struct req *req)
{
    if (req->args.argc == 1) {
        json_t *jwks = cert_jwks();
        char *doc = json_dumps(jwks, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(jwks);
        reply_raw(req, "issuer keys", "application/jwk-set+json", doc);
        free(doc);
        return;
    }
    if (strcasecmp(req->args.argv[1], "status") != 0) {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        return;
    }
    if (store_state() != STORE_UP) {
        req_reply(req, 503, "progress store unavailable");
        return;
    }
    const char *argv[] = { "HGETALL", KEY_CERT_REVOKED };
    if (store_command_argv(status_cb, req, 2, argv, NULL) < 0)
        req_reply(req, 503, "progress store unavailable");
}

const struct cmd cmd_group_cert[] = {
    { .name = "CERT", .run = cmd_cert, .min_args = 1, .max_args = -1, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE,
      .usage = "CERT course | CERT LIST | CERT SHOW id | CERT REVOKE id reason",
      .help = "Your certificate for a completed course (an Open Badges 3.0 credential, VC-JWT);"
              " 409 lists what is missing. LIST: yours. SHOW: one by id. REVOKE: admins and"
              " the cohort's trainers." },
    { .name = "VERIFY", .run = cmd_verify, .min_args = 1, .max_args = 1, .role = ROLE_ANON,
      .flags = CMD_STORE | CMD_SESSION | CMD_LANG, .usage = "VERIFY {N} [lang=TAG]",
      .help = "Checks a credential (compact JWS): signature, issuer key, expiry, revocation; "
              "the verdict in your language." },
    { .name = "ISSUER", .run = cmd_issuer, .min_args = 0, .max_args = 1, .role = ROLE_ANON,
      .usage = "ISSUER [status]",
      .help = "The issuer's public keys as a JWK Set; status: the signed revocation status list." },
    { .name = NULL },
};

/* ---- HTTP routes ---- */

static int api_cert_list(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("CERT");
    argv[1] = xstrdup("LIST");
    return 2;
}

static int api_cert_issue(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("CERT");
    argv[1] = xstrdup(p[0]);
    return 2;
}

static int api_cert_show(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("CERT");
    argv[1] = xstrdup("SHOW");
    argv[2] = xstrdup(p[0]);
    return 3;
}

/* The request body as a JSON object with string member k, or NULL after
 * answering 400. */
static char *body_string(struct evhttp_request *r, const char *k)
{
    json_t *doc = api_body(r);
    const char *v = json_string_value(json_object_get(doc, k));
    char *s = v ? xstrdup(v) : NULL;
    json_decref(doc);
    if (s == NULL) {
        char msg[80];
        snprintf(msg, sizeof(msg), "body must be {\"%s\": \"...\"}", k);
        api_send_error(r, 400, msg);
    }
    return s;
}

static int api_cert_revoke(struct evhttp_request *r, char **p, int n, char **argv)
{
    char *reason = body_string(r, "reason");
    if (reason == NULL)
        return -1;
    argv[0] = xstrdup("CERT");
    argv[1] = xstrdup("REVOKE");
    argv[2] = xstrdup(p[0]);
    argv[3] = reason;
    return 4;
}

static int api_verify(struct evhttp_request *r, char **p, int n, char **argv)
{
    char *jws = body_string(r, "credential");
    if (jws == NULL)
        return -1;
    argv[0] = xstrdup("VERIFY");
    argv[1] = jws;
    return 2;
}

static int api_issuer(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("ISSUER");
    return 1;
}

static int api_status(struct evhttp_request *r, char **p, int n, char **argv)
{
    if (strcmp(p[0], "1") != 0) {
        api_send_error(r, 404, "no such status list (there is one: /api/status/1)");
        return -1;
    }
    argv[0] = xstrdup("ISSUER");
    argv[1] = xstrdup("status");
    return 2;
}

const struct api_route api_routes_cert[] = {
    { "GET", "/api/certs", api_cert_list },
    { "POST", "/api/certs/{course}", api_cert_issue },
    { "GET", "/api/certs/{id}", api_cert_show },
    { "POST", "/api/certs/{id}/revoke", api_cert_revoke },
    { "POST", "/api/verify", api_verify },
    { "GET", "/api/issuer", api_issuer },
    { "GET", "/api/status/{list}", api_status },
    { NULL, NULL, NULL },
};

/* ---- /certificates/ID: the printable page ---- */

struct page {
    /* An incoming request whose connection fails before the answer is
     * detached, not freed, by libevent: answering it then frees it. */
    struct evhttp_request *r;
    char id[37];
    char owner[128], course[ID_MAX + 1];
};

static void page_finish(struct page *pg, int code, const char *msg)
{
    api_send_error(pg->r, code, msg);
    free(pg);
}

static void html_escape(struct evbuffer *b, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '<': evbuffer_add(b, "&lt;", 4); break;
        case '>': evbuffer_add(b, "&gt;", 4); break;
        case '&': evbuffer_add(b, "&amp;", 5); break;
        case '"': evbuffer_add(b, "&quot;", 6); break;
        case '\'': evbuffer_add(b, "&#39;", 5); break;
        default: evbuffer_add(b, s, 1);
        }
}

static void page_record_cb(redisReply *reply, const char *err, void *priv)
{
    struct page *pg = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        page_finish(pg, reply ? 404 : 503, reply ? "no such certificate" : "progress store unavailable");
        return;
    }
    json_t *rec = json_loads(reply->str, 0, NULL);
    const char *jwt = json_string_value(json_object_get(rec, "jwt"));
    const char *d1 = jwt ? strchr(jwt, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    json_t *p = NULL;
    if (d2 && b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), CERT_JWS_MAX, &raw, &rawlen) == 0)
        p = json_loadb((char *)raw, rawlen, 0, NULL);
    free(raw);
    if (p == NULL) {
        json_decref(rec);
        json_decref(p);
        page_finish(pg, 503, "stored credential is damaged");
        return;
    }
    json_t *sub = json_object_get(p, "credentialSubject");
    json_t *ach = json_object_get(sub, "achievement");
    char *b = base();
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<title>Certificate: ");
    html_escape(out, json_string_value(json_object_get(ach, "name")));
    evbuffer_add_printf(out, "</title>\n<style>\n"
        "body{font-family:Georgia,serif;margin:0;color:#222}\n"
        ".sheet{max-width:180mm;margin:2em auto;padding:15mm;border:3px double #555;text-align:center}\n"
        "h1{font-size:2em;margin:.2em 0}.name{font-size:1.8em;font-style:italic}\n"
        ".small{font-size:.8em;color:#555;word-break:break-all;text-align:left}\n"
        "@page{size:A4;margin:15mm}\n"
        "@media print{body{margin:0}.sheet{margin:0 auto;border-width:3px;page-break-inside:avoid}.noprint{display:none}}\n"
        "@media print and (max-height:280mm){@page{size:letter;margin:12mm}.sheet{max-width:190mm}}\n"
        "</style></head><body><div class=\"sheet\">\n<p>Campus certifies that</p>\n<p class=\"name\">");
    html_escape(out, json_string_value(json_object_get(sub, "name")));
    evbuffer_add_printf(out, "</p>\n<p>has completed</p>\n<h1>");
    html_escape(out, json_string_value(json_object_get(ach, "name")));
    evbuffer_add_printf(out, "</h1>\n<p>version ");
    html_escape(out, json_string_value(json_object_get(ach, "version")));
    evbuffer_add_printf(out, ", issued ");
    html_escape(out, json_string_value(json_object_get(p, "validFrom")));
    evbuffer_add_printf(out, "</p>\n<p>");
    html_escape(out, json_string_value(json_object_get(json_object_get(ach, "criteria"), "narrative")));
    evbuffer_add_printf(out, "</p>\n<p class=\"small\">Credential id: urn:uuid:%s<br>"
                        "Verify: POST the credential below to %s/api/verify, or check its "
                        "signature with the issuer key at <a href=\"%s/api/issuer\">%s/api/issuer</a>.</p>\n"
                        "<p class=\"small\"><code id=\"credential\">", pg->id, b, b, b);
    html_escape(out, jwt);
    evbuffer_add_printf(out, "</code></p>\n<script type=\"application/vc+jwt\" id=\"vc\">");
    html_escape(out, jwt);
    evbuffer_add_printf(out, "</script>\n</div></body></html>\n");
    struct evkeyvalq *h = evhttp_request_get_output_headers(pg->r);
    evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    http_send_reply(pg->r, 200, "OK", out);
    evbuffer_free(out);
    free(b);
    json_decref(rec);
    json_decref(p);
    free(pg);
}

static void page_index_cb(redisReply *reply, const char *err, void *priv)
{
    struct page *pg = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        page_finish(pg, 503, "progress store unavailable");
        return;
    }
    const char *sp = reply->type == REDIS_REPLY_STRING ? strchr(reply->str, ' ') : NULL;
    if (sp == NULL || (size_t)(sp - reply->str) >= sizeof(pg->owner) ||
        strlen(sp + 1) >= sizeof(pg->course)) {
        page_finish(pg, 404, "no such certificate");
        return;
    }
    snprintf(pg->owner, sizeof(pg->owner), "%.*s", (int)(sp - reply->str), reply->str);
    snprintf(pg->course, sizeof(pg->course), "%s", sp + 1);
    char *k = key_new(KEY_USER_CERTS, pg->owner);
    const char *argv[] = { "HGET", k, pg->course };
    if (store_command_argv(page_record_cb, pg, 3, argv, NULL) < 0)
        page_finish(pg, 503, "progress store unavailable");
    free(k);
}

/* Anyone holding the link may see the page: the credential is meant to be
 * shown, and its id (a random UUID) is the capability. */
void cert_page(struct evhttp_request *r, const char *path)
{
    const char *id = path + strlen("/certificates/");
    enum evhttp_cmd_type m = evhttp_request_get_command(r);

    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        api_send_error(r, 405, "use GET");
        return;
    }
    if (!cert_id_valid(id, strlen(id))) {
        api_send_error(r, 404, "no such certificate");
        return;
    }
    struct page *pg = xcalloc(1, sizeof(*pg));
    pg->r = r;
    snprintf(pg->id, sizeof(pg->id), "%s", id);
    const char *argv[] = { "HGET", KEY_CERT_INDEX, id };
    if (store_command_argv(page_index_cb, pg, 3, argv, NULL) < 0)
        page_finish(pg, 503, "progress store unavailable");
}
