/* answer.h: answer documents: one "task-id: answer" line per task. */
#ifndef CAMPUS_ANSWER_H
#define CAMPUS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

struct answer_entry {
    char *id;       /* owned: [a-z0-9.-], 1 to 80 characters */
    char *value;    /* owned: the answer, trimmed; continuation lines joined
                     * with \n */
    int line;       /* line of the document where the entry starts */
};

struct answer_doc {
    struct answer_entry *items;
    size_t n;
};

/* Parses an answer document (len bytes, UTF-8, LF or CRLF lines):
 *   task-id: answer
 *     continuation of a free-text answer (a line starting with two spaces
 *     or a tab); blank lines between continuation lines are kept
 *   # a comment line
 * Blank lines elsewhere are ignored. Returns 0 and fills doc (free with
 * answer_doc_free), or -1 with a message naming the line in err. */
int answer_parse(const char *text, size_t len, struct answer_doc *doc, char *err, size_t errlen);

/* Gives an English message format of answer_parse (the literal as this
 * file writes it) in the reader's language lang, taking the same
 * conversions in the same order, or the format itself. The base library
 * knows no language: the course library passes content_msg (content/msg.c),
 * whose table holds these formats. */
typedef const char *answer_msg_fn(const char *lang, const char *fmt) __attribute__((format_arg(2)));

/* answer_parse, with err written in lang through msg (NULL: English). */
int answer_parse_lang(const char *text, size_t len, struct answer_doc *doc, answer_msg_fn *msg,
                      const char *lang, char *err, size_t errlen);

/* The entry for id, or NULL. */
const struct answer_entry *answer_get(const struct answer_doc *doc, const char *id);

void answer_doc_free(struct answer_doc *doc);

struct sbuf;
/* Appends one entry in the form answer_parse reads back: "id: value", each
 * further line of value indented by two spaces. An empty value is left
 * out, as a task the learner did not answer. */
void answer_append(struct sbuf *b, const char *id, const char *value);

/* Reads a classify answer, "key=1,3 key=2": words of a category key
 * (cat gives its index for the key's n bytes, or -1 for no category), "="
 * and item numbers from 1 to nitems separated by commas, each item at most
 * once. placed (nitems slots) gets each item's category, -1 for one not
 * placed. True when the whole answer has that form. */
bool answer_classify_read(const char *s, size_t nitems,
                          int (*cat)(const void *arg, const char *key, size_t n), const void *arg,
                          int *placed);

#endif
