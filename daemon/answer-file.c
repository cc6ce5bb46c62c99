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
 * files are made by the worker itself, after it was forked, never shared. */
#include "answer-file.h"
#include "campusd.h"

#include <event2/buffer.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ANSWER_FILE_SIZE (4u << 20)

struct answer_file {
    int fd;
    char *map;
    size_t size, used;
    int refs;
};

static struct answer_file *current;

static void file_unref(struct answer_file *f)
{
    if (--f->refs > 0)
        return;
    munmap(f->map, f->size);
    close(f->fd);
    free(f);
}

static struct answer_file *file_new(size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
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

/* Where len bytes go: the current file, or a new one (the current one when
 * it is of the usual size, else one for this answer alone). NULL: none. */
static struct answer_file *file_for(size_t len)
{
    if (current && current->size - current->used >= len)
        return current;
    if (len > ANSWER_FILE_SIZE / 4)
        return file_new(len);    /* alone: the current file keeps its room */
    struct answer_file *f = file_new(ANSWER_FILE_SIZE);
    if (f == NULL)
        return NULL;
    if (current)
        file_unref(current);
    current = f;
    return f;
}

void answer_bytes_make(struct answer_bytes *a, const char *data, size_t len)
{
    memset(a, 0, sizeof(*a));
    a->len = len;
    struct answer_file *f = len > 0 ? file_for(len) : NULL;
    if (f == NULL) {
        char *copy = xmalloc(len ? len : 1);
        memcpy(copy, data, len);
        a->data = copy;
        return;
    }
    if (f == current)
        f->refs++;               /* a file of its own starts with this answer's */
    size_t off = f->used;
    memcpy(f->map + off, data, len);
    f->used += len;
    a->data = f->map + off;
    a->file = f;
    a->seg = evbuffer_file_segment_new(f->fd, (ev_off_t)off, (ev_off_t)len,
                                       EVBUF_FS_DISABLE_LOCKING);
    if (a->seg) {
        f->refs++;
        evbuffer_file_segment_add_cleanup_cb(a->seg, segment_done, f);
    }
}

void answer_bytes_drop(struct answer_bytes *a)
{
    if (a->seg)
        evbuffer_file_segment_free(a->seg);   /* freed when no buffer holds it */
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
