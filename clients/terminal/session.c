/* session.c: requests sent in pipelined batches over a connection that
 * resumes the saved session (AUTH), replays the offline DONE queue, and
 * reconnects once when the link drops; once a day per server it asks HELLO
 * for the TLS port to go to next time, and it remembers a server that
 * refused COMPRESS. */
#include "campus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What campus learns about a server it has been to (its HELLO, asked over
 * TLS, and whether it took COMPRESS) is asked again after this long. */
#define SESSION_LEARN_MAX_AGE (24 * 3600)

void request_init(struct request *r, bool retry)
{
    memset(r, 0, sizeof(*r));
    r->retry = retry;
}

void request_argn(struct request *r, const char *p, size_t n)
{
    r->argv = xrealloc(r->argv, (size_t)(r->argc + 1) * sizeof(*r->argv));
    r->argl = xrealloc(r->argl, (size_t)(r->argc + 1) * sizeof(*r->argl));
    r->argv[r->argc] = xstrndup(p, n);
    r->argl[r->argc] = n;
    r->argc++;
}

void request_arg(struct request *r, const char *s)
{
    request_argn(r, s, strlen(s));
}

void request_free(struct request *r)
{
    for (int i = 0; i < r->argc; i++) {
        explicit_bzero(r->argv[i], r->argl[i]);
        free(r->argv[i]);
    }
    free(r->argv);
    free(r->argl);
    resp_free(&r->resp);
    memset(r, 0, sizeof(*r));
}

void session_init(struct session *s, struct config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->net.fd = -1;
}

static void drop_connection(struct session *s)
{
    if (!net_is_open(&s->net))
        return;
    s->bytes_in += net_bytes_in(&s->net);
    s->bytes_out += net_bytes_out(&s->net);
    net_close(&s->net);
    s->authed = false;
}

void session_close(struct session *s)
{
    drop_connection(s);
}

unsigned long long session_bytes_in(const struct session *s)
{
    return s->bytes_in + (net_is_open(&s->net) ? net_bytes_in(&s->net) : 0);
}

unsigned long long session_bytes_out(const struct session *s)
{
    return s->bytes_out + (net_is_open(&s->net) ? net_bytes_out(&s->net) : 0);
}

/* $XDG_STATE_HOME/campus/servers/KEY.what, for the server in use. */
static char *server_state_path(const struct session *s, const char *what)
{
    char *key = config_server_key(s->cfg->server);
    char *p = xasprintf("%s/servers/%s.%s", s->cfg->state_dir, key, what);
    free(key);
    return p;
}

/* The file of what was learned: "tls-port N" (0: none) and "compress
 * yes|no" lines. Sets *fresh when it is younger than SESSION_LEARN_MAX_AGE. */
static void learned_read(struct session *s, bool *fresh)
{
    char *path = server_state_path(s, "learned");
    char *text = config_read_file(path, NULL);
    struct stat st;

    s->learned_tls_port = 0;
    s->learned_compress = -1;
    *fresh = text && stat(path, &st) == 0 && time(NULL) - st.st_mtime < SESSION_LEARN_MAX_AGE;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        long port;
        char word[8];
        if (sscanf(line, "tls-port %ld", &port) == 1 && port > 0 && port <= 65535)
            s->learned_tls_port = port;
        else if (sscanf(line, "compress %7s", word) == 1)
            s->learned_compress = strcmp(word, "yes") == 0 ? 1 : strcmp(word, "no") == 0 ? 0 : -1;
    }
    free(text);
    free(path);
}

static void learned_write(struct session *s)
{
    char *path = server_state_path(s, "learned");
    char *dir = xasprintf("%s/servers", s->cfg->state_dir);
    char *text = xasprintf("tls-port %ld\ncompress %s\n", s->learned_tls_port,
                           s->learned_compress == 0 ? "no" : "yes");
    if (config_mkdir(dir) == 0)
        config_write_file(path, text, strlen(text), 0600);
    free(text);
    free(dir);
    free(path);
}

int session_connect(struct session *s)
{
    if (net_is_open(&s->net))
        return 0;
    bool fresh = false;
    learned_read(s, &fresh);
    char *known = xasprintf("%s/known_servers", s->cfg->config_dir);
    char *tls_session = server_state_path(s, "tls-session");
    struct net_opts o = {
        .no_tls = s->cfg->no_tls,
        .no_compress = s->cfg->no_compress || s->learned_compress == 0,
        .timeout_ms = s->cfg->timeout_ms,
        .known_path = known,
        .tls_session_path = tls_session,
        .tls_port = s->learned_tls_port,
    };
    int rc = net_open(&s->net, s->cfg->server, &o, s->err, sizeof(s->err));
    if (s->net.learned_failed) {
        /* The port HELLO named did not work (a balancer, a firewall): ask
         * again on this connection, and use the configured address. */
        s->learned_tls_port = 0;
        fresh = false;
    }
    free(tls_session);
    free(known);
    if (rc == 0) {
        s->connections++;
        /* Learned only inside TLS, where nobody on the path can say it. */
        s->learn = !fresh && s->net.tls;
    }
    return rc;
}

/* Reads what HELLO said into the learned file. */
static void learn_from(struct session *s, const struct resp *r)
{
    if (r->code != 200)
        return;
    char *port = resp_kv(r, "tls-port"), *compress = resp_kv(r, "compress");
    long p = port ? strtol(port, NULL, 10) : 0;
    s->learned_tls_port = p > 0 && p <= 65535 ? p : 0;
    if (s->learned_compress < 0 || compress)
        s->learned_compress = compress && strncmp(compress, "DEFLATE", 7) == 0 ? 1 : 0;
    learned_write(s);
    free(port);
    free(compress);
}

/* What a new connection sends first: AUTH with the saved token, then the
 * DONE marks queued offline. Returns how many prelude requests there are
 * (pre[0] is AUTH when there is a token). */
static size_t prelude(struct session *s, struct request **pre, bool *has_auth)
{
    const char *token = config_token(s->cfg);
    size_t nq = 0;
    struct request *queued = NULL;

    *has_auth = token != NULL && !s->session_ended;
    if (*has_auth && s->cfg->user)
        queued = offline_queue_requests(s->cfg, s->cfg->user, &nq);
    size_t n = (*has_auth ? 1 : 0) + nq;
    *pre = n ? xcalloc(n, sizeof(**pre)) : NULL;
    if (*has_auth) {
        request_init(&(*pre)[0], true);
        request_arg(&(*pre)[0], "AUTH");
        request_arg(&(*pre)[0], token);
    }
    for (size_t i = 0; i < nq; i++)
        (*pre)[(*has_auth ? 1 : 0) + i] = queued[i];
    free(queued);
    return n;
}

/* Sends what the prelude and the unanswered requests need, reads the
 * answers. Returns 0, or -1 when the link failed. */
static int exchange(struct session *s, struct request *reqs, size_t n)
{
    struct request *pre = NULL;
    bool has_auth = false;
    size_t npre = 0;
    int rc = -1;

    if (!net_is_open(&s->net)) {
        if (session_connect(s) < 0)
            return -1;
        npre = prelude(s, &pre, &has_auth);
    } else if (!s->authed && config_token(s->cfg) && !s->session_ended) {
        /* The last AUTH failed (the store was down): try again. */
        npre = prelude(s, &pre, &has_auth);
    }
    for (size_t i = 0; i < npre; i++)
        net_add(&s->net, pre[i].argc, pre[i].argv, pre[i].argl, false);
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].resp.code)
            continue;
        if (net_add(&s->net, reqs[i].argc, reqs[i].argv, reqs[i].argl,
                    reqs[i].literal_last) < 0) {
            /* Cannot be framed: answered here, as the server would. */
            reqs[i].resp.code = 400;
            reqs[i].resp.text = xstrdup(_("an argument holds bytes CTP/1 cannot carry"));
        }
    }
    /* Once a day per server, a HELLO behind the requests: whether it has
     * a TLS port to go to straight next time (a round trip less than
     * STARTTLS), and that it takes COMPRESS. Read after every answer the
     * caller waits for; its few hundred bytes are all it costs. */
    bool learning = s->learn;
    s->learn = false;
    if (learning) {
        char *hello = "HELLO";
        size_t hl = 5;
        net_add(&s->net, 1, &hello, &hl, false);
    }
    s->sent = true;
    if (net_flush(&s->net, s->err, sizeof(s->err)) < 0)
        goto out;
    for (size_t i = 0; i < npre; i++)
        if (net_read(&s->net, &pre[i].resp, s->err, sizeof(s->err)) < 0)
            goto out;
    if (has_auth) {
        if (pre[0].resp.code == 200) {
            s->authed = true;
        } else if (pre[0].resp.code == 401) {
            /* The session has ended on the server: the token is useless. */
            s->session_ended = true;
            config_session_forget(s->cfg);
        }
    }
    if (npre > (has_auth ? 1u : 0u)) {
        size_t first = has_auth ? 1 : 0;
        offline_queue_settle(s->cfg, s->cfg->user, pre + first, npre - first);
    }
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].resp.code)
            continue;
        if (net_read(&s->net, &reqs[i].resp, s->err, sizeof(s->err)) < 0)
            goto out;
        /* A 401 because AUTH could not be checked (the store is down) is
         * that failure, not a missing login. */
        if (reqs[i].resp.code == 401 && has_auth && pre[0].resp.code >= 500) {
            resp_free(&reqs[i].resp);
            reqs[i].resp.code = pre[0].resp.code;
            reqs[i].resp.text = xstrdup(pre[0].resp.text ? pre[0].resp.text : "");
        }
    }
    if (learning) {
        struct resp hello = {0};
        char err[sizeof(s->err)];
        if (net_read(&s->net, &hello, err, sizeof(err)) == 0)
            learn_from(s, &hello);
        else
            s->learn_lost = true;      /* the answers are in: only the link is lost */
        resp_free(&hello);
    }
    rc = 0;
out:
    if (rc < 0 && s->net.compress_refused) {
        /* A server from before COMPRESS: what went behind it was garbage to
         * it, never a request. Remembered, and sent again uncompressed. */
        s->learned_compress = 0;
        learned_write(s);
        s->compress_refused = true;
    }
    for (size_t i = 0; i < npre; i++)
        request_free(&pre[i]);
    free(pre);
    if (rc < 0 || s->learn_lost)
        drop_connection(s);
    s->learn_lost = false;
    return rc;
}

int session_run(struct session *s, struct request *reqs, size_t n)
{
    bool reused = net_is_open(&s->net);

    s->sent = false;
    s->compress_refused = false;
    if (exchange(s, reqs, n) == 0)
        return 0;
    if (s->compress_refused) {
        /* Nothing the server read can have run: no reconnect spent. */
        fprintf(stderr, _("campus: %s; going on uncompressed\n"), s->err);
        s->compress_refused = false;
        s->sent = false;
        if (exchange(s, reqs, n) == 0)
            return 0;
        reused = false;
    }
    /* No connection could be made: trying again at once is pointless. */
    if (!s->sent && !reused)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s->sent && reqs[i].resp.code == 0 && !reqs[i].retry) {
            char *verb = reqs[i].argc ? reqs[i].argv[0] : "request";
            size_t len = strlen(s->err);
            snprintf(s->err + len, sizeof(s->err) - len,
                     _("; %s was sent but not answered and may have taken effect"), verb);
            return -1;
        }
    }
    char first[sizeof(s->err)];
    snprintf(first, sizeof(first), "%s", s->err);
    fprintf(stderr, _("campus: %s; reconnecting\n"), first);
    if (exchange(s, reqs, n) == 0)
        return 0;
    size_t len = strlen(s->err);
    snprintf(s->err + len, sizeof(s->err) - len, _(" (after a reconnect: %s)"), first);
    return -1;
}
