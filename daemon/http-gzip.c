/* http-gzip.c: gzip for HTTP answers (RFC 9110 content coding): whether a
 * request accepts it, compressing, and the web client's files held in
 * memory with their gzip form, made once per catalogue load (or once the
 * file changes) and sent by reference, never compressed per request. */
#include "campusd.h"
#include "catalog.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* A static file larger than this is sent from disk as before, uncached. */
#define HTTP_STATIC_FILE_MAX (1024 * 1024)
/* Files of the web client held at once; more are sent from disk. */
#define HTTP_STATIC_ENTRIES_MAX 64

bool http_gzip_accepted(struct evhttp_request *r)
{
    return http_gzip_accepts(evhttp_find_header(evhttp_request_get_input_headers(r),
                                                "Accept-Encoding"));
}

bool http_gzip_accepts(const char *ae)
{
    bool gzip = false, star = false, gzip_named = false;

    if (ae == NULL)
        return false;
    /* "gzip", "gzip;q=0.5", "*;q=1", "identity, gzip;q=0": a coding with
     * q=0 is refused. */
    for (const char *p = ae; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",;");
        const char *name = p;
        size_t nlen = n;
        while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
            nlen--;
        p += n;
        bool zero = false;
        while (*p == ';') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                const char *v = p + 2;
                zero = v[0] == '0' && strspn(v + 1, ".0") == strcspn(v + 1, ",; \t");
            }
            p += strcspn(p, ",;");
        }
        if ((nlen == 4 && strncasecmp(name, "gzip", 4) == 0) ||
            (nlen == 6 && strncasecmp(name, "x-gzip", 6) == 0)) {
            gzip_named = true;
            gzip = !zero;
        } else if (nlen == 1 && name[0] == '*') {
            star = !zero;
        }
    }
    return gzip_named ? gzip : star;
}

char *http_gzip(const void *data, size_t len, int level, size_t *outlen)
{
    z_stream z = {0};

    /* 31: a gzip header and trailer (RFC 1952), the largest window. */
    if (deflateInit2(&z, level, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        fatal("zlib: deflateInit2 failed");
    size_t cap = deflateBound(&z, len) + 32;
    char *out = xmalloc(cap);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        fatal("zlib: deflate did not finish within its bound");
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

void http_gzip_etag(const char *etag, char *out, size_t n)
{
    size_t len = strlen(etag);

    if (len >= 2 && etag[len - 1] == '"')
        snprintf(out, n, "%.*s-gz\"", (int)(len - 1), etag);
    else
        snprintf(out, n, "%s-gz", etag);
}

bool http_type_compressible(const char *type)
{
    return type && (strncmp(type, "text/", 5) == 0 || strncmp(type, "application/json", 16) == 0 ||
                    strncmp(type, "image/svg+xml", 13) == 0 ||
                    strncmp(type, "application/javascript", 22) == 0 ||
                    strncmp(type, "application/manifest+json", 25) == 0);
}

/* ---- the web client's files ---- */

struct static_file {
    char path[256];
    off_t size;
    struct timespec mtime;
    char *data, *gz;
    size_t len, gzlen;
    int refs;                    /* output buffers holding data or gz */
    bool retired;
};

static struct {
    uint64_t generation;         /* the catalogue load the entries were made in */
    struct static_file *files[HTTP_STATIC_ENTRIES_MAX];
    size_t n;
} statics;

static void static_free(struct static_file *f)
{
    free(f->data);
    free(f->gz);
    free(f);
}

static void static_retire(struct static_file *f)
{
    f->retired = true;
    if (f->refs == 0)
        static_free(f);
}

static void static_release(const void *data, size_t len, void *arg)
{
    struct static_file *f = arg;
    if (--f->refs == 0 && f->retired)
        static_free(f);
}

void http_static_free(void)
{
    for (size_t i = 0; i < statics.n; i++)
        static_retire(statics.files[i]);
    statics.n = 0;
    statics.generation = 0;
}

/* The entry for path, its file stat'ed as sb (open as fd), made now when
 * missing, stale or from an older catalogue load. NULL: send from disk. */
static struct static_file *static_get(const char *path, int fd, const struct stat *sb)
{
    const struct catalog *cat = courses_current();
    uint64_t g = cat ? cat->generation : 0;

    if (statics.generation != g) {
        http_static_free();
        statics.generation = g;
    }
    size_t i = 0;
    for (; i < statics.n; i++)
        if (strcmp(statics.files[i]->path, path) == 0)
            break;
    if (i < statics.n) {
        struct static_file *f = statics.files[i];
        if (f->size == sb->st_size && f->mtime.tv_sec == sb->st_mtim.tv_sec &&
            f->mtime.tv_nsec == sb->st_mtim.tv_nsec)
            return f;
        static_retire(f);        /* the file changed on disk */
        statics.files[i] = statics.files[--statics.n];
    }
    if (sb->st_size > HTTP_STATIC_FILE_MAX || statics.n >= HTTP_STATIC_ENTRIES_MAX ||
        strlen(path) >= sizeof(statics.files[0]->path))
        return NULL;
    struct static_file *f = xcalloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->size = sb->st_size;
    f->mtime = sb->st_mtim;
    f->data = xmalloc((size_t)sb->st_size + 1);
    ssize_t got = pread(fd, f->data, (size_t)sb->st_size, 0);
    if (got != sb->st_size) {
        static_free(f);
        return NULL;
    }
    f->len = (size_t)got;
    f->gz = http_gzip(f->data, f->len, Z_BEST_COMPRESSION, &f->gzlen);
    if (f->gzlen >= f->len) {    /* nothing gained: send it as it is */
        free(f->gz);
        f->gz = NULL;
    }
    statics.files[statics.n++] = f;
    return f;
}

bool http_static_send(struct evhttp_request *r, const char *path, int fd, const struct stat *sb,
                      const char *type, const char *etag)
{
    struct static_file *f = static_get(path, fd, sb);

    if (f == NULL)
        return false;
    struct evkeyvalq *out = evhttp_request_get_output_headers(r);
    bool gz = f->gz && http_type_compressible(type) && http_gzip_accepted(r);
    char gzetag[80];
    if (http_type_compressible(type))
        evhttp_add_header(out, "Vary", "Accept-Encoding");
    if (gz) {
        http_gzip_etag(etag, gzetag, sizeof(gzetag));
        etag = gzetag;
    }
    evhttp_add_header(out, "ETag", etag);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r), "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        evhttp_send_reply(r, 304, "Not Modified", NULL);
        return true;
    }
    close(fd);
    struct evbuffer *b = evbuffer_new();
    f->refs++;
    if (gz) {
        evhttp_add_header(out, "Content-Encoding", "gzip");
        evbuffer_add_reference(b, f->gz, f->gzlen, static_release, f);
    } else {
        evbuffer_add_reference(b, f->data, f->len, static_release, f);
    }
    evhttp_add_header(out, "Content-Type", type);
    http_send_reply(r, 200, "OK", b);
    evbuffer_free(b);
    return true;
}
