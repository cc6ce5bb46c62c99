/* answer-file.h: answers rendered once, kept in shared-memory files so that
 * a plain socket takes them by sendfile(2) instead of a copy. */
#ifndef CAMPUS_ANSWER_FILE_H
#define CAMPUS_ANSWER_FILE_H

#include <stddef.h>

struct evbuffer_file_segment;
struct answer_file;

/* Copies a much-read answer may get (answer_bytes_segment). */
#define ANSWER_COPIES_MAX 3

/* One answer's bytes. data is readable for as long as the answer is held
 * (answer_bytes_drop); seg, when not NULL, is the same bytes as a file
 * segment for evbuffer_add_file_segment, and stays valid in an output
 * buffer after the answer is dropped, until that buffer lets it go. */
struct answer_bytes {
    const char *data;
    size_t len;
    struct evbuffer_file_segment *seg;
    struct answer_file *file;    /* NULL: data is plain heap memory */
    /* More copies of a much-read answer, on pages of their own
     * (answer_bytes_segment); the sends counted towards the next one. */
    struct evbuffer_file_segment *copy[ANSWER_COPIES_MAX];
    struct answer_file *copy_file[ANSWER_COPIES_MAX];
    unsigned ncopies, sends, turn;
};

/* Copies len bytes into this process's current answer file (a new one when
 * it is full). Without a file (memfd_create or mmap refused), the copy is
 * in the heap and seg is NULL: the answer is still good, only copied on
 * its way out. */
void answer_bytes_make(struct answer_bytes *a, const char *data, size_t len);
void answer_bytes_drop(struct answer_bytes *a);
/* The file segment to send this time (NULL: the answer has none): the
 * answer's own, or one of its copies, in turn. A much-read answer gets a
 * copy after every ANSWER_COPY_AFTER sends, up to ANSWER_COPIES_MAX and
 * within a worker's ANSWER_COPY_BYTES. */
struct evbuffer_file_segment *answer_bytes_segment(struct answer_bytes *a);
/* Bytes the copies take now, this process's. */
size_t answer_copy_bytes(void);
/* Later answers go into a new file, so that the current one is freed once
 * the answers already in it are dropped and sent (a catalogue was
 * replaced: its answers will all go). */
void answer_files_rotate(void);

#endif
