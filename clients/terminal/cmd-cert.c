/* cmd-cert.c: campus cert (a course's certificate saved to a file, the list
 * of mine), campus verify (a certificate checked on this machine with the
 * issuer keys saved on first use, or by the server with --online), and the
 * saved issuer key sets, one per server. */
#include "campus.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISSUERS_DIR "issuers"
#define ISSUERS_EXT ".jwks"
/* At most this many saved key sets are read by verify. */
#define ISSUERS_MAX 256

/* The file of the key set saved for server: issuers/HOST_PORT.jwks in the
 * config dir ("tls://" left out: it names how to connect, not who). */
static char *issuer_path(const struct config *c, const char *server)
{
    if (strncmp(server, "tls://", 6) == 0)
        server += 6;
    char *k = config_server_key(server);
    char *p = xasprintf("%s/" ISSUERS_DIR "/%s" ISSUERS_EXT, c->config_dir, k);
    free(k);
    return p;
}

static json_t *load_json(const char *path)
{
    size_t len;
    char *text = config_read_file(path, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return j;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Trust on first use of the server's issuer keys: the JWK Set the server
 * answered (ISSUER) is saved the first time, and later only keys with a
 * new kid are added. A saved kid offered with another key is refused
 * loudly, as a changed TLS certificate is. Returns 0, or -1 (printed). */
static int issuer_trust(struct ctx *ctx, const struct resp *r)
{
    if (r->code != 200 || r->body == NULL) {
        fprintf(stderr, _("campus: %s did not send its issuer keys (%d %s)\n"), ctx->cfg.server,
                r->code, r->text ? r->text : "");
        return -1;
    }
    json_t *offered = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    char *path = issuer_path(&ctx->cfg, ctx->cfg.server);
    json_t *saved = load_json(path);
    bool first = saved == NULL;
    char why[256];
    size_t added = 0;
    int rc = -1;

    if (first)
        saved = json_pack("{s:[]}", "keys");
    if (jws_keys_merge(saved, offered, &added, why, sizeof(why)) < 0) {
        fprintf(stderr,
                _("campus: WARNING: %s: %s since it was first trusted.\n"
                  "campus: Someone may be impersonating the server, or it lost its key.\n"
                  "campus: Refusing it; if the change is expected, remove %s\n"),
                ctx->cfg.server, why, path);
        goto out;
    }
    if (added) {
        char *dir = xasprintf("%s/" ISSUERS_DIR, ctx->cfg.config_dir);
        char *text = json_dumps(saved, JSON_INDENT(2));
        int wrc = config_mkdir(dir) == 0 ? config_write_file(path, text, strlen(text), 0600) : -1;
        free(dir);
        free(text);
        if (wrc < 0) {
            fprintf(stderr, _("campus: cannot save the issuer keys to %s: %s\n"), path,
                    strerror(errno));
            goto out;
        }
        if (first)
            fprintf(stderr, ngettext("campus: trusting on first use %zu issuer key of %s in %s\n",
                                     "campus: trusting on first use %zu issuer keys of %s in %s\n",
                                     added),
                    added, ctx->cfg.server, path);
        else
            fprintf(stderr, ngettext("campus: added %zu issuer key of %s in %s\n",
                                     "campus: added %zu issuer keys of %s in %s\n", added),
                    added, ctx->cfg.server, path);
    }
    rc = 0;
out:
    json_decref(offered);
    json_decref(saved);
    free(path);
    return rc;
}

int cert_trust_hello(struct ctx *ctx)
{
    struct request r;
    int rc = 0;

    request_init(&r, true);
    request_arg(&r, "HELLO");
    if (session_run(&ctx->sess, &r, 1) < 0 || r.resp.code != 200) {
        request_free(&r);
        return 0;         /* the login stands; cert trusts the keys later */
    }
    char *kid = resp_kv(&r.resp, "issuer-kid"), *x = resp_kv(&r.resp, "issuer-key");
    request_free(&r);
    if (kid == NULL || x == NULL)
        goto out;        /* a server that issues no certificates */
    char *path = issuer_path(&ctx->cfg, ctx->cfg.server);
    json_t *saved = load_json(path);
    free(path);
    size_t i;
    json_t *k;
    bool known = false;
    json_array_foreach(json_object_get(saved, "keys"), i, k)
        if (strcmp(str(k, "kid"), kid) == 0 && strcmp(str(k, "x"), x) == 0)
            known = true;
    json_decref(saved);
    if (known)
        goto out;
    /* A new server or a new kid: the whole key set, merged as cert does
     * (a changed key for a known kid is refused there, loudly). */
    request_init(&r, true);
    request_arg(&r, "ISSUER");
    if (session_run(&ctx->sess, &r, 1) == 0 && r.resp.code == 200)
        rc = issuer_trust(ctx, &r.resp);
    request_free(&r);
out:
    free(kid);
    free(x);
    return rc;
}

/* Prints who issued the credential, to whom, for what and when. */
static void print_facts(FILE *f, json_t *p)
{
    json_t *sub = json_object_get(p, "credentialSubject");
    json_t *ach = json_object_get(sub, "achievement");
    json_t *res = json_array_get(json_object_get(sub, "result"), 0);
    json_t *iss = json_object_get(p, "issuer");

    fprintf(f, _("issuer\t%s (%s)\n"), str(iss, "name"),
            json_is_string(iss) ? json_string_value(iss) : str(iss, "id"));
    fprintf(f, _("recipient\t%s\n"), str(sub, "name"));
    fprintf(f, _("achievement\t%s"), str(ach, "name"));
    if (str(ach, "version")[0])
        fprintf(f, _(" (version %s)"), str(ach, "version"));
    fputc('\n', f);
    fprintf(f, _("issued\t%s\n"), str(p, "validFrom"));
    if (str(p, "validUntil")[0])
        fprintf(f, _("valid until\t%s\n"), str(p, "validUntil"));
    if (str(res, "value")[0])
        fprintf(f, _("score\t%s\n"), str(res, "value"));
    if (str(sub, "cohort")[0])
        fprintf(f, _("cohort\t%s\n"), str(sub, "cohort"));
    fprintf(f, _("id\t%s\n"), str(p, "jti"));
}

static int cert_list(struct ctx *ctx)
{
    struct request r;
    request_init(&r, true);
    request_arg(&r, "CERT");
    request_arg(&r, "LIST");
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    int rc = cmd_status(&r.resp);
    if (rc == CAMPUS_EXIT_OK)
        render_table(&r.resp, NULL, 0);
    request_free(&r);
    return rc;
}

/* campus cert COURSE [FILE] | campus cert list */
int cmd_cert(struct ctx *ctx, int argc, char **argv)
{
    if (argc > 3 || (strcmp(argv[1], "list") == 0 && argc != 2))
        return cmd_usage(cmd_find("cert"));
    if (config_token(&ctx->cfg) == NULL) {
        fputs(_("campus: not logged in: campus login\n"), stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    if (strcmp(argv[1], "list") == 0)
        return cert_list(ctx);

    const char *course = argv[1];
    char *file = argc == 3 ? xstrdup(argv[2]) : xasprintf("%s.jwt", course);
    /* CERT is safe to send again: a second one answers the same credential. */
    struct request r[2];
    request_init(&r[0], true);
    request_arg(&r[0], "ISSUER");
    request_init(&r[1], true);
    request_arg(&r[1], "CERT");
    request_arg(&r[1], course);
    int rc;
    if (session_run(&ctx->sess, r, 2) < 0) {
        rc = cmd_unavailable(ctx);
        goto out;
    }
    /* The keys are trusted before the answer is used, whatever it is. */
    if (issuer_trust(ctx, &r[0].resp) < 0) {
        rc = CAMPUS_EXIT_REFUSED;
        goto out;
    }
    if (r[1].resp.code == 409) {
        rc = cmd_status(&r[1].resp);
        fputs(_("still missing:\n"), stderr);
        render_table(&r[1].resp, NULL, 0);
        goto out;
    }
    if ((rc = cmd_status(&r[1].resp)) != CAMPUS_EXIT_OK)
        goto out;
    const char *jwt = r[1].resp.body ? r[1].resp.body : "";
    size_t len = r[1].resp.body ? r[1].resp.body_len : 0;
    json_t *p = NULL;
    char kid[128], why[256];
    if (jws_payload(jwt, len, &p, kid, sizeof(kid), why, sizeof(why)) < 0) {
        fprintf(stderr, _("campus: the server sent a credential that does not parse: %s\n"), why);
        rc = CAMPUS_EXIT_UNAVAILABLE;
        goto out;
    }
    bool to_stdout = strcmp(file, "-") == 0;
    if (to_stdout) {
        fwrite(jwt, 1, len, stdout);
        fputc('\n', stdout);
    } else if (config_write_file(file, jwt, len, 0644) < 0) {
        fprintf(stderr, _("campus: cannot write %s: %s\n"), file, strerror(errno));
        json_decref(p);
        rc = CAMPUS_EXIT_USAGE;
        goto out;
    }
    FILE *f = to_stdout ? stderr : stdout;
    fprintf(f, "%s: %s\n", r[1].resp.code == 201 ? _("issued") : _("already issued"),
            to_stdout ? _("written to standard output") : file);
    print_facts(f, p);
    json_decref(p);
out:
    request_free(&r[0]);
    request_free(&r[1]);
    free(file);
    return rc;
}

/* The saved key set holding kid, or NULL; *from names its server file.
 * Reads every saved key set (at most ISSUERS_MAX): a credential may come
 * from any server this client has trusted. */
static json_t *find_keys(const struct config *c, const char *kid, char **from)
{
    char *dir = xasprintf("%s/" ISSUERS_DIR, c->config_dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    json_t *found = NULL;
    int n = 0;

    *from = NULL;
    while (d && found == NULL && n < ISSUERS_MAX && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), el = strlen(ISSUERS_EXT);
        if (e->d_name[0] == '.' || l <= el || strcmp(e->d_name + l - el, ISSUERS_EXT) != 0)
            continue;
        n++;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        json_t *set = load_json(path);
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(set, "keys"), i, k)
            if (strcmp(str(k, "kid"), kid) == 0)
                found = set;
        if (found)
            *from = xstrndup(e->d_name, l - el);
        else
            json_decref(set);
        free(path);
    }
    if (d)
        closedir(d);
    free(dir);
    return found;
}

static char *read_credential(const char *path, size_t *len)
{
    char *text;
    if (strcmp(path, "-") == 0) {
        struct sbuf b = {0};
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0 && b.len < 1024 * 1024)
            sbuf_add(&b, buf, n);
        text = b.data ? sbuf_take(&b) : xstrdup("");
        *len = strlen(text);
    } else if ((text = config_read_file(path, len)) == NULL) {
        return NULL;
    }
    /* The file as saved ends with a newline or none; surrounding white space
     * is not part of the JWS. */
    size_t s = 0;
    while (s < *len && strchr(" \t\r\n", text[s]))
        s++;
    while (*len > s && strchr(" \t\r\n", text[*len - 1]))
        (*len)--;
    memmove(text, text + s, *len - s);
    *len -= s;
    text[*len] = '\0';
    return text;
}

/* Asks the server's VERIFY, which also knows about revocation. */
static int verify_online(struct ctx *ctx, const char *jws, size_t len)
{
    struct request r;
    request_init(&r, true);
    request_arg(&r, "VERIFY");
    request_argn(&r, jws, len);
    r.literal_last = true;
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    int rc = cmd_status(&r.resp);
    if (rc == CAMPUS_EXIT_OK) {
        char *valid = resp_kv(&r.resp, "valid"), *reason = resp_kv(&r.resp, "reason");
        bool ok = valid && strcmp(valid, "yes") == 0;
        printf(ok ? _("valid (checked by %s, revocation included)\n")
                  : _("INVALID (checked by %s, revocation included)\n"), ctx->cfg.server);
        if (!ok)
            printf(_("reason\t%s\n"), reason ? reason : "");
        static const char *const keys[] = { N_("issuer"), N_("subject"), N_("achievement"),
                                            N_("issued"), N_("id"), N_("kid") };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            char *v = resp_kv(&r.resp, keys[i]);
            if (v && v[0])
                printf("%s\t%s\n", _(keys[i]), v);
            free(v);
        }
        rc = ok ? CAMPUS_EXIT_OK : CAMPUS_EXIT_REFUSED;
        free(valid);
        free(reason);
    }
    request_free(&r);
    return rc;
}

/* campus verify FILE [--online]: offline, no network at all, unless
 * --online asks the server instead. Exit 0 valid, 1 invalid. */
int cmd_verify(struct ctx *ctx, int argc, char **argv)
{
    bool online = cmd_flag(&argc, argv, "--online");
    if (argc != 2)
        return cmd_usage(cmd_find("verify"));
    size_t len;
    char *jws = read_credential(argv[1], &len);
    if (jws == NULL) {
        fprintf(stderr, _("campus: cannot read %s: %s\n"), argv[1], strerror(errno));
        return CAMPUS_EXIT_USAGE;
    }
    if (online) {
        int rc = verify_online(ctx, jws, len);
        free(jws);
        return rc;
    }

    json_t *p = NULL, *keys = NULL;
    char kid[128], why[256], *from = NULL;
    int rc = CAMPUS_EXIT_REFUSED;
    if (jws_kid(jws, len, kid, sizeof(kid), why, sizeof(why)) == 0) {
        keys = find_keys(&ctx->cfg, kid, &from);
        if (keys == NULL)
            snprintf(why, sizeof(why), _("unknown issuer key '%.60s' (no saved issuer has it; "
                     "campus cert from its server saves its keys)"), kid);
        else if (jws_verify(jws, len, keys, (long long)time(NULL), &p, why, sizeof(why)) == 0)
            rc = CAMPUS_EXIT_OK;
    }
    if (rc == CAMPUS_EXIT_OK)
        printf(_("valid (signature checked offline with the issuer key of %s)\n"), from);
    else
        printf(_("INVALID: %s\n"), why);
    if (p && rc == CAMPUS_EXIT_OK)
        print_facts(stdout, p);
    if (rc == CAMPUS_EXIT_OK)
        puts(_("revocation\tnot checked offline (campus verify --online asks the server)"));
    json_decref(p);
    json_decref(keys);
    free(from);
    free(jws);
    return rc;
}
