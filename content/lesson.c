/* lesson.c: building one lesson: front matter, cmark body, special blocks,
 * links; and rendering them all, a thread per core. */
#include "loader.h"
#include "exercise.h"
#include "frontmatter.h"
#include "node_arena.h"
#include "render.h"
#include "search.h"
#include "util.h"

#include <cmark.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int loader_check_text(struct loader *l, const char *path, const char *src, size_t len)
{
    int line = 1;

    for (size_t i = 0; i < len;) {
        const char *e = memchr(src + i, '\n', len - i);
        size_t n = e ? (size_t)(e - (src + i)) : len - i;
        if (memchr(src + i, '\0', n)) {
            diag_add(l->diags, DIAG_ERROR, path, line, "file contains a NUL byte");
            return -1;
        }
        if (!utf8_valid(src + i, n)) {
            diag_add(l->diags, DIAG_ERROR, path, line, "file is not valid UTF-8");
            return -1;
        }
        i += n + 1;
        line++;
    }
    return 0;
}

/* Makes cmark allocate from the catalogue's pool on this thread, when the
 * load has one, until node_pool_leave. */
static void pool_enter(const struct loader *l)
{
    if (l->nodes)
        node_pool_enter(l->nodes);
}

/* Parses the body with cmark. The front matter is blanked out (newlines kept)
 * so that cmark's line numbers are the file's. */
static cmark_node *parse_body(const char *src, size_t len, size_t body_off)
{
    cmark_parser *p = cmark_parser_new_with_mem(CMARK_OPT_DEFAULT, node_mem());
    char blank[256];

    /* The front matter goes in blanked piece by piece, the body as it is:
     * no copy of the whole file. */
    for (size_t i = 0; i < body_off && i < len;) {
        size_t n = 0;
        for (; i < body_off && i < len && n < sizeof(blank); i++)
            blank[n++] = src[i] == '\n' ? '\n' : ' ';
        cmark_parser_feed(p, blank, n);
    }
    if (body_off < len)
        cmark_parser_feed(p, src + body_off, len - body_off);
    cmark_node *doc = cmark_parser_finish(p);
    cmark_parser_free(p);
    return doc;
}

static void push_lesson(struct lesson ***v, size_t *n, size_t *cap, struct lesson *les)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = les;
}

/* Copies a list of strings. */
static char **dup_list(char **v, size_t n)
{
    char **out = xcalloc(n, sizeof(char *));

    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

/* Frees a list of n strings and the list. */
static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Replaces a code block by a custom block holding html, with user data. */
static cmark_node *replace_with_custom(cmark_node *code, char *html, void *data)
{
    cmark_node *c = cmark_node_new_with_mem(CMARK_NODE_CUSTOM_BLOCK, node_mem());

    cmark_node_set_on_enter(c, html);
    cmark_node_set_on_exit(c, "");
    cmark_node_set_user_data(c, data);
    cmark_node_replace(code, c);
    cmark_node_free(code);
    free(html);
    return c;
}

/* The fences the loader replaces, by their info string's first word. */
enum fence { FENCE_OTHER, FENCE_GIFT, FENCE_TASK, FENCE_TABLE, FENCE_TRAINER };

static enum fence fence_kind(const char *info)
{
    size_t w = strcspn(info, " \t");

    if (w == 4 && strncmp(info, "gift", 4) == 0)
        return FENCE_GIFT;
    if (w == 4 && strncmp(info, "task", 4) == 0)
        return FENCE_TASK;
    if (w == 5 && strncmp(info, "table", 5) == 0)
        return FENCE_TABLE;
    if (w == 7 && strncmp(info, "trainer", 7) == 0)
        return FENCE_TRAINER;
    return FENCE_OTHER;
}

/* The lesson's table a ```table NAME fence (info) names, or NULL. */
static struct table *table_named(const struct lesson *les, const char *info)
{
    const char *name = info + 5;

    while (*name == ' ' || *name == '\t')
        name++;
    size_t nlen = strcspn(name, " \t");
    for (size_t j = 0; j < les->ntables; j++)
        if (strlen(les->tables[j]->name) == nlen && strncmp(les->tables[j]->name, name, nlen) == 0)
            return les->tables[j];
    return NULL;
}

/* Hides an exercise fence behind one placeholder per run of consecutive
 * exercise fences. */
static void hide_exercise(const struct lesson *les, cmark_node *code)
{
    cmark_node *prev = cmark_node_previous(code);

    if (prev && cmark_node_get_type(prev) == CMARK_NODE_CUSTOM_BLOCK &&
        cmark_node_get_user_data(prev) == NULL) {
        cmark_node_free(code); /* unlinks it too */
        return;
    }
    replace_with_custom(code, render_exercise_html(les->full_id), NULL);
}

/* Keeps an exercise fence's source and hides it (hide_exercise). */
static void take_exercise(struct lesson *les, cmark_node *code, enum exercise_source_kind kind)
{
    const char *lit = cmark_node_get_literal(code);
    struct exercise_source *x;

    x = &les->exercises[les->nexercises++]; /* sized by take_special_blocks */
    x->kind = kind;
    x->text = xstrdup(lit ? lit : "");
    x->len = strlen(x->text);
    x->fence_line = cmark_node_get_start_line(code);
    x->line = x->fence_line + 1;
    hide_exercise(les, code);
}

/* The fenced code blocks of doc, in document order; *n of them. Collected
 * first, since the tree must not change under the iterator. */
static cmark_node **fenced_blocks(cmark_node *doc, size_t *n)
{
    cmark_node **codes = NULL;
    size_t cap = 0;
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    *n = 0;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(node) != CMARK_NODE_CODE_BLOCK ||
            !cmark_node_get_fence_info(node))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            codes = xrealloc(codes, cap * sizeof(*codes));
        }
        codes[(*n)++] = node;
    }
    cmark_iter_free(it);
    return codes;
}

/* Table names of one lesson seen so far: an open-addressing set of indices
 * into les->tables, so that duplicate checks stay linear. */
struct name_set {
    size_t *slots;              /* index + 1; 0 is empty */
    size_t cap;                 /* a power of two, more than twice the count */
};

static size_t name_hash(const char *s)
{
    size_t h = 5381;

    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

/* Returns the slot for name: holding the index + 1 of the table with that
 * name, or 0 (empty) where it would go. */
static size_t *name_slot(struct name_set *ns, struct lesson *les, const char *name)
{
    size_t i = name_hash(name) & (ns->cap - 1);

    while (ns->slots[i] && strcmp(les->tables[ns->slots[i] - 1]->name, name) != 0)
        i = (i + 1) & (ns->cap - 1);
    return &ns->slots[i];
}

/* Parses a ```table NAME fence and shows it as a table. */
static void take_table(struct loader *l, struct lesson *les, struct name_set *ns,
                       cmark_node *code, const char *info)
{
    const char *name = info + 5;
    int fence = cmark_node_get_start_line(code);
    char err[256];
    int err_line = fence;

    while (*name == ' ' || *name == '\t')
        name++;
    size_t nlen = strcspn(name, " \t");
    if (nlen == 0) {
        diag_add(l->diags, DIAG_ERROR, les->path, fence, "table block needs a name: ```table NAME");
        return;
    }
    char *tname = xstrndup(name, nlen);
    size_t *slot = name_slot(ns, les, tname);
    if (*slot) {
        diag_add(l->diags, DIAG_ERROR, les->path, fence,
                 "duplicate table name '%s' (first at line %d)", tname,
                 les->tables[*slot - 1]->line);
        free(tname);
        return;
    }
    const char *lit = cmark_node_get_literal(code);
    const char *csv = lit ? lit : "", *labels = NULL;
    size_t labels_len = 0;
    int first = fence + 1;
    if (strncmp(csv, "labels:", 7) == 0) {
        /* labels: name = Label; name2 = Label 2 (display only; graders use names) */
        labels = csv + 7;
        labels_len = strcspn(labels, "\n");
        csv = labels[labels_len] ? labels + labels_len + 1 : labels + labels_len;
        first++;
    }
    struct table *t = table_parse(tname, csv, strlen(csv), first, err, sizeof(err), &err_line);
    if (t == NULL) {
        diag_add(l->diags, DIAG_ERROR, les->path, err_line, "table '%s': %s", tname, err);
        free(tname);
        return;
    }
    if (labels && table_labels(t, labels, labels_len, err, sizeof(err)) < 0)
        diag_add(l->diags, DIAG_ERROR, les->path, fence + 1, "table '%s': %s", tname, err);
    free(tname);
    t->line = fence;
    les->tables[les->ntables++] = t; /* sized by take_special_blocks */
    *slot = les->ntables;
    replace_with_custom(code, render_table_html(t), t);
}

/* A ```trainer [TASKID] fence: kept out of the learner's tree; noted for
 * the trainer rendering (take_trainer_blocks). */
static void take_trainer(struct loader *l, struct lesson *les, cmark_node *code, const char *info)
{
    const char *task = info + 7;
    int fence = cmark_node_get_start_line(code);

    while (*task == ' ' || *task == '\t')
        task++;
    size_t tlen = strcspn(task, " \t");
    char *id = xstrndup(task, tlen);
    if (tlen && !id_valid(id))
        diag_add(l->diags, DIAG_ERROR, les->path, fence,
                 "trainer block names task '%s': use 1 to 64 of [a-z0-9-]", id);
    size_t i = les->ntrainer_blocks++;
    les->trainer_tasks = xrealloc(les->trainer_tasks, les->ntrainer_blocks * sizeof(char *));
    les->trainer_lines = xrealloc(les->trainer_lines, les->ntrainer_blocks * sizeof(int));
    les->trainer_ends = xrealloc(les->trainer_ends, les->ntrainer_blocks * sizeof(int));
    les->trainer_tasks[i] = id;
    les->trainer_lines[i] = fence;
    les->trainer_ends[i] = cmark_node_get_end_line(code);
    cmark_node_free(code);       /* unlinks it: no learner rendering holds it */
}

/* Finds the special fences (gift, task, table, trainer) and replaces them. Nodes are
 * collected first since the tree must not change under the iterator. */
static void take_special_blocks(struct loader *l, struct lesson *les)
{
    cmark_node **codes = NULL, **links = NULL;
    size_t n = 0, cap = 0, nlinks = 0, linkcap = 0;
    cmark_iter *it = cmark_iter_new(les->doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        cmark_node_type type = cmark_node_get_type(node);
        if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE) {
            /* Links are resolved once every lesson's path is known
             * (render_one); no fence holds one, so the list stays true
             * while the fences are replaced. */
            if (nlinks == linkcap) {
                linkcap = linkcap ? linkcap * 2 : 8;
                links = xrealloc(links, linkcap * sizeof(*links));
            }
            links[nlinks++] = node;
            continue;
        }
        if (type != CMARK_NODE_CODE_BLOCK)
            continue;
        const char *fi = cmark_node_get_fence_info(node);
        if (fi == NULL || *fi == '\0') {
            /* Indented too far, a trainer fence becomes code every reader
             * sees: never let that pass. */
            const char *lit = cmark_node_get_literal(node);
            for (const char *q = lit; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : "") {
                const char *r = q + strspn(q, " \t>");
                if (strncmp(r, "```trainer", 10) == 0 || strncmp(r, "~~~trainer", 10) == 0) {
                    diag_add(l->diags, DIAG_ERROR, les->path, cmark_node_get_start_line(node),
                             "a ```trainer fence inside a code block: learners would read it "
                             "(indent it less)");
                    break;
                }
            }
        }
        if (fi == NULL || *fi == '\0')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            codes = xrealloc(codes, cap * sizeof(*codes));
        }
        codes[n++] = node;
    }
    cmark_iter_free(it);
    free(les->link_nodes);
    les->link_nodes = links;
    les->nlink_nodes = nlinks;
    /* Room for every fence, so that no array grows one by one. */
    les->exercises = xcalloc(n ? n : 1, sizeof(*les->exercises));
    les->tables = xcalloc(n ? n : 1, sizeof(*les->tables));
    struct name_set ns = {.cap = 16};
    while (ns.cap < 2 * n + 2)
        ns.cap *= 2;
    ns.slots = xcalloc(ns.cap, sizeof(*ns.slots));
    for (size_t i = 0; i < n; i++) {
        const char *info = cmark_node_get_fence_info(codes[i]);
        switch (fence_kind(info)) {
        case FENCE_GIFT: take_exercise(les, codes[i], EXERCISE_SOURCE_GIFT); break;
        case FENCE_TASK: take_exercise(les, codes[i], EXERCISE_SOURCE_TASK); break;
        case FENCE_TABLE: take_table(l, les, &ns, codes[i], info); break;
        case FENCE_TRAINER: take_trainer(l, les, codes[i], info); break;
        case FENCE_OTHER: break;
        }
    }
    free(ns.slots);
    free(codes);
}

/* The second pass, for the trainer rendering of the same source: exercise
 * runs and tables become what the first pass made of them, and each
 * ```trainer fence becomes a trainer block holding its Markdown. */
static void take_trainer_blocks(const struct lesson *les, cmark_node *doc)
{
    size_t n, k = 0;
    cmark_node **codes = fenced_blocks(doc, &n);

    for (size_t i = 0; i < n; i++) {
        const char *info = cmark_node_get_fence_info(codes[i]);
        enum fence kind = fence_kind(info);
        if (kind == FENCE_GIFT || kind == FENCE_TASK) {
            hide_exercise(les, codes[i]);
        } else if (kind == FENCE_TABLE) {
            struct table *t = table_named(les, info);
            if (t)
                replace_with_custom(codes[i], render_table_html(t), t);
        } else if (kind == FENCE_TRAINER && k < les->ntrainer_blocks) {
            const char *task = les->trainer_tasks[k++];
            /* Parsed with blank lines before it so that its lines are the file's. */
            const char *lit = cmark_node_get_literal(codes[i]);
            int skip = cmark_node_get_start_line(codes[i]);
            struct sbuf src = {0};
            for (int j = 0; j < skip; j++)
                sbuf_addc(&src, '\n');
            sbuf_adds(&src, lit ? lit : "");
            /* With the tree's allocator: cmark frees a tree with its root's. */
            cmark_parser *ip = cmark_parser_new_with_mem(CMARK_OPT_DEFAULT, node_mem());
            cmark_parser_feed(ip, src.data ? src.data : "", src.len);
            cmark_node *inner = cmark_parser_finish(ip);
            cmark_parser_free(ip);
            sbuf_free(&src);
            cmark_node *block = cmark_node_new_with_mem(CMARK_NODE_CUSTOM_BLOCK, node_mem());
            char *open = render_trainer_open(task);
            cmark_node_set_on_enter(block, open);
            free(open);
            cmark_node_set_on_exit(block, RENDER_TRAINER_CLOSE);
            cmark_node_set_user_data(block, (void *)task);
            cmark_node *child;
            while ((child = cmark_node_first_child(inner)) != NULL) {
                cmark_node_unlink(child);
                cmark_node_append_child(block, child);
            }
            cmark_node_free(inner);
            cmark_node_replace(codes[i], block);
            cmark_node_free(codes[i]);
        }
    }
    free(codes);
}

/* True when the document holds nothing but blank space. */
static bool doc_empty(cmark_node *doc)
{
    return cmark_node_first_child(doc) == NULL;
}

/* The targets of doc's links and images, in document order; *n of them. */
static char **tree_urls(cmark_node *doc, size_t *n)
{
    char **urls = NULL;
    size_t cap = 0;
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    *n = 0;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type type = cmark_node_get_type(node);
        if (ev != CMARK_EVENT_ENTER || (type != CMARK_NODE_LINK && type != CMARK_NODE_IMAGE))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            urls = xrealloc(urls, cap * sizeof(*urls));
        }
        const char *url = cmark_node_get_url(node);
        urls[(*n)++] = xstrdup(url ? url : "");
    }
    cmark_iter_free(it);
    return urls;
}

/* Gives doc's links and images, in document order, the targets the load
 * resolved them to (urls, n of them). */
static void replay_urls(cmark_node *doc, char *const *urls, size_t n)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    size_t k = 0;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE && k < n) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type type = cmark_node_get_type(node);
        if (ev == CMARK_EVENT_ENTER && (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE))
            cmark_node_set_url(node, urls[k++]);
    }
    cmark_iter_free(it);
}

/* What take_special_blocks made of a learner tree's fences, made again in a
 * fresh parse of the same text: the lesson's exercises, tables and trainer
 * blocks are taken already, and it reported what was wrong with them. */
static void replay_special_blocks(const struct lesson *les, cmark_node *doc)
{
    size_t n;
    cmark_node **codes = fenced_blocks(doc, &n);

    for (size_t i = 0; i < n; i++) {
        const char *info = cmark_node_get_fence_info(codes[i]);
        struct table *t;
        switch (fence_kind(info)) {
        case FENCE_GIFT:
        case FENCE_TASK: hide_exercise(les, codes[i]); break;
        case FENCE_TABLE:
            if ((t = table_named(les, info)) != NULL)
                replace_with_custom(codes[i], render_table_html(t), t);
            break;
        case FENCE_TRAINER: cmark_node_free(codes[i]); break;
        case FENCE_OTHER: break;
        }
    }
    free(codes);
}

bool catalog_lesson_has_trainer_view(const struct lesson *les)
{
    return les->trainer_html != NULL;
}

struct cmark_node *lesson_tree(const struct lesson *les, bool trainer)
{
    if (trainer && !catalog_lesson_has_trainer_view(les))
        return NULL;
    const char *parsed = les->cited ? les->cited : les->markdown;
    size_t plen = les->cited ? les->cited_len : les->markdown_len;
    cmark_node *doc = parse_body(parsed, plen, les->body_off);

    if (trainer) {
        take_trainer_blocks(les, doc);
        replay_urls(doc, les->trainer_urls, les->ntrainer_urls);
    } else {
        replay_special_blocks(les, doc);
        replay_urls(doc, les->urls, les->nurls);
    }
    return doc;
}

/* The second half of a lesson's parse, made beside its rendering
 * (render_one) so that each tree is freed before the next is made: the
 * body's cmark tree and its special blocks, the learner's markdown and
 * version, the trainer's tree, and what they say about the lesson. */
static void lesson_parse_body(struct loader *l, struct lesson *les)
{
    const char *src = les->markdown, *path = les->path;
    size_t len = les->markdown_len;
    const char *parsed = les->cited ? les->cited : src;
    size_t plen = les->cited ? les->cited_len : len;

    les->doc = parse_body(parsed, plen, les->body_off);
    if (doc_empty(les->doc))
        diag_add(l->diags, DIAG_ERROR, path, les->body_line,
                 "lesson is empty: it needs some content after the front matter");
    take_special_blocks(l, les);
    /* A learner's version must not change, or tell anything, when only
     * trainer notes do. */
    if (les->ntrainer_blocks) {
        /* The lines cmark found the fences on, wherever they sit (in a list
         * item, a block quote): what a learner's md view is made from. */
        struct sbuf b = {0};
        int line = 1;
        size_t k = 0;
        for (size_t i = 0; i < len;) {
            const char *nl = memchr(src + i, '\n', len - i);
            size_t n = nl ? (size_t)(nl - (src + i)) + 1 : len - i;
            while (k < les->ntrainer_blocks && les->trainer_ends[k] < line)
                k++;
            if (!(k < les->ntrainer_blocks && line >= les->trainer_lines[k] &&
                  line <= les->trainer_ends[k]))
                sbuf_add(&b, src + i, n);
            i += n;
            line++;
        }
        les->learner_markdown_len = b.len;
        les->learner_markdown = b.data ? sbuf_take(&b) : xstrdup("");
        sha256_hex(les->learner_markdown, les->learner_markdown_len, les->version);
    } else {
        memcpy(les->version, les->trainer_version, sizeof(les->version));
    }
    if (les->ntrainer_blocks || les->trainer) {
        les->trainer_doc = parse_body(parsed, plen, les->body_off);
        take_trainer_blocks(les, les->trainer_doc);
    }
    if (les->trainer && les->nexercises)
        diag_add(l->diags, DIAG_ERROR, path, les->exercises[0].fence_line,
                 "a trainer-only lesson cannot hold an exercise: learners never see it");
    if (les->trainer && les->pretest)
        diag_add(l->diags, DIAG_ERROR, path, les->body_line,
                 "a lesson cannot be both trainer: true and pretest: true");
    else if (les->pretest && les->nexercises == 0)
        diag_add(l->diags, DIAG_ERROR, path, les->body_line,
                 "a pre-test (pretest: true) needs questions: a ```gift or ```task block");
}

struct lesson *lesson_parse(struct loader *l, struct course *c, struct module *m,
                            const char *path, char *src, size_t len, int number,
                            const char *slug, bool is_case)
{
    struct lesson *les = xcalloc(1, sizeof(*les));
    struct front_matter fm;

    les->id = xstrdup(slug);
    les->full_id = xasprintf("%s/%s", c->id, slug);
    les->path = xstrdup(path);
    les->markdown = src;
    les->markdown_len = len;
    les->number = number;
    les->is_case = is_case;
    les->course = c;
    les->module = m;
    sha256_hex(src, len, les->trainer_version);
    fm_parse(&fm, is_case ? FM_CASE : FM_LESSON, src, len, path, l->diags);
    les->title = xstrdup(fm.title ? fm.title : slug);
    les->minutes = fm.minutes;
    les->objectives = dup_list(fm.objectives, fm.nobjectives);
    les->nobjectives = fm.nobjectives;
    les->sources = dup_list(fm.sources, fm.nsources);
    les->nsources = fm.nsources;
    /* Prerequisites are kept as written until loader_finish resolves them. */
    les->prerequisites = dup_list(fm.prerequisites, fm.nprerequisites);
    les->nprerequisites = fm.nprerequisites;
    les->front_matter = xstrdup(fm.raw ? fm.raw : "");
    les->front_matter_line = fm.raw_line;
    les->trainer = fm.trainer;
    les->pretest = fm.pretest;
    /* Citations become "(Author Year)" and a References section, in the
     * text cmark parses; the file itself (the md view) stays as written.
     * The body is parsed beside its rendering (lesson_parse_body). */
    les->body_off = fm.present ? fm.body_off : 0;
    les->body_line = fm.body_line;
    les->cited = biblio_cite(l, les, c, src, len, les->body_off, &les->cited_len);
    if (fm.nprerequisites) {
        les->prerequisite_lines = xmalloc(fm.nprerequisites * sizeof(int));
        memcpy(les->prerequisite_lines, fm.prerequisite_lines, fm.nprerequisites * sizeof(int));
    }
    fm_free(&fm);
    les->lang = c->language ? c->language : "";
    return les;
}

struct lesson *lesson_build(struct loader *l, struct course *c, struct module *m,
                            const char *path, char *src, size_t len, int number,
                            const char *slug, bool is_case)
{
    struct lesson *les = lesson_parse(l, c, m, path, src, len, number, slug, is_case);

    lesson_add(l, c, m, les);
    return les;
}

void lesson_add(struct loader *l, struct course *c, struct module *m, struct lesson *les)
{
    les->module = m;
    biblio_mark_cited(c, les);
    if (les->trainer) {
        /* Outside the learners' course: no count, outline or rule sees it. */
        m->trainer_lessons = xrealloc(m->trainer_lessons,
                                      (m->ntrainer_lessons + 1) * sizeof(*m->trainer_lessons));
        m->trainer_lessons[m->ntrainer_lessons++] = les;
        c->trainer_lessons = xrealloc(c->trainer_lessons,
                                      (c->ntrainer_lessons + 1) * sizeof(*c->trainer_lessons));
        c->trainer_lessons[c->ntrainer_lessons++] = les;
        push_lesson(&l->all, &l->nall, &l->allcap, les);
        return;
    }
    m->lessons = xrealloc(m->lessons, (m->nlessons + 1) * sizeof(*m->lessons));
    m->lessons[m->nlessons++] = les;
    m->minutes += les->minutes;
    les->index = c->nlessons;
    c->lessons = xrealloc(c->lessons, (c->nlessons + 1) * sizeof(*c->lessons));
    c->lessons[c->nlessons++] = les;
    c->minutes += les->minutes;
    if (!les->pretest)
        c->ncounted++;
    push_lesson(&l->all, &l->nall, &l->allcap, les);
}

void loader_intro_add(struct loader *l, const char *path, const char *src, size_t len,
                      size_t body_off, char **html, char **text)
{
    if (l->nintros == l->introcap) {
        l->introcap = l->introcap ? l->introcap * 2 : 8;
        l->intros = xrealloc(l->intros, l->introcap * sizeof(*l->intros));
    }
    l->intros[l->nintros++] = (struct loader_intro){
        .path = xstrdup(path), .html = html, .text = text};
    pool_enter(l);
    l->intros[l->nintros - 1].doc = parse_body(src, len, body_off);
    node_pool_leave();
}

static int cmp_lesson_path(const void *a, const void *b)
{
    return strcmp((*(struct lesson *const *)a)->path, (*(struct lesson *const *)b)->path);
}

/* The lesson whose file is path (relative to the courses folder), or NULL. */
static struct lesson *lesson_by_path(struct loader *l, const char *path)
{
    struct lesson key = {.path = (char *)path}, *kp = &key;
    struct lesson **r =
        l->nall ? bsearch(&kp, l->all, l->nall, sizeof(*l->all), cmp_lesson_path) : NULL;

    return r ? *r : NULL;
}

/* Resolves a relative link target against the folder of from (a file path
 * relative to the courses folder). Returns a new normalised path, or NULL
 * when it climbs above the courses folder. */
static char *resolve_path(const char *from, const char *target, size_t tlen)
{
    char *joined;
    const char *slash = strrchr(from, '/');

    if (slash)
        joined = xasprintf("%.*s/%.*s", (int)(slash - from), from, (int)tlen, target);
    else
        joined = xstrndup(target, tlen);
    /* Normalise: split on '/', drop "." and empty parts, pop on "..". */
    char **parts = xcalloc(strlen(joined) + 1, sizeof(char *));
    size_t np = 0;
    bool bad = false;
    for (char *save = NULL, *p = strtok_r(joined, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (strcmp(p, ".") == 0)
            continue;
        if (strcmp(p, "..") == 0) {
            if (np == 0) {
                bad = true;
                break;
            }
            np--;
            continue;
        }
        parts[np++] = p;
    }
    struct sbuf out = {0};
    for (size_t i = 0; i < np && !bad; i++) {
        if (i)
            sbuf_addc(&out, '/');
        sbuf_adds(&out, parts[i]);
    }
    free(parts);
    free(joined);
    if (bad) {
        sbuf_free(&out);
        return NULL;
    }
    return sbuf_take(&out);
}

/* The line of a node, or of its nearest ancestor that has one. */
static int node_line(cmark_node *n)
{
    int line = 0;

    for (cmark_node *p = n; line == 0 && p; p = cmark_node_parent(p))
        line = cmark_node_get_start_line(p);
    return line;
}

/* A relative link that is not to a lesson: into the course's files/ folder
 * it becomes CATALOG_FILE_HREF "course/name"; into another course or above
 * the courses folder it is an error. Returns true when it was handled. */
static bool resolve_file_link(struct loader *l, const char *path, cmark_node *link,
                              const char *url, bool report)
{
    size_t plen = strcspn(url, "#?");
    char *target = resolve_path(path, url, plen);
    const char *course_end = strchr(path, '/');
    size_t clen = course_end ? (size_t)(course_end - path) : strlen(path);
    bool handled = true;

    if (target == NULL || strncmp(target, path, clen) != 0 || target[clen] != '/') {
        if (report)
            diag_add(l->diags, DIAG_ERROR, path, node_line(link),
                     "link '%s' leads outside the course", url);
        cmark_node_set_url(link, "");
    } else if (strncmp(target + clen, "/files/", 7) == 0) {
        const char *name = target + clen + 7;
        const struct course *c = NULL;
        for (size_t i = 0; i < l->cat->ncourses && c == NULL; i++)
            if (strlen(l->cat->courses[i]->id) == clen &&
                strncmp(l->cat->courses[i]->id, path, clen) == 0)
                c = l->cat->courses[i];
        const struct course_file *f = c ? catalog_file(c, name) : NULL;
        if (f == NULL) {
            if (report)
                diag_add(l->diags, DIAG_ERROR, path, node_line(link), "link to missing file '%s'",
                         url);
            cmark_node_set_url(link, "");
        } else {
            /* A variant's text (01-x.fr.md, course.fr.md) links to the file
             * in its own language where the file has it; the default text
             * links to the file's name, which FILE serves in the reader's
             * language. */
            const char *slash = strrchr(path, '/');
            char lang[LANG_TAG_MAX], *doc_base;
            if (variant_split(slash ? slash + 1 : path, &doc_base, lang)) {
                free(doc_base);
                const struct course_file *v = catalog_file_lang(f, lang);
                if (v != f)
                    name = v->name;
            }
            char *href = xasprintf("%s%s/%s", CATALOG_FILE_HREF, c->id, name);
            cmark_node_set_url(link, href);
            free(href);
        }
    } else {
        handled = false;
    }
    free(target);
    return handled;
}

/* Rewrites one link: disallowed schemes lose their target; a relative link
 * to a .md file becomes the lesson href or an error; one into files/ the
 * file's href. Problems are reported only when report is true; learner
 * says the link sits in text learners read, where a trainer-only lesson's
 * link would lead to a 404. */
static void resolve_link(struct loader *l, const char *path, cmark_node *link, bool report,
                         bool learner)
{
    const char *url = cmark_node_get_url(link);

    if (url == NULL || *url == '\0')
        return;
    if (!render_url_allowed(url)) {
        cmark_node_set_url(link, "");
        return;
    }
    if (strchr(url, ':') || url[0] == '/' || url[0] == '#')
        return;
    size_t plen = strcspn(url, "#?");
    char *target = resolve_path(path, url, plen);
    const char *second = target ? strchr(target, '/') : NULL;
    bool md = plen >= 3 && strncmp(url + plen - 3, ".md", 3) == 0;
    if ((target == NULL && !md) || (second && strncmp(second, "/files/", 7) == 0) || !md) {
        free(target);
        resolve_file_link(l, path, link, url, report);
        return;
    }
    struct lesson *les = target ? lesson_by_path(l, target) : NULL;
    if (les == NULL && target) {
        /* A link to another language's file (02-next.fr.md) is a link to
         * the item: the reader gets it in their own language. */
        char *base = variant_base_path(target);
        les = base ? lesson_by_path(l, base) : NULL;
        free(base);
    }
    if (les == NULL) {
        if (report)
            diag_add(l->diags, DIAG_ERROR, path, node_line(link), "link to missing lesson '%s'",
                     url);
        cmark_node_set_url(link, "");
    } else {
        if (les->trainer && learner && report)
            diag_add(l->diags, DIAG_ERROR, path, node_line(link),
                     "link to trainer-only lesson '%s' in text learners read: put it in a "
                     "```trainer block", url);
        char *href = xasprintf("%s%s", CATALOG_LESSON_HREF, les->full_id);
        cmark_node_set_url(link, href);
        free(href);
    }
    free(target);
}

/* True when n is a trainer block (see render.h). */
static bool is_trainer_block(cmark_node *n)
{
    const char *close = cmark_node_get_type(n) == CMARK_NODE_CUSTOM_BLOCK
                            ? cmark_node_get_on_exit(n) : NULL;
    return close && strcmp(close, RENDER_TRAINER_CLOSE) == 0;
}

/* Resolves every link and image of a document. A trainer document repeats
 * the learner's outside its trainer blocks: only_trainer reports problems
 * inside them alone, so that none is reported twice. */
/* What resolve_links does to one link or image node. */
static void resolve_node(struct loader *l, const char *path, cmark_node *n, bool report,
                         bool learner)
{
    if (cmark_node_get_type(n) == CMARK_NODE_LINK) {
        resolve_link(l, path, n, report, learner);
    } else if (cmark_node_get_type(n) == CMARK_NODE_IMAGE) {
        const char *url = cmark_node_get_url(n);
        if (url && !render_url_allowed(url))
            cmark_node_set_url(n, "");
    }
}

static void resolve_links(struct loader *l, const char *path, cmark_node *doc, bool only_trainer,
                          bool learner)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    int depth = 0;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (is_trainer_block(n))
            depth += ev == CMARK_EVENT_ENTER ? 1 : -1;
        if (ev == CMARK_EVENT_ENTER)
            resolve_node(l, path, n, !only_trainer || depth > 0, learner && depth == 0);
    }
    cmark_iter_free(it);
}

/* Turns each prerequisite as written into a full id, reporting unknown ones. */
static void resolve_prerequisites(struct loader *l, struct lesson *les)
{
    for (size_t i = 0; i < les->nprerequisites; i++) {
        char *p = les->prerequisites[i];
        char *full = strchr(p, '/') ? xstrdup(p) : xasprintf("%s/%s", les->course->id, p);
        if (catalog_lesson(l->cat, full) == NULL)
            diag_add(l->diags, DIAG_ERROR, les->path, les->prerequisite_lines[i],
                     "unknown prerequisite '%s'", p);
        free(p);
        les->prerequisites[i] = full;
    }
}

/* The renderings of every lesson, shared out among threads: each takes the
 * next lesson not yet taken. Rendering only reads a lesson's tree and writes
 * that lesson's own fields, so the threads share nothing else. */
struct render_work {
    const struct loader *l;     /* read only: l->all, l->cat */
    struct lesson **all;
    struct diag_list *diags;    /* one list per lesson, added in order afterwards */
    size_t n;
    size_t next;                /* atomic: the next lesson to take */
};

/* Resolves the lesson's prerequisites and links (its problems go to diags),
 * then renders it and makes its search terms. Reads other lessons' paths,
 * ids and trainer flags, which no thread changes any more. */
/* The text rendering, copied into the pool entered; its length in *len. */
static char *pooled_text(struct cmark_node *doc, const struct render_text_opts *o, size_t *len)
{
    char *heap = render_text_opts(doc, o);

    *len = strlen(heap);
    char *text = node_mem_copy(heap, *len);
    free(heap);
    return text;
}

static void render_one(const struct loader *l, struct lesson *les, struct diag_list *diags,
                       struct search_worker *sw)
{
    struct loader jl = *l;

    jl.diags = diags;
    pool_enter(l);
    lesson_parse_body(&jl, les);
    if (les->nprerequisites)
        resolve_prerequisites(&jl, les);
    /* The learner tree has no trainer blocks: every link is reported and
     * checked as a learner's (resolve_links at depth 0). Their targets are
     * kept for lesson_tree. */
    les->urls = xcalloc(les->nlink_nodes ? les->nlink_nodes : 1, sizeof(*les->urls));
    for (size_t i = 0; i < les->nlink_nodes; i++) {
        resolve_node(&jl, les->path, les->link_nodes[i], true, !les->trainer);
        const char *url = cmark_node_get_url(les->link_nodes[i]);
        les->urls[les->nurls++] = xstrdup(url ? url : "");
    }
    free(les->link_nodes);
    les->link_nodes = NULL;
    les->nlink_nodes = 0;
    if (les->trainer_doc) {
        resolve_links(&jl, les->path, les->trainer_doc, true, false);
        les->trainer_urls = tree_urls(les->trainer_doc, &les->ntrainer_urls);
    }

    struct render_text_opts o = {.width = CATALOG_TEXT_WIDTH, .exercise_id = les->full_id,
                                 .title = les->title, .lang = les->lang};
    /* The search terms are cut in the text rendering's walk of the tree
     * (trainer lessons are not in the search index). */
    if (!les->trainer) {
        o.visit = search_cut_node;
        o.visit_arg = search_cut_begin(sw, les);
    }

    /* The renderings stay in the pool, beside the trees (node_mem_copy). */
    les->html = render_html_node_mem(les->doc);
    les->html_len = strlen(les->html);
    les->text = pooled_text(les->doc, &o, &les->text_len);
    if (!les->trainer)
        search_cut_end(sw, les);
    o.visit = NULL;
    if (les->trainer_doc) {
        les->trainer_html = render_html_node_mem(les->trainer_doc);
        les->trainer_html_len = strlen(les->trainer_html);
        les->trainer_text = pooled_text(les->trainer_doc, &o, &les->trainer_text_len);
        cmark_node_free(les->trainer_doc);
        les->trainer_doc = NULL;
    }
    /* Freed at once: the next lesson's tree is made in the same memory,
     * still in the cache, where a catalogue that kept them all would fault
     * in fresh pages for every one. */
    cmark_node_free(les->doc);
    les->doc = NULL;
    node_pool_leave();
}

static void *render_worker(void *arg)
{
    struct render_work *w = arg;
    struct search_worker *sw = search_worker_new();
    size_t i;

    while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) < w->n)
        render_one(w->l, w->all[i], &w->diags[i], sw);
    search_worker_free(sw);
    return NULL;
}

/* Renders every lesson, with a thread per core (at most
 * LOADER_THREADS_MAX) when there are enough lessons to be worth it; the
 * caller's thread is one of them. */
size_t loader_nthreads(const struct loader *l, size_t n)
{
    long cores = l->threads ? (long)l->threads : sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = n >= LOADER_PARALLEL_MIN && cores > 1 ? (size_t)cores : 1;

    return nthreads > LOADER_THREADS_MAX ? LOADER_THREADS_MAX : nthreads;
}

static void render_all(struct loader *l, struct lesson **all, size_t n)
{
    struct render_work w = {l, all, xcalloc(n ? n : 1, sizeof(*w.diags)), n, 0};
    pthread_t threads[LOADER_THREADS_MAX];
    size_t nthreads = loader_nthreads(l, n), started = 0;

    for (size_t t = 1; t < nthreads; t++)
        if (pthread_create(&threads[started], NULL, render_worker, &w) == 0)
            started++;
    render_worker(&w);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    for (size_t i = 0; i < n; i++)
        diag_list_move(l->diags, &w.diags[i]);
    free(w.diags);
}

void loader_finish(struct loader *l)
{
    if (l->nall)
        qsort(l->all, l->nall, sizeof(*l->all), cmp_lesson_path);
    /* Each lesson's links and prerequisites are resolved (links are
     * rewritten in its own tree), then it is rendered, side by side; their
     * problems are added in path order, as one thread finds them. Variants
     * are linked as their default lessons are, trainer blocks too. */
    render_all(l, l->all, l->nall);
    render_all(l, l->variants, l->nvariants);
    pool_enter(l);
    for (size_t i = 0; i < l->nintros; i++) {
        struct loader_intro *in = &l->intros[i];
        resolve_links(l, in->path, in->doc, false, true);
        *in->html = render_html(in->doc);
        *in->text = render_text(in->doc, NULL, CATALOG_TEXT_WIDTH, false);
        cmark_node_free(in->doc);
        free(in->path);
    }
    node_pool_leave();
    free(l->intros);
    l->intros = NULL;
    l->nintros = l->introcap = 0;
    /* Exercise blocks are found as the lessons are parsed, beside their
     * renderings. */
    for (size_t i = 0; l->cat && i < l->cat->ncourses; i++) {
        struct course *c = l->cat->courses[i];
        c->nexercises = 0;
        for (size_t j = 0; j < c->nlessons; j++)
            c->nexercises += c->lessons[j]->nexercises && !c->lessons[j]->pretest;
    }
}

/* Frees lessons shared out among threads as render_all renders them: a big
 * catalogue is hundreds of thousands of small blocks. */
struct free_work {
    struct lesson **v;
    size_t n;
    size_t next;                /* atomic: the next lesson to take */
};

static void *free_worker(void *arg)
{
    struct free_work *w = arg;
    size_t i;

    while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) < w->n)
        lesson_free(w->v[i]);
    return NULL;
}

void lesson_free_all(struct lesson **v, size_t n)
{
    struct loader none = {0};
    struct free_work w = {v, n, 0};
    pthread_t threads[LOADER_THREADS_MAX];
    size_t nthreads = loader_nthreads(&none, n), started = 0;

    for (size_t t = 1; t < nthreads; t++)
        if (pthread_create(&threads[started], NULL, free_worker, &w) == 0)
            started++;
    free_worker(&w);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
}

void lesson_free(struct lesson *les)
{
    if (les == NULL)
        return;
    free(les->link_nodes);
    free(les->cited);
    free_list(les->urls, les->nurls);
    free_list(les->trainer_urls, les->ntrainer_urls);
    free(les->id);
    free(les->full_id);
    free(les->title);
    free_list(les->objectives, les->nobjectives);
    free_list(les->sources, les->nsources);
    free_list(les->prerequisites, les->nprerequisites);
    free(les->prerequisite_lines);
    free(les->path);
    free(les->markdown);
    node_mem_free(les->html);
    search_terms_free(les->search_terms);
    node_mem_free(les->text);
    free(les->front_matter);
    free_list(les->trainer_tasks, les->ntrainer_blocks);
    free(les->trainer_lines);
    free(les->trainer_ends);
    free(les->learner_markdown);
    node_mem_free(les->trainer_html);
    node_mem_free(les->trainer_text);
    if (les->trainer_doc)
        cmark_node_free(les->trainer_doc);
    free_list(les->citations, les->ncitations);
    for (size_t i = 0; i < les->nexercises; i++)
        free(les->exercises[i].text);
    free(les->exercises);
    for (size_t i = 0; i < les->ntables; i++)
        table_free(les->tables[i]);
    free(les->tables);
    exercise_free(les->exercise);
    for (size_t i = 0; i < les->nvariants; i++)
        lesson_free(les->variants[i]);
    free(les->variants);
    if (les->doc)
        cmark_node_free(les->doc);
    free(les);
}
