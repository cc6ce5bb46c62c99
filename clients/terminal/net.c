/* net.c: one CTP/1 connection: TCP, the greeting, TLS (STARTTLS or from the
 * first byte, verified against the system's CAs or a pinned certificate),
 * requests written in batches and responses read in order. */
#include "campus.h"
#include "proto.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define NET_LINE_MAX 8192
/* COMPRESS DEFLATE: raw deflate (RFC 1951) both ways, as the server has it. */
#define NET_ZWBITS (-15)
#define NET_ZREAD 65536
#define NET_BODY_MAX (256LL * 1024 * 1024)
/* A TLS port learned from HELLO is tried for at most this long (connect and
 * handshake) before the configured address is used instead: a port that a
 * firewall drops must not cost the whole timeout. */
#define NET_LEARNED_PORT_MS 5000
/* A saved TLS session larger than this is not one of ours. */
#define NET_SESSION_MAX 16384
#define NET_COMPRESS_LINE "COMPRESS DEFLATE\r\n"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Splits "tls://host:port", "host:port", "[v6]:port" or "host". Returns 0
 * or -1; *host and *port are new strings. */
static int split_server(const char *server, char **host, char **port, bool *tls)
{
    const char *s = server;
    *tls = false;
    if (strncmp(s, "tls://", 6) == 0) {
        *tls = true;
        s += 6;
    } else if (strncmp(s, "ctp://", 6) == 0) {
        s += 6;
    }
    const char *colon;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return -1;
        *host = xstrndup(s + 1, (size_t)(close - s - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(s, ':');
        *host = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    }
    *port = xstrdup(colon && colon[1] ? colon + 1 : *tls ? CAMPUS_PORT_TLS : CAMPUS_PORT_PLAIN);
    if ((*host)[0] == '\0') {
        free(*host);
        *host = xstrdup("localhost");
    }
    return 0;
}

/* A TCP connection to host:port within timeout_ms, blocking afterwards
 * with that timeout on every read and write. Returns the fd or -1. */
static int tcp_connect(const char *host, const char *port, int timeout_ms, char *err,
                       size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res, *ai;
    int rc = getaddrinfo(host, port, &hints, &res), fd = -1, saved = 0;

    if (rc != 0) {
        seterr(err, errlen, _("cannot find %s: %s"), host, gai_strerror(rc));
        return -1;
    }
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        /* Requests leave at once, never held for the ACK of what went
         * before: TLS's Finished and the first requests behind it are two
         * writes, and Nagle's wait would cost a round trip between them. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        seterr(err, errlen, _("cannot connect to %s:%s: %s"), host, port,
               strerror(saved ? saved : ECONNREFUSED));
    return fd;
}

static const char *ssl_reason(void)
{
    static char buf[200];
    unsigned long e = ERR_get_error();
    if (e == 0)
        return errno ? strerror(errno) : _("connection closed");
    ERR_error_string_n(e, buf, sizeof(buf));
    return buf;
}

/* Hex SHA-256 of the peer's certificate into out[SHA256_HEX_MAX]. */
static int peer_fingerprint(SSL *ssl, char out[SHA256_HEX_MAX])
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (cert == NULL)
        return -1;
    int ok = X509_digest(cert, EVP_sha256(), md, &n);
    X509_free(cert);
    if (!ok || n != 32)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* A certificate the system's CAs do not vouch for is accepted when it is
 * the one pinned for this server, and pinned on first use otherwise (as
 * ssh does with host keys); a changed certificate is refused. */
static int check_pin(SSL *ssl, const char *server, const char *known_path, char *err,
                     size_t errlen)
{
    char fp[SHA256_HEX_MAX];

    if (peer_fingerprint(ssl, fp) < 0) {
        seterr(err, errlen, _("%s sent no usable certificate"), server);
        return -1;
    }
    char *known = known_path ? config_read_file(known_path, NULL) : NULL;
    size_t slen = strlen(server);
    for (char *line = known ? strtok(known, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (strncmp(line, server, slen) != 0 || line[slen] != ' ')
            continue;
        bool same = strcmp(line + slen + 1, fp) == 0;
        free(known);
        if (same)
            return 0;
        seterr(err, errlen, _("the TLS certificate of %s has changed (sha256 %s); if that is "
               "expected, remove its line from %s"), server, fp, known_path);
        return -1;
    }
    free(known);
    if (known_path) {
        char *old = config_read_file(known_path, NULL);
        char *text = xasprintf("%s%s %s\n", old ? old : "", server, fp);
        char *dir = xstrdup(known_path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        if (config_mkdir(dir) == 0)
            config_write_file(known_path, text, strlen(text), 0600);
        free(dir);
        free(old);
        free(text);
    }
    fprintf(stderr, _("campus: %s has a certificate no known authority signed; trusting it "
                      "from now on (sha256 %s)\n"), server, fp);
    return 0;
}

/* ---- TLS sessions kept for resumption ---- */

/* Writes a session to path (mode 0600: it holds the resumption secret,
 * which would let whoever reads it pose as the server to us). */
static void session_save(const char *path, SSL_SESSION *sess)
{
    unsigned char *der = NULL;
    int len = i2d_SSL_SESSION(sess, &der);

    if (len > 0 && len <= NET_SESSION_MAX && SSL_SESSION_is_resumable(sess)) {
        char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        if (config_mkdir(dir) == 0)
            config_write_file(path, der, (size_t)len, 0600);
        free(dir);
    }
    if (der)
        OPENSSL_clear_free(der, len > 0 ? (size_t)len : 0);
}

/* The session saved at path when it can still be resumed, else NULL
 * (caller frees with SSL_SESSION_free). */
static SSL_SESSION *session_load(const char *path)
{
    size_t len = 0;
    char *der = path ? config_read_file(path, &len) : NULL;
    SSL_SESSION *sess = NULL;

    if (der && len > 0 && len <= NET_SESSION_MAX) {
        const unsigned char *p = (const unsigned char *)der;
        sess = d2i_SSL_SESSION(NULL, &p, (long)len);
    }
    if (der) {
        explicit_bzero(der, len);
        free(der);
    }
    if (sess && (!SSL_SESSION_is_resumable(sess) ||
                 SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess) <= time(NULL))) {
        SSL_SESSION_free(sess);
        sess = NULL;
    }
    return sess;
}

/* OpenSSL hands us each new session (TLS 1.3: a ticket read after the
 * handshake, while answers are read). One that arrives before the
 * certificate was checked is held until it is (TLS 1.2 sends it inside the
 * handshake): a session is saved only for a server we trust. Returns 1
 * when the reference is kept, 0 when OpenSSL may free it. */
static int session_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct net *n = SSL_get_app_data(ssl);

    if (n == NULL || n->session_path == NULL)
        return 0;
    if (!n->tls) {
        if (n->held_session)
            SSL_SESSION_free(n->held_session);
        n->held_session = sess;
        return 1;
    }
    session_save(n->session_path, sess);
    return 0;
}

static int tls_start(struct net *n, const char *host, const char *server, const char *known_path,
                     char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    const char *cafile = getenv("CAMPUS_CA_FILE");

    if (ctx == NULL) {
        seterr(err, errlen, "TLS: %s", ssl_reason());
        return -1;
    }
    n->ssl_ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ctx);
    if (cafile && cafile[0] && SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
        seterr(err, errlen, _("TLS: cannot load CAMPUS_CA_FILE %s"), cafile);
        return -1;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, session_new_cb);
    SSL *ssl = SSL_new(ctx);
    n->ssl = ssl;
    SSL_set_app_data(ssl, n);
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);   /* the result is checked below */
    SSL_set1_host(ssl, host);
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set_fd(ssl, n->fd);
    /* A session kept from the last connection to this server: resumed, the
     * handshake sends no certificate. Its certificate (kept in the
     * session) is checked below all the same. */
    SSL_SESSION *saved = session_load(n->session_path);
    if (saved) {
        SSL_set_session(ssl, saved);
        SSL_SESSION_free(saved);
    }
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        seterr(err, errlen, _("TLS handshake with %s failed: %s"), server, ssl_reason());
        return -1;
    }
    if (SSL_get_verify_result(ssl) != X509_V_OK &&
        check_pin(ssl, server, known_path, err, errlen) < 0) {
        if (n->session_path)
            unlink(n->session_path);   /* never offered again */
        return -1;
    }
    n->tls = true;
    n->tls_resumed = SSL_session_reused(ssl) == 1;
    if (n->held_session) {
        session_save(n->session_path, n->held_session);
        SSL_SESSION_free(n->held_session);
        n->held_session = NULL;
    }
    return 0;
}

/* Reads what the socket (or TLS) has, at most room bytes. Returns bytes
 * read, 0 at EOF, -1 on error. */
static ssize_t raw_read(struct net *n, char *buf, size_t room)
{
    ssize_t r;
    if (n->ssl) {
        ERR_clear_error();
        int k = SSL_read(n->ssl, buf, (int)(room > 1 << 30 ? 1 << 30 : room));
        if (k <= 0) {
            int e = SSL_get_error(n->ssl, k);
            return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        }
        return k;
    }
    do
        r = read(n->fd, buf, room);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        n->raw_in += (unsigned long long)r;
    return r;
}

/* Makes room for at least want more bytes in the input buffer. */
static void in_room(struct net *n, size_t want)
{
    if (n->in_off > 0 && n->in_off == n->in_len) {
        n->in_off = n->in_len = 0;
    } else if (n->in_off > n->in_cap / 2) {
        memmove(n->in, n->in + n->in_off, n->in_len - n->in_off);
        n->in_len -= n->in_off;
        n->in_off = 0;
    }
    while (n->in_cap - n->in_len < want) {
        n->in_cap = n->in_cap ? n->in_cap * 2 : 65536;
        n->in = xrealloc(n->in, n->in_cap);
    }
}

/* Inflates len compressed bytes into the input buffer. Returns 0, or -1
 * (errno EPROTO) on a corrupt stream or one that inflates past anything
 * the server may send. */
static int inflate_bytes(struct net *n, const char *raw, size_t len)
{
    z_stream *z = n->zin;

    z->next_in = (unsigned char *)raw;
    z->avail_in = (uInt)len;
    while (z->avail_in > 0) {
        in_room(n, 16384);
        z->next_out = (unsigned char *)n->in + n->in_len;
        z->avail_out = (uInt)(n->in_cap - n->in_len);
        int rc = inflate(z, Z_SYNC_FLUSH);
        n->in_len = n->in_cap - z->avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            errno = EPROTO;
            return -1;
        }
        if (n->in_len - n->in_off > (size_t)NET_BODY_MAX + NET_LINE_MAX) {
            errno = EPROTO;      /* nothing the server may send is this big */
            return -1;
        }
    }
    return 0;
}

/* Compressed: what arrives is inflated into the input buffer. Returns the
 * compressed bytes read (the caller only needs "more than 0"), 0 at EOF,
 * -1 on error or a corrupt stream (errno EPROTO). */
static ssize_t fill_inflate(struct net *n)
{
    char raw[NET_ZREAD];
    ssize_t r = raw_read(n, raw, sizeof(raw));

    if (r <= 0)
        return r;
    return inflate_bytes(n, raw, (size_t)r) < 0 ? -1 : r;
}

/* Reads more bytes into the input buffer. Returns bytes read, 0 at EOF,
 * -1 on error. */
static ssize_t fill(struct net *n)
{
    if (n->zin)
        return fill_inflate(n);
    in_room(n, 16384);
    ssize_t r = raw_read(n, n->in + n->in_len, n->in_cap - n->in_len);
    if (r > 0)
        n->in_len += (size_t)r;
    return r;
}

static int write_raw(struct net *n, const char *p, size_t len, char *err, size_t errlen)
{
    while (len > 0) {
        ssize_t w;
        if (n->ssl) {
            ERR_clear_error();
            int k = SSL_write(n->ssl, p, (int)(len > 1 << 30 ? 1 << 30 : len));
            w = k > 0 ? k : -1;
        } else {
            do
                w = send(n->fd, p, len, MSG_NOSIGNAL);
            while (w < 0 && errno == EINTR);
            if (w > 0)
                n->raw_out += (unsigned long long)w;
        }
        if (w <= 0) {
            seterr(err, errlen, _("connection lost while sending: %s"),
                   errno == EAGAIN ? _("timed out") : errno ? strerror(errno) : _("closed"));
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Parses the next status line or push line in the input, with its body.
 * Returns 1 with r filled (*push says which: a push has code 0 and its
 * line after "* " as text), 0 when more bytes are needed, -1 on a framing
 * error. */
static int parse_item(struct net *n, struct resp *r, bool *push, char *err, size_t errlen)
{
    char *start = n->in + n->in_off;
    size_t avail = n->in_len - n->in_off;
    char *nl = avail ? memchr(start, '\n', avail) : NULL;

    if (nl == NULL) {
        if (avail > NET_LINE_MAX) {
            seterr(err, errlen, "%s", _("the server sent a line too long to be a status line"));
            return -1;
        }
        return 0;
    }
    size_t llen = (size_t)(nl - start);
    if (llen > 0 && start[llen - 1] == '\r')
        llen--;
    int code = 0;
    char *text;
    long long blen = -1;
    *push = start[0] == '*';
    if (*push) {
        /* "* WORD ... [{N}]": the text after "* ", a body when it ends in {N}. */
        size_t tl = llen > 2 ? llen - 2 : 0;
        const char *t = start + (llen > 2 ? 2 : llen);
        if (tl > 3 && t[tl - 1] == '}') {
            const char *open = t + tl - 2;
            while (open > t && *open >= '0' && *open <= '9')
                open--;
            if (*open == '{' && open > t && open[-1] == ' ' && open + 1 < t + tl - 1) {
                blen = strtoll(open + 1, NULL, 10);
                tl = (size_t)(open - 1 - t);
            }
        }
        text = xstrndup(t, tl);
    } else if (resp_status_parse(start, llen, &code, &text, &blen) < 0) {
        seterr(err, errlen, _("the server sent something that is not CTP/1: %.60s"), start);
        return -1;
    }
    if (blen > NET_BODY_MAX) {
        free(text);
        seterr(err, errlen, _("the server announced a body too large (%lld bytes)"), blen);
        return -1;
    }
    size_t head = (size_t)(nl - start) + 1;
    if (blen >= 0) {
        size_t need = head + (size_t)blen;
        if (n->in_len - n->in_off < need + 2) {
            free(text);          /* parsed again once the body is in */
            return 0;
        }
        r->body = xstrndup(start + head, (size_t)blen);
        r->body_len = (size_t)blen;
        /* the CRLF after the body (a bare LF is accepted) */
        size_t after = start[need] == '\r' ? 2 : 1;
        n->in_off += need + after;
    } else {
        n->in_off += head;
    }
    r->code = code;
    r->text = text;
    return 1;
}

static int fill_or_fail(struct net *n, char *err, size_t errlen)
{
    ssize_t got = fill(n);
    if (got == 0) {
        seterr(err, errlen, "%s", _("the server closed the connection"));
        return -1;
    }
    if (got < 0) {
        seterr(err, errlen, _("connection lost: %s"),
               errno == EPROTO ? _("the compressed stream is corrupt") :
               errno == EAGAIN || errno == EWOULDBLOCK ? _("timed out") :
               errno ? strerror(errno) : _("TLS error"));
        return -1;
    }
    return 0;
}

/* Appends len bytes, deflated and ended with a sync flush (so the server
 * can read the whole batch at once), to b. Returns 0 or -1. */
static int deflate_into(struct net *n, const char *p, size_t len, struct sbuf *b)
{
    z_stream *z = n->zout;
    size_t cap = deflateBound(z, len) + 64;
    char *buf = xmalloc(cap);
    z->next_in = (unsigned char *)p;
    z->avail_in = (uInt)len;
    z->next_out = (unsigned char *)buf;
    z->avail_out = (uInt)cap;
    int rc = deflate(z, Z_SYNC_FLUSH);
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || z->avail_in != 0) {
        free(buf);
        return -1;
    }
    sbuf_add(b, buf, cap - z->avail_out);
    free(buf);
    return 0;
}

/* Writes len bytes, deflated when compression is on, of which the first
 * clear bytes (COMPRESS itself) go as they are: one write, so one TLS
 * record and as few packets as the bytes need. */
static int write_all(struct net *n, const char *p, size_t len, size_t clear, char *err,
                     size_t errlen)
{
    if (n->zout == NULL)
        return write_raw(n, p, len, err, errlen);
    struct sbuf b = {0};
    sbuf_add(&b, p, clear);
    if (len > clear && deflate_into(n, p + clear, len - clear, &b) < 0) {
        sbuf_free(&b);
        seterr(err, errlen, "%s", _("compression failed"));
        return -1;
    }
    int rc = write_raw(n, b.data, b.len, err, errlen);
    sbuf_free(&b);
    return rc;
}

/* Asks for COMPRESS DEFLATE without waiting for the answer: the request is
 * queued in the clear and whatever is queued behind it goes deflated in
 * the same write, as PROTOCOL.md ("Compression") allows; the answer is read
 * in front of the first response (read_start). */
static void compress_begin(struct net *n)
{
    z_stream *zo = xcalloc(1, sizeof(*zo));
    if (deflateInit2(zo, Z_DEFAULT_COMPRESSION, Z_DEFLATED, NET_ZWBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        fputs(_("campus: zlib: out of memory\n"), stderr);
        abort();
    }
    n->zout = zo;
    sbuf_add(&n->out, NET_COMPRESS_LINE, strlen(NET_COMPRESS_LINE));
    n->out_clear = strlen(NET_COMPRESS_LINE);
    n->compress_due = true;
}

/* Reads the next item, response or push, whatever it is. */
static int read_item(struct net *n, struct resp *r, bool *push, char *err, size_t errlen)
{
    resp_free(r);
    for (;;) {
        int rc = parse_item(n, r, push, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return 0;
        if (fill_or_fail(n, err, errlen) < 0)
            return -1;
    }
}

/* What comes before the first response and was not waited for: the
 * greeting on a connection that began with TLS, and the answer to the
 * pipelined COMPRESS, after which the bytes already read are deflated.
 * Returns 0, or -1 with err (n->compress_refused when COMPRESS was not
 * taken: the server then read what followed it as garbage, so nothing
 * sent behind it can have run). */
static int read_start(struct net *n, char *err, size_t errlen)
{
    struct resp r = {0};
    bool push;

    if (n->greeting_due) {
        n->greeting_due = false;
        if (read_item(n, &r, &push, err, errlen) < 0)
            return -1;
        if (push || r.code != 200) {
            seterr(err, errlen, "%s: %d %s", n->id, r.code, r.text ? r.text : "");
            resp_free(&r);
            return -1;
        }
    }
    if (n->compress_due) {
        n->compress_due = false;
        if (read_item(n, &r, &push, err, errlen) < 0)
            return -1;
        if (push || r.code != 200) {
            n->compress_refused = true;
            seterr(err, errlen, _("%s refused COMPRESS DEFLATE: %d %s"), n->id, r.code,
                   r.text ? r.text : "");
            resp_free(&r);
            return -1;
        }
        z_stream *zi = xcalloc(1, sizeof(*zi));
        if (inflateInit2(zi, NET_ZWBITS) != Z_OK) {
            fputs(_("campus: zlib: out of memory\n"), stderr);
            abort();
        }
        n->zin = zi;
        /* What was read behind the answer is already deflated. */
        size_t left = n->in_len - n->in_off;
        char *raw = left ? xmalloc(left) : NULL;
        if (raw)
            memcpy(raw, n->in + n->in_off, left);
        n->in_off = n->in_len = 0;
        int rc = raw ? inflate_bytes(n, raw, left) : 0;
        free(raw);
        if (rc < 0) {
            seterr(err, errlen, "%s", _("connection lost: the compressed stream is corrupt"));
            resp_free(&r);
            return -1;
        }
    }
    resp_free(&r);
    return 0;
}

int net_read(struct net *n, struct resp *r, char *err, size_t errlen)
{
    resp_free(r);
    if (read_start(n, err, errlen) < 0)
        return -1;
    for (;;) {
        bool push;
        int rc = parse_item(n, r, &push, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1 && !push)
            return 0;
        if (rc == 1) {
            /* A push between responses: kept for the live console, else
             * dropped (this connection did not ask for it). */
            if (n->keep_pushes) {
                n->pushes = xrealloc(n->pushes, (n->npushes + 1) * sizeof(*n->pushes));
                n->pushes[n->npushes++] = *r;
                memset(r, 0, sizeof(*r));
            } else {
                resp_free(r);
            }
            continue;
        }
        if (fill_or_fail(n, err, errlen) < 0)
            return -1;
    }
}

int net_read_push(struct net *n, struct resp *r, char *err, size_t errlen)
{
    resp_free(r);
    if (n->npushes > 0) {
        *r = n->pushes[0];
        memmove(n->pushes, n->pushes + 1, (n->npushes - 1) * sizeof(*n->pushes));
        n->npushes--;
        return 0;
    }
    if (read_start(n, err, errlen) < 0)
        return -1;
    for (;;) {
        bool push;
        int rc = parse_item(n, r, &push, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1 && push)
            return 0;
        if (rc == 1) {
            seterr(err, errlen, _("an answer nothing asked for: %d %.60s"), r->code, r->text);
            resp_free(r);
            return -1;
        }
        if (fill_or_fail(n, err, errlen) < 0)
            return -1;
    }
}

bool net_buffered(const struct net *n)
{
    return n->npushes > 0 || n->in_len > n->in_off || (n->ssl && SSL_pending(n->ssl) > 0);
}

/* Sets the socket's read and write timeout. */
static void set_timeout(int fd, int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Drops a connection attempt that failed half-way, keeping the options. */
static void net_reset(struct net *n)
{
    if (n->held_session)
        SSL_SESSION_free(n->held_session);
    n->held_session = NULL;
    if (n->ssl)
        SSL_free(n->ssl);
    if (n->ssl_ctx)
        SSL_CTX_free(n->ssl_ctx);
    n->ssl = n->ssl_ctx = NULL;
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    n->tls = n->tls_resumed = false;
    n->raw_in = n->raw_out = 0;
}

/* The TLS port this server's HELLO named, from its first connection: TLS
 * from the first byte there, with the configured address's pin, saves the
 * STARTTLS round trip. Returns 0 when it worked; -1 when not (then the
 * caller goes on with the configured address, and the port is forgotten). */
static int open_learned(struct net *n, const char *host, const struct net_opts *o)
{
    char port[24], err[256];
    int ms = o->timeout_ms < NET_LEARNED_PORT_MS ? o->timeout_ms : NET_LEARNED_PORT_MS;

    snprintf(port, sizeof(port), "%ld", o->tls_port);
    n->fd = tcp_connect(host, port, ms, err, sizeof(err));
    if (n->fd >= 0 && tls_start(n, host, n->id, o->known_path, err, sizeof(err)) == 0) {
        set_timeout(n->fd, o->timeout_ms);
        n->learned_port = true;
        return 0;
    }
    net_reset(n);
    n->learned_failed = true;
    return -1;
}

int net_open(struct net *n, const char *server, const struct net_opts *o, char *err,
             size_t errlen)
{
    char *host, *port;
    bool tls_direct;
    struct resp r = {0};
    bool push;
    int rc = -1;

    memset(n, 0, sizeof(*n));
    n->fd = -1;
    n->timeout_ms = o->timeout_ms;
    if (split_server(server, &host, &port, &tls_direct) < 0) {
        seterr(err, errlen, _("bad server address '%s' (use host:port or tls://host:port)"), server);
        return -1;
    }
    n->id = xasprintf("%s:%s", host, port);
    n->session_path = o->tls_session_path && !o->no_tls ? xstrdup(o->tls_session_path) : NULL;
    if (!tls_direct && !o->no_tls && o->tls_port > 0 && open_learned(n, host, o) == 0)
        tls_direct = true;
    else if ((n->fd = tcp_connect(host, port, o->timeout_ms, err, errlen)) < 0)
        goto out;
    else if (tls_direct && tls_start(n, host, n->id, o->known_path, err, errlen) < 0)
        goto out;
    if (tls_direct) {
        /* The greeting comes once the handshake is done: it is read in
         * front of the first answer, not waited for here. */
        n->greeting_due = true;
    } else {
        /* STARTTLS leaves with the connection's first packet instead of a
         * round trip after the greeting: on a 300 ms link that is 300 ms.
         * Nothing else may go with it: the server drops what follows it
         * before the handshake (no plaintext is carried across). */
        bool starttls = !o->no_tls;
        int sent = starttls ? write_all(n, "STARTTLS\r\n", 10, 0, err, errlen) : 0;
        if (read_item(n, &r, &push, err, errlen) < 0)
            goto out;
        if (push || r.code != 200) {
            seterr(err, errlen, "%s: %d %s", n->id, r.code, r.text);
            goto out;
        }
        if (starttls) {
            if (sent < 0 || read_item(n, &r, &push, err, errlen) < 0)
                goto out;
            if (r.code == 200 && tls_start(n, host, n->id, o->known_path, err, errlen) < 0)
                goto out;
        }
    }
    /* After TLS: compression goes inside the encryption. */
    if (!o->no_compress)
        compress_begin(n);
    rc = 0;
out:
    resp_free(&r);
    free(host);
    free(port);
    if (rc < 0)
        net_close(n);
    return rc;
}

void net_close(struct net *n)
{
    if (n->held_session) {
        SSL_SESSION_free(n->held_session);
        n->held_session = NULL;
    }
    free(n->id);
    n->id = NULL;
    free(n->session_path);
    n->session_path = NULL;
    n->greeting_due = n->compress_due = false;
    n->out_clear = 0;
    if (n->ssl) {
        SSL_free(n->ssl);
        n->ssl = NULL;
    }
    if (n->ssl_ctx) {
        SSL_CTX_free(n->ssl_ctx);
        n->ssl_ctx = NULL;
    }
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    if (n->zin) {
        inflateEnd(n->zin);
        free(n->zin);
        n->zin = NULL;
    }
    if (n->zout) {
        deflateEnd(n->zout);
        free(n->zout);
        n->zout = NULL;
    }
    free(n->in);
    n->in = NULL;
    n->in_len = n->in_cap = n->in_off = 0;
    for (size_t i = 0; i < n->npushes; i++)
        resp_free(&n->pushes[i]);
    free(n->pushes);
    n->pushes = NULL;
    n->npushes = 0;
    sbuf_free(&n->out);
    n->tls = false;
}

bool net_is_open(const struct net *n)
{
    return n->fd >= 0;
}

/* A word needs no quotes: printable, no space, no '"', not a {N} marker. */
static bool plain_word(const char *p, size_t n)
{
    if (n == 0 || p[0] == '{')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == 0x7f || c == '"')
            return false;
    }
    return utf8_valid(p, n);
}

/* Quoting carries UTF-8 with tabs and line ends, but no other control. */
static bool quotable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return false;
    }
    return utf8_valid(p, n);
}

int net_add(struct net *n, int argc, char *const *argv, const size_t *argl, bool literal_last)
{
    struct sbuf line = {0};

    for (int i = 0; i < argc; i++) {
        bool last = i == argc - 1;
        if (i > 0)
            sbuf_addc(&line, ' ');
        if (i > 0 && last && (literal_last || !quotable(argv[i], argl[i]))) {
            sbuf_printf(&line, "{%zu}\r\n", argl[i]);
            sbuf_add(&line, argv[i], argl[i]);
            sbuf_add(&n->out, line.data, line.len);
            sbuf_free(&line);
            return 0;
        }
        if (plain_word(argv[i], argl[i])) {
            sbuf_add(&line, argv[i], argl[i]);
        } else if (quotable(argv[i], argl[i])) {
            char *q = proto_quote(argv[i], argl[i]);
            sbuf_adds(&line, q);
            free(q);
        } else {
            sbuf_free(&line);
            return -1;
        }
    }
    sbuf_adds(&line, "\r\n");
    sbuf_add(&n->out, line.data, line.len);
    sbuf_free(&line);
    return 0;
}

int net_flush(struct net *n, char *err, size_t errlen)
{
    if (n->out.len == 0)
        return 0;
    int rc = write_all(n, n->out.data, n->out.len, n->out_clear, err, errlen);
    n->out_clear = 0;
    sbuf_free(&n->out);
    return rc;
}

unsigned long long net_bytes_out(const struct net *n)
{
    unsigned long long b = n->raw_out;
    if (n->ssl)
        b += BIO_number_written(SSL_get_wbio(n->ssl));
    return b;
}

unsigned long long net_bytes_in(const struct net *n)
{
    unsigned long long b = n->raw_in;
    if (n->ssl)
        b += BIO_number_read(SSL_get_rbio(n->ssl));
    return b;
}
