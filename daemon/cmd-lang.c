/* cmd-lang.c: LANG, the language a learner reads courses and messages in,
 * kept with the account, and its HTTP route. */
#include "campusd.h"

#include "account.h"
#include "keys.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lang_set_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    account_hold(req, false);
    if (req_store_failed(req, reply))
        return;
    if (req->args.argc > 1 && strcmp(req->args.argv[1], "-") != 0) {
        /* The answer already speaks the new language. */
        snprintf(req->lang_account, sizeof(req->lang_account), "%s", req->args.argv[1]);
        if (req->origin == REQ_CTP)
            account_set_lang(req->conn, req->user, req->lang_account);
        req_kv(req, "lang", "%s", req->lang_account);
        req_reply_data(req, 200, i18n_fmt(i18n_msg_lang(req), "language set to %s"),
                       req->lang_account);
    } else {
        req->lang_account[0] = '\0';
        if (req->origin == REQ_CTP)
            account_set_lang(req->conn, req->user, "");
        req_kv(req, "lang", "%s", "");
        req_reply_data(req, 200, "%s",
                       i18n_fmt(i18n_msg_lang(req),
                                "language unset: courses come in their default language"));
    }
}

/* LANG [tag|-]: without an argument, the account's language ("" when
 * unset); with a tag, sets it; with "-", unsets it. */
static void cmd_lang(struct req *req)
{
    char k[KEY_MAX];

    if (req->args.argc == 1) {
        req_kv(req, "lang", "%s", req->lang_account);
        req_reply_data(req, 200, "%s", req->lang_account[0] ? req->lang_account : "-");
        return;
    }
    const char *tag = req->args.argv[1];
    bool unset = strcmp(tag, "-") == 0;
    if (!unset && !lang_tag_valid(tag, req->args.argl[1])) {
        req_reply(req, 400, "bad language tag (use en, fr, es, fr-CA, ...)");
        return;
    }
    if (key_fmt(k, sizeof(k), KEY_ACCOUNT, req->user) < 0) {
        req_store_unavailable(req);
        return;
    }
    /* Held: a request pipelined behind this one reads the new setting. */
    account_hold(req, true);
    int rc = unset ? store_command(lang_set_cb, req, "HDEL %s lang", k)
                   : store_command(lang_set_cb, req, "HSET %s lang %s", k, tag);
    if (rc < 0) {
        account_hold(req, false);
        req_store_unavailable(req);
    }
}

const struct cmd cmd_group_lang[] = {
    { .name = "LANG", .run = cmd_lang, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE, .usage = "LANG [tag|-]",
      .help = "Your language (en, fr, es, fr-CA, ...): courses come in it where they have it, and "
              "the server's messages too. Without a tag, shows it; '-' unsets it." },
    { .name = NULL },
};

/* ---- HTTP routes ---- */

static int api_lang_get(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("LANG");
    return 1;
}

/* The body is JSON: {"lang": "fr"}; "" or null unsets it. */
static int api_lang_set(struct evhttp_request *r, char **p, int n, char **argv)
{
    json_t *doc = api_body(r);
    json_t *v = json_object_get(doc, "lang");

    if (!json_is_object(doc) || !(json_is_string(v) || json_is_null(v))) {
        json_decref(doc);
        api_send_error(r, 400, "body must be {\"lang\": \"fr\"} (or \"\" to unset)");
        return -1;
    }
    const char *tag = json_is_string(v) ? json_string_value(v) : "";
    argv[0] = xstrdup("LANG");
    argv[1] = xstrdup(tag[0] ? tag : "-");
    json_decref(doc);
    return 2;
}

const struct api_route api_routes_lang[] = {
    { "GET", "/api/lang", api_lang_get },
    { "POST", "/api/lang", api_lang_set },
    { NULL, NULL, NULL },
};
