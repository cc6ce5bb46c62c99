/* i18n.c: which language a learner reads a course in, and the server's own
 * messages to them in English, French or Spanish. */
#include "campusd.h"

#include "catalog.h"

#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- the learner's language ---- */

/* What the learner asked for, by precedence: the request's lang=, the
 * account's LANG, then (HTTP) Accept-Language. The request's own argument
 * comes first: a learner whose account says French and who asks for one
 * lesson in Spanish means that lesson, and the account keeps its setting. */
void i18n_pick(struct req *req, const struct course *c, struct lang_pick *p)
{
    const char *want = req->lang_arg[0] ? req->lang_arg
                     : req->lang_account[0] ? req->lang_account : NULL;

    memset(p, 0, sizeof(*p));
    p->lang = c->language;
    if (want) {
        snprintf(p->asked, sizeof(p->asked), "%s", want);
        const char *t = catalog_course_lang(c, want);
        if (t)
            p->lang = t;
        else
            p->fallback = true;
        return;
    }
    if (req->accept_language && c->nlanguages) {
        int k = lang_accept(req->accept_language, (const char *const *)c->languages,
                            c->nlanguages, -1);
        if (k >= 0)
            p->lang = c->languages[k];
        /* A header is a wish list, not a request: serving the default when
         * nothing on it matches is no fallback to report. */
    }
}

const struct lesson *i18n_lesson(const struct lesson *l, struct lang_pick *p)
{
    const struct lesson *v = catalog_lesson_lang(l, p->lang);

    if (strcasecmp(v->lang, p->lang) != 0) {
        /* The course has the language, this item does not (yet). */
        if (p->asked[0] == '\0')
            snprintf(p->asked, sizeof(p->asked), "%s", p->lang);
        p->fallback = true;
        p->lang = v->lang;
    }
    return v;
}

void i18n_meta(struct req *req, const struct lang_pick *p, char *msg, size_t n)
{
    size_t len = strlen(msg);

    req_meta(req, "lang", p->lang);
    if (p->fallback)
        req_meta(req, "asked", p->asked);
    if (len < n)
        snprintf(msg + len, n - len, p->fallback ? " lang=%s asked=%s" : " lang=%s",
                 p->lang[0] ? p->lang : "-", p->asked);
}

void i18n_vary(struct req *req)
{
    /* The same URL answers in another language for another header. */
    if (req->origin == REQ_HTTP && req->http)
        evhttp_add_header(evhttp_request_get_output_headers(req->http), "Vary",
                          "Accept-Language");
}

/* ---- the server's messages ---- */

static const char *const msg_langs[] = { "en", "fr", "es" };

const char *i18n_msg_lang(const struct req *req)
{
    const char *want = req->lang_arg[0] ? req->lang_arg
                     : req->lang_account[0] ? req->lang_account : NULL;
    int k;

    if (want)
        k = lang_lookup(msg_langs, 3, want);
    else
        k = lang_accept(req->accept_language, msg_langs, 3, 0);
    return msg_langs[k < 0 ? 0 : k];
}

/* The messages a learner reads: errors about what they asked for, a
 * module still locked, an answer refused. Keyed by the English format as
 * the code writes it; each translation has the same conversions in the same
 * order (tests/unit/test_i18n.c checks). A message missing here is sent in
 * English. Operators' and trainers' messages stay English. */
static const struct {
    const char *en, *fr, *es;
} catalogue[] = {
    { REQ_STORE_UNAVAILABLE,
      "stockage des progrès indisponible",
      "almacén de progreso no disponible" },
    { "no course '%s'", "aucun cours '%s'", "no hay ningún curso '%s'" },
    { "no lesson '%s'", "aucune leçon '%s'", "no hay ninguna lección '%s'" },
    { "no exercise '%s'", "aucun exercice '%s'", "no hay ningún ejercicio '%s'" },
    { "no attempt %ld at %s", "aucune tentative %ld à %s", "no hay intento %ld en %s" },
    { "no attempts left at %s", "plus aucune tentative à %s", "no quedan intentos en %s" },
    { "%s needs you to log in", "%s demande de vous connecter", "%s requiere iniciar sesión" },
    { "SUBMIT needs you to log in", "SUBMIT demande de vous connecter",
      "SUBMIT requiere iniciar sesión" },
    { "module %s opens on %s (%s)", "le module %s ouvre le %s (%s)",
      "el módulo %s abre el %s (%s)" },
    { "cohort %s is closed: no more submissions",
      "la cohorte %s est close : plus de soumissions",
      "la cohorte %s está cerrada: no se aceptan más entregas" },
    { "an answer must be UTF-8 text", "une réponse doit être du texte UTF-8",
      "una respuesta debe ser texto UTF-8" },
    { "answer too large: %zu bytes, at most %ld",
      "réponse trop longue : %zu octets, au plus %ld",
      "respuesta demasiado larga: %zu bytes, como máximo %ld" },
    { "answer to task %s too large: %zu bytes, at most %ld",
      "réponse à la tâche %s trop longue : %zu octets, au plus %ld",
      "respuesta a la tarea %s demasiado larga: %zu bytes, como máximo %ld" },
    { "an answer holds a control character (byte %zu)",
      "une réponse contient un caractère de contrôle (octet %zu)",
      "una respuesta contiene un carácter de control (byte %zu)" },
    { "bad language tag (use en, fr, es, fr-CA, ...)",
      "étiquette de langue invalide (en, fr, es, fr-CA, ...)",
      "etiqueta de idioma no válida (en, fr, es, fr-CA, ...)" },
    { "format must be text, md or html", "le format doit être text, md ou html",
      "el formato debe ser text, md o html" },
    { "format must be text or json", "le format doit être text ou json",
      "el formato debe ser text o json" },
    { "language set to %s", "langue choisie : %s", "idioma elegido: %s" },
    { "language unset: courses come in their default language",
      "langue effacée : les cours viennent dans leur langue par défaut",
      "idioma borrado: los cursos llegan en su idioma por defecto" },
};

#define CATALOGUE_N (sizeof(catalogue) / sizeof(catalogue[0]))

const char *i18n_fmt(const char *lang, const char *fmt)
{
    if (lang == NULL || strcmp(lang, "en") == 0)
        return fmt;
    bool fr = strcmp(lang, "fr") == 0;
    for (size_t i = 0; i < CATALOGUE_N; i++)
        if (strcmp(catalogue[i].en, fmt) == 0)
            return fr ? catalogue[i].fr : catalogue[i].es;
    return fmt;
}

size_t i18n_catalogue_size(void)
{
    return CATALOGUE_N;
}

void i18n_catalogue_entry(size_t i, const char **en, const char **fr, const char **es)
{
    *en = catalogue[i].en;
    *fr = catalogue[i].fr;
    *es = catalogue[i].es;
}
