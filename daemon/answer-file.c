/* answer-file.c: answers rendered once, kept in shared-memory files.
 *
 * A cached READ answer is the same bytes for every reader until the next
 * reload. Written from the heap, each request costs the kernel a copy of
 * those bytes into the socket, most of a READ's CPU. Kept in a memfd
 * instead, the socket can take them by sendfile: the kernel hands the
 * file's pages to the connection by reference and the copy is gone, as
 * nginx does for static files. The process reads the same pages through
 * a shared mapping of the file, so one copy serves both paths (TLS and
 * COMPRESS outputs, which need the bytes themselves).
 *
 * Answers are packed into files of ANSWER_FILE_SIZE (a bigger one gets a
 * file of its own), so a catalogue of thousands of lessons costs a few
 * descriptors, not thousands. A file's pages are only allocated as they
 * are written. A file is counted: once while it is the current one, once
 * per answer held, once per file segment alive, in an answer or in an
 * output buffer that has not sent it yet (libevent keeps a segment until
 * its last chain is gone and then calls segment_done). The last one out
 * unmaps and closes it. Everything here belongs to one worker's loop, and
 * files are made by the worker itself, after it was forked, never shared.
 *
 * A room reading one lesson sends the same few pages to every socket at
 * once, and each send takes and drops references on those pages' structs,
 * from the worker's core and, as the readers' sockets free what they
 * received, from the other cores: the counters' cache lines go back and
 * forth between cores. An answer sent often therefore gets copies, each
 * on pages of its own, and the sends take them in turn. Measured on two
 * cores, 50 connections reading one 16 KiB lesson: 5.3 us of CPU a READ
 * from the answer alone, 4.8 with one copy, 4.7 with three
 * (tests/bench/README.md). */
#include "answer-file.h"
#include "campusd.h"

#include <event2/buffer.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ANSWER_FILE_SIZE (4u << 20)
/* Sends of an answer before it gets its next copy: only an answer read
 * again and again is copied. */
#define ANSWER_COPY_AFTER 64
/* What the copies may take in all, a worker's: hot lessons, not every one. */
#define ANSWER_COPY_BYTES ((size_t)16 << 20)

struct answer_file {
    int fd;
    char *map;
    size_t size, used;
    int refs;
};

static struct answer_file *current;
static size_t copy_bytes_held;

static void file_unref(struct answer_file *f)
{
    if (--f->refs > 0)
        return;
    munmap(f->map, f->size);
    close(f->fd);
    free(f);
}

/* n rounded up to a whole number of pages. */
static size_t page_round(size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t p = page > 0 ? (size_t)page : 4096;

    return (n + p - 1) / p * p;
}

static struct answer_file *file_new(size_t size)
{
    size = page_round(size);
    int fd = memfd_create("campus-answers", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0)
        map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        return NULL;
    }
    struct answer_file *f = xcalloc(1, sizeof(*f));
    f->fd = fd;
    f->map = map;
    f->size = size;
    f->refs = 1;
    return f;
}

static void segment_done(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
    file_unref(arg);
}

/* A place for len bytes, at a page's start when aligned (a copy shares no
 * page with another answer): the current file, or a new one (the current
 * one when it is of the usual size, else one for these bytes alone). The
 * caller holds a reference on the file it gets (taken here) and writes at
 * *off. NULL: no file could be made. */
static struct answer_file *place(size_t len, bool aligned, size_t *off)
{
    if (current) {
        size_t at = aligned ? page_round(current->used) : current->used;
        if (at <= current->size && current->size - at >= len) {
            current->refs++;
            current->used = at + len;
            *off = at;
            return current;
        }
    }
    struct answer_file *f;
    if (len > ANSWER_FILE_SIZE / 4) {
        f = file_new(len);       /* alone: the current file keeps its room; its one reference is ours */
        if (f == NULL)
            return NULL;
    } else {
        f = file_new(ANSWER_FILE_SIZE);
        if (f == NULL)
            return NULL;
        if (current)
            file_unref(current);
        current = f;
        f->refs++;               /* the current file's own, and ours */
    }
    f->used = len;
    *off = 0;
    return f;
}

/* A file segment of len bytes at off in f, which it holds a reference on
 * until libevent lets the segment go. NULL: libevent refused. */
static struct evbuffer_file_segment *segment_new(struct answer_file *f, size_t off, size_t len)
{
    struct evbuffer_file_segment *seg =
        evbuffer_file_segment_new(f->fd, (ev_off_t)off, (ev_off_t)len, EVBUF_FS_DISABLE_LOCKING);
    if (seg) {
        f->refs++;
        evbuffer_file_segment_add_cleanup_cb(seg, segment_done, f);
    }
    return seg;
}

void answer_bytes_make(struct answer_bytes *a, const char *data, size_t len)
{
    size_t off = 0;

    memset(a, 0, sizeof(*a));
    a->len = len;
    struct answer_file *f = len > 0 ? place(len, false, &off) : NULL;
    if (f == NULL) {
        char *copy = xmalloc(len ? len : 1);
        memcpy(copy, data, len);
        a->data = copy;
        return;
    }
    memcpy(f->map + off, data, len);
    a->data = f->map + off;
    a->file = f;
    a->seg = segment_new(f, off, len);
}

/* One more copy of a's bytes, on pages of its own; none when the copies'
 * bytes would pass their bound or no file can be had. */
static void copy_add(struct answer_bytes *a)
{
    size_t off;

    if (copy_bytes_held + a->len > ANSWER_COPY_BYTES)
        return;
    struct answer_file *f = place(a->len, true, &off);
    if (f == NULL)
        return;
    memcpy(f->map + off, a->data, a->len);
    struct evbuffer_file_segment *seg = segment_new(f, off, a->len);
    if (seg == NULL) {
        file_unref(f);
        return;
    }
    a->copy[a->ncopies] = seg;
    a->copy_file[a->ncopies] = f;
    a->ncopies++;
    copy_bytes_held += a->len;
}

struct evbuffer_file_segment *answer_bytes_segment(struct answer_bytes *a)
{
    if (a->seg == NULL)
        return NULL;
    if (a->ncopies < ANSWER_COPIES_MAX && ++a->sends >= ANSWER_COPY_AFTER) {
        a->sends = 0;
        copy_add(a);
    }
    if (a->ncopies == 0)
        return a->seg;
    unsigned k = a->turn++ % (a->ncopies + 1);
    return k == 0 ? a->seg : a->copy[k - 1];
}

size_t answer_copy_bytes(void)
{
    return copy_bytes_held;
}

void answer_bytes_drop(struct answer_bytes *a)
{
    /* A segment is freed when no output buffer holds it any more. */
    for (unsigned i = 0; i < a->ncopies; i++) {
        evbuffer_file_segment_free(a->copy[i]);
        file_unref(a->copy_file[i]);
        copy_bytes_held -= a->len;
    }
    if (a->seg)
        evbuffer_file_segment_free(a->seg);
    if (a->file)
        file_unref(a->file);
    else
        free((char *)a->data);
    memset(a, 0, sizeof(*a));
}

void answer_files_rotate(void)
{
    if (current)
        file_unref(current);
    current = NULL;
}
