/* net.c: one CTP/1 connection: TCP, the greeting, TLS (STARTTLS or from the
 * first byte, verified against the system's CAs or a pinned certificate),
 * requests written in batches and responses read in order. */
#include "campus.h"
#include "proto.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#define NET_LINE_MAX 8192
/* COMPRESS DEFLATE: raw deflate (RFC 1951) both ways, as the server has it. */
#define NET_ZWBITS (-15)
#define NET_ZREAD 65536
#define NET_BODY_MAX (256LL * 1024 * 1024)

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
    SSL *ssl = SSL_new(ctx);
    n->ssl = ssl;
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);   /* the result is checked below */
    SSL_set1_host(ssl, host);
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set_fd(ssl, n->fd);
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        seterr(err, errlen, _("TLS handshake with %s failed: %s"), server, ssl_reason());
        return -1;
    }
    if (SSL_get_verify_result(ssl) != X509_V_OK &&
        check_pin(ssl, server, known_path, err, errlen) < 0)
        return -1;
    n->tls = true;
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

/* Compressed: what arrives is inflated into the input buffer. Returns the
 * compressed bytes read (the caller only needs "more than 0"), 0 at EOF,
 * -1 on error or a corrupt stream (errno EPROTO). */
static ssize_t fill_inflate(struct net *n)
{
    char raw[NET_ZREAD];
    z_stream *z = n->zin;
    ssize_t r = raw_read(n, raw, sizeof(raw));

    if (r <= 0)
        return r;
    z->next_in = (unsigned char *)raw;
    z->avail_in = (uInt)r;
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
    return r;
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

/* Writes len bytes, deflated with a sync flush at the end when
 * compression is on: the server can read the whole batch at once. */
static int write_all(struct net *n, const char *p, size_t len, char *err, size_t errlen)
{
    if (n->zout == NULL)
        return write_raw(n, p, len, err, errlen);
    z_stream *z = n->zout;
    size_t cap = deflateBound(z, len) + 64;
    char *buf = xmalloc(cap);
    z->next_in = (unsigned char *)p;
    z->avail_in = (uInt)len;
    z->next_out = (unsigned char *)buf;
    z->avail_out = (uInt)cap;
    int rc = deflate(z, Z_SYNC_FLUSH);
    size_t out = cap - z->avail_out;
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || z->avail_in != 0) {
        free(buf);
        seterr(err, errlen, "%s", _("compression failed"));
        return -1;
    }
    rc = write_raw(n, buf, out, err, errlen);
    free(buf);
    return rc;
}

/* Asks for COMPRESS DEFLATE; a server that does not know it is used as
 * it is. Returns 0, or -1 when the link failed. */
static int compress_start(struct net *n, char *err, size_t errlen)
{
    struct resp r = {0};
    if (write_all(n, "COMPRESS DEFLATE\r\n", 18, err, errlen) < 0 ||
        net_read(n, &r, err, errlen) < 0) {
        resp_free(&r);
        return -1;
    }
    if (r.code == 200) {
        z_stream *zi = xcalloc(1, sizeof(*zi)), *zo = xcalloc(1, sizeof(*zo));
        if (inflateInit2(zi, NET_ZWBITS) != Z_OK ||
            deflateInit2(zo, Z_DEFAULT_COMPRESSION, Z_DEFLATED, NET_ZWBITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            fputs(_("campus: zlib: out of memory\n"), stderr);
            abort();
        }
        n->zin = zi;
        n->zout = zo;
    }
    resp_free(&r);
    return 0;
}

int net_read(struct net *n, struct resp *r, char *err, size_t errlen)
{
    resp_free(r);
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

int net_open(struct net *n, const char *server, bool no_tls, bool no_compress, int timeout_ms,
             const char *known_path, char *err, size_t errlen)
{
    char *host, *port;
    bool tls_direct;
    struct resp r = {0};
    int rc = -1;

    memset(n, 0, sizeof(*n));
    n->fd = -1;
    n->timeout_ms = timeout_ms;
    if (split_server(server, &host, &port, &tls_direct) < 0) {
        seterr(err, errlen, _("bad server address '%s' (use host:port or tls://host:port)"), server);
        return -1;
    }
    char *id = xasprintf("%s:%s", host, port);
    n->fd = tcp_connect(host, port, timeout_ms, err, errlen);
    if (n->fd < 0)
        goto out;
    if (tls_direct && tls_start(n, host, id, known_path, err, errlen) < 0)
        goto out;
    /* STARTTLS leaves with the connection's first packet instead of a
     * round trip after the greeting: on a 300 ms link that is 300 ms. */
    bool starttls = !tls_direct && !no_tls;
    int sent = starttls ? write_all(n, "STARTTLS\r\n", 10, err, errlen) : 0;
    if (net_read(n, &r, err, errlen) < 0)
        goto out;
    if (r.code != 200) {
        seterr(err, errlen, "%s: %d %s", id, r.code, r.text);
        goto out;
    }
    if (starttls) {
        if (sent < 0 || net_read(n, &r, err, errlen) < 0)
            goto out;
        if (r.code == 200 && tls_start(n, host, id, known_path, err, errlen) < 0)
            goto out;
    }
    /* After TLS: compression goes inside the encryption. */
    if (!no_compress && compress_start(n, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    resp_free(&r);
    free(host);
    free(port);
    free(id);
    if (rc < 0)
        net_close(n);
    return rc;
}

void net_close(struct net *n)
{
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
    int rc = write_all(n, n->out.data, n->out.len, err, errlen);
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
