/* variant.c: language variants of lessons, modules and courses: finding,
 * attaching and checking them against the default file, and lookups. */
#include "catalog.h"
#include "exercise.h"
#include "frontmatter.h"
#include "lang.h"
#include "loader.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A file name's language part: 2 or 3 lower-case letters, then optionally
 * '-' and 2 letters or 3 digits ("fr", "pt-br", "es-419"). Stricter than a
 * language tag so that "case" in "01-x.case.md" is never taken for one. */
static bool file_lang(const char *s, size_t n)
{
    size_t p = 0;

    while (p < n && s[p] >= 'a' && s[p] <= 'z')
        p++;
    if (p < 2 || p > 3)
        return false;
    if (p == n)
        return true;
    if (s[p] != '-' || (n - p - 1 != 2 && n - p - 1 != 3))
        return false;
    bool digits = isdigit((unsigned char)s[p + 1]);
    for (size_t i = p + 1; i < n; i++)
        if (digits ? !isdigit((unsigned char)s[i]) : !(s[i] >= 'a' && s[i] <= 'z'))
            return false;
    return digits ? n - p - 1 == 3 : n - p - 1 == 2;
}

bool variant_split(const char *name, char **base, char lang[LANG_TAG_MAX])
{
    size_t n = strlen(name);

    if (n < 5 || strcmp(name + n - 3, ".md") != 0)
        return false;
    size_t stem = n - 3;
    const char *dot = NULL;
    for (size_t i = stem; i-- > 0;)
        if (name[i] == '.') {
            dot = name + i;
            break;
        }
    if (dot == NULL || dot == name)
        return false;
    size_t ll = (size_t)(name + stem - dot - 1);
    if (ll >= LANG_TAG_MAX || !file_lang(dot + 1, ll))
        return false;
    memcpy(lang, dot + 1, ll);
    lang[ll] = '\0';
    *base = xasprintf("%.*s.md", (int)(dot - name), name);
    return true;
}

bool variant_file_split(const char *name, char **base, char lang[LANG_TAG_MAX])
{
    const char *ext = strrchr(name, '.');

    if (ext == NULL || ext == name)
        return false;
    const char *dot = NULL;
    for (const char *p = ext; p-- > name;)
        if (*p == '.') {
            dot = p;
            break;
        }
    if (dot == NULL || dot == name)
        return false;
    size_t ll = (size_t)(ext - dot - 1);
    if (ll >= LANG_TAG_MAX || !file_lang(dot + 1, ll))
        return false;
    memcpy(lang, dot + 1, ll);
    lang[ll] = '\0';
    *base = xasprintf("%.*s%s", (int)(dot - name), name, ext);
    return true;
}

char *variant_base_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char lang[LANG_TAG_MAX], *base;

    if (!variant_split(name, &base, lang))
        return NULL;
    char *full = xasprintf("%.*s%s", (int)(name - path), path, base);
    free(base);
    return full;
}

void variant_course_languages(struct loader *l, struct course *c, const char *path,
                              char **languages, size_t nlanguages, int line, int language_line)
{
    c->languages = xcalloc(nlanguages + 1, sizeof(*c->languages));
    for (size_t i = 0; i < nlanguages; i++) {
        const char *t = languages[i];
        if (!lang_tag_valid(t, strlen(t))) {
            diag_add(l->diags, DIAG_ERROR, path, line,
                     "languages: '%s' is not a language tag (en, fr, es, pt-BR, ...)", t);
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < c->nlanguages; k++)
            dup = dup || strcasecmp(c->languages[k], t) == 0;
        if (dup) {
            diag_add(l->diags, DIAG_ERROR, path, line, "languages: '%s' is listed twice", t);
            continue;
        }
        c->languages[c->nlanguages++] = xstrdup(t);
    }
    if (c->language[0] && !lang_tag_valid(c->language, strlen(c->language)))
        diag_add(l->diags, DIAG_ERROR, path, language_line,
                 "language: '%s' is not a language tag (en, fr, es, pt-BR, ...)", c->language);
    if (c->language[0] == '\0' && c->nlanguages) {
        /* languages: without language: the first is the default. */
        free(c->language);
        c->language = xstrdup(c->languages[0]);
    }
    bool listed = false;
    for (size_t k = 0; k < c->nlanguages; k++)
        listed = listed || strcasecmp(c->languages[k], c->language) == 0;
    if (!listed && nlanguages)
        diag_add(l->diags, DIAG_ERROR, path, line,
                 "languages: must list the default language '%s'", c->language);
    if (!listed && c->language[0]) {
        /* The default is always one of the languages, and comes first. */
        memmove(c->languages + 1, c->languages, c->nlanguages * sizeof(*c->languages));
        c->languages[0] = xstrdup(c->language);
        c->nlanguages++;
    }
}

/* The course's own spelling of tag, or NULL when it is not one of its
 * languages. */
static const char *course_tag(const struct course *c, const char *tag)
{
    for (size_t k = 0; k < c->nlanguages; k++)
        if (strcasecmp(c->languages[k], tag) == 0)
            return c->languages[k];
    return NULL;
}

/* Checks that a variant's language is one of the course's other languages.
 * Returns the course's spelling, or NULL after reporting. */
static const char *variant_lang_ok(struct loader *l, const struct course *c, const char *path,
                                   const char *lang)
{
    const char *t = course_tag(c, lang);

    if (t == NULL) {
        diag_add(l->diags, DIAG_ERROR, path, 0,
                 "language '%s' is not in course.md's languages: (add it there)", lang);
        return NULL;
    }
    if (strcasecmp(t, c->language) == 0) {
        diag_add(l->diags, DIAG_ERROR, path, 0,
                 "'%s' is the course's default language: its text goes in the file without a "
                 "language part", lang);
        return NULL;
    }
    return t;
}

void variant_text_add(struct loader *l, struct course *c, struct module *m, const char *path,
                      const char *lang, const char *src, size_t len)
{
    const char *tag = variant_lang_ok(l, c, path, lang);
    struct front_matter fm;

    if (tag == NULL)
        return;
    /* A course.LL.md holds only what is read: title, summary, introduction.
     * Ids, version and completion stay in course.md. */
    fm_parse(&fm, FM_MODULE, src, len, path, l->diags);
    struct text_variant **v = m ? &m->variants : &c->variants;
    size_t *n = m ? &m->nvariants : &c->nvariants;
    /* The intro's renderings are written through pointers into this array
     * later (loader_finish): it is sized once and never moves. One file per
     * language, and never the default's, so nlanguages is room enough. */
    if (*v == NULL)
        *v = xcalloc(c->nlanguages, sizeof(**v));
    if (*n >= c->nlanguages)
        abort(); /* one file per language: cannot happen */
    struct text_variant *t = &(*v)[(*n)++];
    memset(t, 0, sizeof(*t));
    t->lang = tag;
    t->title = xstrdup(fm.title ? fm.title : m ? m->title : c->title);
    t->summary = xstrdup(fm.summary ? fm.summary : m ? m->summary : c->summary);
    loader_intro_add(l, path, src, len, fm.present ? fm.body_off : 0, &t->intro_html,
                     &t->intro_text);
    fm_free(&fm);
}

void text_variant_free(struct text_variant *v)
{
    free(v->title);
    free(v->summary);
    free(v->intro_html);
    free(v->intro_text);
}

void variant_lesson_add(struct loader *l, struct course *c, struct module *m, const char *path,
                        const char *base_name, const char *lang, char *src, size_t len,
                        struct lesson *parsed, struct diag_list *parsed_diags)
{
    char *base_path = xasprintf("%s/%s", m->path, base_name);
    struct lesson *base = NULL;
    const char *tag;

    for (size_t i = 0; i < m->nlessons && base == NULL; i++)
        if (strcmp(m->lessons[i]->path, base_path) == 0)
            base = m->lessons[i];
    for (size_t i = 0; i < m->ntrainer_lessons && base == NULL; i++)
        if (strcmp(m->trainer_lessons[i]->path, base_path) == 0)
            base = m->trainer_lessons[i];
    free(base_path);
    if (parsed && (base == NULL || parsed->number != base->number ||
                   strcmp(parsed->id, base->id) != 0 || parsed->is_case != base->is_case)) {
        /* Parsed ahead as some other file: parse it again here. */
        src = parsed->markdown;
        len = parsed->markdown_len;
        parsed->markdown = NULL;
        lesson_free(parsed);
        diag_list_clear(parsed_diags);
        parsed = NULL;
    }
    if (base == NULL) {
        diag_add(l->diags, DIAG_ERROR, path, 0,
                 "a language variant of '%s', which is missing: the default file comes first",
                 base_name);
        free(src);
        return;
    }
    if ((tag = variant_lang_ok(l, c, path, lang)) == NULL) {
        free(src);
        lesson_free(parsed);
        if (parsed_diags)
            diag_list_clear(parsed_diags);
        return;
    }
    struct lesson *v;
    if (parsed) {
        diag_list_move(l->diags, parsed_diags);
        v = parsed;
        v->module = m;
    } else {
        v = lesson_parse(l, c, m, path, src, len, base->number, base->id, base->is_case);
    }
    biblio_mark_cited(c, v);
    v->lang = tag;
    v->base = base;
    /* Who sees the item is the item's: the default file's. */
    if (v->trainer != base->trainer)
        diag_add(l->diags, DIAG_ERROR, path, v->front_matter_line,
                 "trainer: %s, the default file says %s (a variant keeps who sees it)",
                 v->trainer ? "true" : "false", base->trainer ? "true" : "false");
    if (v->pretest != base->pretest)
        diag_add(l->diags, DIAG_ERROR, path, v->front_matter_line,
                 "pretest: %s, the default file says %s (a variant keeps what counts)",
                 v->pretest ? "true" : "false", base->pretest ? "true" : "false");
    v->trainer = base->trainer;
    v->pretest = base->pretest;
    v->index = base->index;
    /* Prerequisites and neighbours are the item's: the default file's. */
    for (size_t i = 0; i < v->nprerequisites; i++)
        free(v->prerequisites[i]);
    free(v->prerequisites);
    free(v->prerequisite_lines);
    v->prerequisites = NULL;
    v->prerequisite_lines = NULL;
    v->nprerequisites = 0;
    if (v->minutes != base->minutes)
        diag_add(l->diags, DIAG_WARNING, path, v->front_matter_line,
                 "minutes: %d, the default file says %d (the default's count)", v->minutes,
                 base->minutes);
    v->minutes = base->minutes;
    /* Keep the variants in the order of the course's languages. */
    base->variants = xrealloc(base->variants, (base->nvariants + 1) * sizeof(*base->variants));
    size_t at = base->nvariants;
    size_t rank = 0;
    for (size_t k = 0; k < c->nlanguages; k++)
        if (c->languages[k] == tag)
            rank = k;
    while (at > 0) {
        size_t prank = 0;
        for (size_t k = 0; k < c->nlanguages; k++)
            if (c->languages[k] == base->variants[at - 1]->lang)
                prank = k;
        if (prank < rank)
            break;
        base->variants[at] = base->variants[at - 1];
        at--;
    }
    base->variants[at] = v;
    base->nvariants++;
    if (l->nvariants == l->variantcap) {
        l->variantcap = l->variantcap ? l->variantcap * 2 : 8;
        l->variants = xrealloc(l->variants, l->variantcap * sizeof(*l->variants));
    }
    l->variants[l->nvariants++] = v;
}

/* ---- the check: a variant keeps the default's exercises and keys ---- */

/* Reports the first difference as an error under the variant's path at the
 * variant task's line. */
struct cmp {
    struct loader *l;
    const char *path;
    const char *base_path;
    bool differ;
};

static void __attribute__((format(printf, 3, 4)))
differ(struct cmp *c, int line, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (c->differ)
        return;                 /* one error per variant is enough to act on */
    c->differ = true;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    diag_add(c->l->diags, DIAG_ERROR, c->path, line, "%s (as %s has it)", msg, c->base_path);
    free(msg);
}

static bool num_eq(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(a) > 1 ? fabs(a) : 1);
}

static void cmp_questions(struct cmp *c, const char *tid, int line, const struct gift_quiz *a,
                          const struct gift_quiz *b)
{
    if (a->n != b->n) {
        differ(c, line, "task %s: %zu questions where the default has %zu", tid, b->n, a->n);
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct gift_question *x = &a->q[i], *y = &b->q[i];
        if (x->type != y->type) {
            differ(c, y->line, "task %s: question %zu is %s, the default's is %s", tid, i + 1,
                   gift_type_name(y->type), gift_type_name(x->type));
            return;
        }
        if (x->type == GIFT_TRUEFALSE && x->truth != y->truth) {
            differ(c, y->line, "task %s: question %zu has the other truth value", tid, i + 1);
            return;
        }
        /* Short answers are words, and words are translated; every other
         * kind keeps its options, weights and numbers. */
        if (x->type == GIFT_SHORT)
            continue;
        if (x->nanswers != y->nanswers) {
            differ(c, y->line, "task %s: question %zu has %zu options where the default has %zu",
                   tid, i + 1, y->nanswers, x->nanswers);
            return;
        }
        for (size_t k = 0; k < x->nanswers; k++) {
            const struct gift_answer *p = &x->answers[k], *q = &y->answers[k];
            if (!num_eq(p->weight, q->weight)) {
                differ(c, y->line, "task %s: question %zu, option %zu weighs %g%%, the default's %g%%",
                       tid, i + 1, k + 1, q->weight, p->weight);
                return;
            }
            if (x->type == GIFT_NUMERICAL && (!num_eq(p->value, q->value) || !num_eq(p->tol, q->tol))) {
                differ(c, y->line, "task %s: question %zu accepts %g +- %g, the default %g +- %g",
                       tid, i + 1, q->value, q->tol, p->value, p->tol);
                return;
            }
        }
    }
}

static void cmp_task(struct cmp *c, const struct task *a, const struct task *b)
{
    if (strcmp(a->id, b->id) != 0 || a->type != b->type) {
        differ(c, b->line, "task %s (%s) where the default has task %s (%s)", b->id,
               task_type_name(b->type), a->id, task_type_name(a->type));
        return;
    }
    if (!num_eq(a->weight, b->weight)) {
        differ(c, b->line, "task %s weighs %g, the default's %g", b->id, b->weight, a->weight);
        return;
    }
    switch (a->type) {
    case TASK_ORDER:
    case TASK_CLASSIFY:
        if (a->nitems != b->nitems || a->ncats != b->ncats) {
            differ(c, b->line, "task %s: %zu items and %zu categories where the default has %zu and %zu",
                   b->id, b->nitems, b->ncats, a->nitems, a->ncats);
            return;
        }
        for (size_t i = 0; i < a->ncats; i++)
            if (strcmp(a->cats[i].key, b->cats[i].key) != 0) {
                differ(c, b->line, "task %s: category key '%s' where the default has '%s'", b->id,
                       b->cats[i].key, a->cats[i].key);
                return;
            }
        for (size_t i = 0; a->type == TASK_CLASSIFY && i < a->nitems; i++)
            if (strcmp(a->items[i].category, b->items[i].category) != 0) {
                differ(c, b->line, "task %s: item %zu belongs to '%s', in the default to '%s'",
                       b->id, i + 1, b->items[i].category, a->items[i].category);
                return;
            }
        break;
    case TASK_NUMERIC:
    case TASK_NETWORK:
        if (!num_eq(a->expected, b->expected) || !num_eq(a->tol, b->tol) ||
            a->tol_relative != b->tol_relative) {
            differ(c, b->line, "task %s expects %g (tolerance %g%s), the default %g (%g%s)",
                   b->id, b->expected, b->tol, b->tol_relative ? "%" : "", a->expected, a->tol,
                   a->tol_relative ? "%" : "");
            return;
        }
        if (a->type == TASK_NETWORK && a->net_question != b->net_question) {
            differ(c, b->line, "task %s asks another network question", b->id);
            return;
        }
        break;
    case TASK_RUBRIC:
        if (a->rubric.n != b->rubric.n) {
            differ(c, b->line, "task %s: %zu concepts where the default has %zu", b->id,
                   b->rubric.n, a->rubric.n);
            return;
        }
        for (size_t i = 0; i < a->rubric.n; i++)
            if (!num_eq(a->rubric.concepts[i].points, b->rubric.concepts[i].points)) {
                differ(c, b->line, "task %s: concept %zu is worth %g, the default's %g", b->id,
                       i + 1, b->rubric.concepts[i].points, a->rubric.concepts[i].points);
                return;
            }
        break;
    case TASK_REVIEW:
        if (!num_eq(task_points(a), task_points(b))) {
            differ(c, b->line, "task %s is marked on %g points, the default on %g", b->id,
                   task_points(b), task_points(a));
            return;
        }
        break;
    case TASK_GIFT:
    case TASK_POOL:
        if (a->draw != b->draw) {
            differ(c, b->line, "task %s draws %zu questions, the default %zu", b->id, b->draw,
                   a->draw);
            return;
        }
        cmp_questions(c, b->id, b->line, &a->quiz, &b->quiz);
        break;
    }
}

static void cmp_exercise(struct cmp *c, const struct exercise *a, const struct exercise *b)
{
    if (a->attempts != b->attempts || !num_eq(a->pass, b->pass) || a->policy != b->policy ||
        !num_eq(a->weight, b->weight)) {
        differ(c, 1, "exercise settings differ: attempts, pass, policy and weight are the default's");
        return;
    }
    if (a->ntasks != b->ntasks) {
        differ(c, b->ntasks ? b->tasks[0]->line : 1, "%zu tasks where the default has %zu",
               b->ntasks, a->ntasks);
        return;
    }
    for (size_t i = 0; i < a->ntasks && !c->differ; i++)
        cmp_task(c, a->tasks[i], b->tasks[i]);
}

/* A variant's rubric concepts keep their own words and gain the default's,
 * so an answer in either language finds them (rubric synonyms per
 * language, one key). */
static void merge_synonyms(struct exercise *v, const struct exercise *d)
{
    for (size_t i = 0; i < v->ntasks && i < d->ntasks; i++) {
        struct rubric *r = &v->tasks[i]->rubric;
        const struct rubric *dr = &d->tasks[i]->rubric;
        if (v->tasks[i]->type != TASK_RUBRIC)
            continue;
        for (size_t k = 0; k < r->n && k < dr->n; k++) {
            struct rubric_concept *rc = &r->concepts[k];
            const struct rubric_concept *dc = &dr->concepts[k];
            rc->words = xrealloc(rc->words, (rc->nwords + dc->nwords) * sizeof(*rc->words));
            for (size_t w = 0; w < dc->nwords; w++)
                rc->words[rc->nwords++] = xstrdup(dc->words[w]);
        }
    }
}

void variant_finish(struct loader *l)
{
    for (size_t i = 0; i < l->nvariants; i++) {
        struct lesson *v = l->variants[i], *b = v->base;
        struct cmp c = {.l = l, .path = v->path, .base_path = b->path};
        lesson_build_exercise(l, v);
        if ((b->nexercises == 0) != (v->nexercises == 0))
            differ(&c, 1, "%s exercise blocks where the default has %s",
                   v->nexercises ? "has" : "has no", b->nexercises ? "some" : "none");
        else if (b->exercise && v->exercise)
            cmp_exercise(&c, b->exercise, v->exercise);
        if (!c.differ && b->exercise && v->exercise)
            merge_synonyms(v->exercise, b->exercise);
        for (size_t t = 0; v->exercise && t < v->exercise->ntasks; t++)
            v->exercise->tasks[t]->rubric.lang = v->lang;
    }
    free(l->variants);
    l->variants = NULL;
    l->nvariants = l->variantcap = 0;
    for (size_t i = 0; i < l->cat->ncourses; i++) {
        const struct course *c = l->cat->courses[i];
        for (size_t j = 0; j < c->nlessons + c->ntrainer_lessons; j++) {
            const struct lesson *les = j < c->nlessons ? c->lessons[j]
                                                       : c->trainer_lessons[j - c->nlessons];
            for (size_t k = 0; k < c->nlanguages; k++) {
                const char *t = c->languages[k];
                if (t == c->language || strcasecmp(t, c->language) == 0 ||
                    catalog_lesson_lang(les, t) != les)
                    continue;
                diag_add(l->diags, DIAG_WARNING, les->path, 0,
                         "no '%s' variant: a reader in %s gets the %s text", t, t, c->language);
            }
        }
    }
}

/* ---- course files ---- */

void course_file_free(struct course_file *f)
{
    for (size_t i = 0; i < f->nvariants; i++)
        course_file_free(&f->variants[i]);
    free(f->variants);
    free(f->name);
    free(f->content_type);
    free(f->data);
}

static size_t lang_rank(const struct course *c, const char *tag)
{
    for (size_t k = 0; k < c->nlanguages; k++)
        if (c->languages[k] == tag)
            return k;
    return c->nlanguages;
}

void variant_files(struct loader *l, struct course *c)
{
    size_t keep = 0;
    const char *deflang = c->language ? c->language : "";

    /* The variants out, then the defaults kept in order, so that a variant
     * finds its default whatever the order of the names. */
    struct course_file *pending = NULL;
    size_t npending = 0;
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].name_lang[0]) {
            pending = xrealloc(pending, (npending + 1) * sizeof(*pending));
            pending[npending++] = c->files[i];
        }
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].name_lang[0] == '\0') {
            c->files[i].lang = deflang;
            c->files[keep++] = c->files[i];
        }
    c->nfiles = keep;
    for (size_t i = 0; i < npending; i++) {
        struct course_file *v = &pending[i];
        char *rel = xasprintf("%s/files/%s", c->path, v->name);
        char *base_name, lang[LANG_TAG_MAX];
        struct course_file *base = NULL;
        if (variant_file_split(v->name, &base_name, lang)) {
            for (size_t k = 0; k < c->nfiles && base == NULL; k++)
                if (strcmp(c->files[k].name, base_name) == 0)
                    base = &c->files[k];
            if (base == NULL)
                diag_add(l->diags, DIAG_ERROR, rel, 0,
                         "a language variant of '%s', which is missing: the default file comes "
                         "first", base_name);
            free(base_name);
        }
        const char *tag = base ? variant_lang_ok(l, c, rel, v->name_lang) : NULL;
        free(rel);
        if (tag == NULL) {
            course_file_free(v);
            continue;
        }
        v->lang = tag;
        base->variants = xrealloc(base->variants, (base->nvariants + 1) * sizeof(*base->variants));
        size_t at = base->nvariants;
        while (at > 0 && lang_rank(c, base->variants[at - 1].lang) > lang_rank(c, tag)) {
            base->variants[at] = base->variants[at - 1];
            at--;
        }
        base->variants[at] = *v;
        base->nvariants++;
    }
    free(pending);
    for (size_t i = 0; i < c->nfiles; i++) {
        const struct course_file *f = &c->files[i];
        for (size_t k = 0; k < c->nlanguages; k++) {
            const char *t = c->languages[k];
            if (strcasecmp(t, deflang) == 0 || catalog_file_lang(f, t) != f)
                continue;
            char *rel = xasprintf("%s/files/%s", c->path, f->name);
            diag_add(l->diags, DIAG_WARNING, rel, 0,
                     "no '%s' variant: a reader in %s gets the %s file", t, t, deflang);
            free(rel);
        }
    }
}

/* ---- lookups ---- */

const struct course_file *catalog_file_lang(const struct course_file *f, const char *lang)
{
    for (size_t i = 0; lang && i < f->nvariants; i++)
        if (strcasecmp(f->variants[i].lang, lang) == 0)
            return &f->variants[i];
    return f;
}

const struct lesson *catalog_lesson_lang(const struct lesson *lesson, const char *lang)
{
    if (lang == NULL || lesson->base)
        return lesson;
    for (size_t i = 0; i < lesson->nvariants; i++)
        if (strcasecmp(lesson->variants[i]->lang, lang) == 0)
            return lesson->variants[i];
    return lesson;
}

static const struct text_variant *text_in(const struct text_variant *v, size_t n,
                                          const char *lang)
{
    for (size_t i = 0; lang && i < n; i++)
        if (strcasecmp(v[i].lang, lang) == 0)
            return &v[i];
    return NULL;
}

const struct text_variant *catalog_course_text(const struct course *c, const char *lang)
{
    return text_in(c->variants, c->nvariants, lang);
}

const struct text_variant *catalog_module_text(const struct module *m, const char *lang)
{
    return text_in(m->variants, m->nvariants, lang);
}

const char *catalog_course_lang(const struct course *c, const char *range)
{
    int k = range ? lang_lookup((const char *const *)c->languages, c->nlanguages, range) : -1;

    return k < 0 ? NULL : c->languages[k];
}
