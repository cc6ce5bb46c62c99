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

    if (req->origin == REQ_HTTP) {   /* CTP/1 has them in its status text */
        req_meta(req, "lang", p->lang);
        if (p->fallback)
            req_meta(req, "asked", p->asked);
    }
    if (len < n)
        snprintf(msg + len, n - len, p->fallback ? " lang=%s asked=%s" : " lang=%s",
                 p->lang[0] ? p->lang : "-", p->asked);
}

void i18n_vary(struct req *req)
{
    /* The same URL answers in another language for another header, and
     * in gzip for another Accept-Encoding (api.c, http-gzip.c): one Vary
     * names both. */
    if (req->origin == REQ_HTTP && req->http) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req->http);
        evhttp_remove_header(h, "Vary");
        evhttp_add_header(h, "Vary", "Accept-Encoding, Accept-Language");
    }
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
    /* The dispatcher's own answers (cmd.c), which anyone may read. The
     * role keeps its protocol name: it is what USER ROLE takes. */
    { "usage: %s", "utilisation : %s", "uso: %s" },
    { "argument %d holds a NUL byte", "l'argument %d contient un octet NUL",
      "el argumento %d contiene un byte NUL" },
    { "%s is for a learner", "%s est réservé aux apprenants", "%s es solo para participantes" },
    { "%s is for a trainer", "%s est réservé aux formateurs", "%s es solo para formadores" },
    { "%s is for an admin", "%s est réservé aux administrateurs",
      "%s es solo para administradores" },
    { "progress store refuses writes: %s",
      "le stockage des progrès refuse les écritures : %s",
      "el almacén de progreso rechaza las escrituras: %s" },
    { "unknown verb '%s%s' (try HELP)", "verbe inconnu '%s%s' (essayez HELP)",
      "verbo desconocido '%s%s' (pruebe HELP)" },
    { "%s is only for the text protocol", "%s n'existe que dans le protocole texte",
      "%s solo existe en el protocolo de texto" },
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
    /* What else a learner reads: errors about an item, a course file, an
     * attempt, a certificate, a cohort and a live session, progress and
     * attempt summaries, and words the live messages put in them. */
    { "no lesson '%.100s'", "aucune leçon '%.100s'", "no hay ninguna lección '%.100s'" },
    { "no course '%.100s'", "aucun cours '%.100s'", "no hay ningún curso '%.100s'" },
    { "no file '%s' in course '%s'", "aucun fichier '%s' dans le cours '%s'",
      "no hay ningún archivo '%s' en el curso '%s'" },
    { "bad lesson id (use course/lesson, a-z, 0-9 and - on each side of /)",
      "identifiant de leçon invalide (cours/leçon, avec a-z, 0-9 et - de chaque côté du /)",
      "identificador de lección no válido (curso/lección, con a-z, 0-9 y - a cada lado de /)" },
    { "bad course id (use a-z, 0-9 and -)",
      "identifiant de cours invalide (a-z, 0-9 et -)",
      "identificador de curso no válido (a-z, 0-9 y -)" },
    { "bad exercise id (use course/exercise)",
      "identifiant d'exercice invalide (cours/exercice)",
      "identificador de ejercicio no válido (curso/ejercicio)" },
    { "bad exercise id (use a-z, 0-9 and - on each side of /)",
      "identifiant d'exercice invalide (a-z, 0-9 et - de chaque côté du /)",
      "identificador de ejercicio no válido (a-z, 0-9 y - a cada lado de /)" },
    { "bad file name (use name.ext: a-z, 0-9, - and one .)",
      "nom de fichier invalide (nom.ext : a-z, 0-9, - et un .)",
      "nombre de archivo no válido (nombre.ext: a-z, 0-9, - y un .)" },
    { "format must be text, md, html or exercise",
      "le format doit être text, md, html ou exercise",
      "el formato debe ser text, md, html o exercise" },
    { "attempt must be a whole number from 1 (see ATTEMPTS %s)",
      "la tentative est un nombre entier à partir de 1 (voir ATTEMPTS %s)",
      "el intento es un número entero desde 1 (véase ATTEMPTS %s)" },
    { "attempt %ld of this answer no longer grades: %s",
      "la tentative %ld de cette réponse ne se corrige plus : %s",
      "el intento %ld de esta respuesta ya no se puede calificar: %s" },
    { "this key was used for another lesson", "cette clé a servi pour une autre leçon",
      "esta clave se usó para otra lección" },
    { "session ended: %s", "session terminée : %s", "sesión terminada: %s" },
    { "invalid or expired session", "session invalide ou expirée", "sesión no válida o caducada" },
    { "%s %s needs you to log in", "%s %s demande de vous connecter",
      "%s %s requiere iniciar sesión" },
    { "wrong name or password", "nom ou mot de passe incorrect",
      "nombre o contraseña incorrectos" },
    { "wrong password", "mot de passe incorrect", "contraseña incorrecta" },
    { "registration is closed: an admin adds accounts",
      "l'inscription est fermée : un administrateur ajoute les comptes",
      "el registro está cerrado: un administrador crea las cuentas" },
    { "password changed; every other session is logged out",
      "mot de passe changé ; toutes les autres sessions sont déconnectées",
      "contraseña cambiada; se cerraron todas las demás sesiones" },
    { "done %s", "fait : %s", "hecho: %s" },
    { "already done %s", "déjà fait : %s", "ya hecho: %s" },
    { "course %s is complete", "le cours %s est terminé", "el curso %s está completo" },
    { "every course is complete", "tous les cours sont terminés",
      "todos los cursos están completos" },
    { "%s: %zu of %zu lessons done (%zu%%), %d minutes left, %zu of %zu exercises passed",
      "%s : %zu leçons faites sur %zu (%zu %%), %d minutes restantes, %zu exercices réussis sur %zu",
      "%s: %zu de %zu lecciones hechas (%zu %%), quedan %d minutos, %zu de %zu ejercicios aprobados" },
    { "%zu attempt%s, %s left, counted score %.1f (%s)",
      "%zu tentative%s, %s restantes, note retenue %.1f (%s)",
      "%zu intento%s, quedan %s, puntuación que cuenta %.1f (%s)" },
    { "%s is not complete: %zu of %zu lessons needed done, %zu of %zu exercises needed passed",
      "%s n'est pas terminé : %zu leçons faites sur les %zu demandées, %zu exercices réussis sur "
      "les %zu demandés",
      "%s no está completo: %zu de las %zu lecciones exigidas hechas, %zu de los %zu ejercicios "
      "exigidos aprobados" },
    { "invalid: %s", "non valide : %s", "no válida: %s" },
    { "valid", "valide", "válida" },
    { "no credential '%s'", "aucune attestation '%s'", "no hay ninguna credencial '%s'" },
    { "a credential id is a lower-case UUID",
      "l'identifiant d'une attestation est un UUID en minuscules",
      "el identificador de una credencial es un UUID en minúsculas" },
    { "no cohort with that code", "aucune cohorte n'a ce code",
      "ninguna cohorte tiene ese código" },
    { "a cohort id is a number (see COHORT LIST)",
      "l'identifiant d'une cohorte est un nombre (voir COHORT LIST)",
      "el identificador de una cohorte es un número (véase COHORT LIST)" },
    { "no cohort '%s'", "aucune cohorte '%s'", "no hay ninguna cohorte '%s'" },
    { "no cohort '%.20s'", "aucune cohorte '%.20s'", "no hay ninguna cohorte '%.20s'" },
    { "cohort %s is closed to new learners",
      "la cohorte %s n'accepte plus de nouveaux apprenants",
      "la cohorte %s ya no admite nuevos participantes" },
    { "you are not a learner in cohort %s", "vous n'êtes pas apprenant de la cohorte %s",
      "usted no es participante de la cohorte %s" },
    { "too many wrong enrolment codes; retry in %lld seconds",
      "trop de codes d'inscription erronés ; réessayez dans %lld secondes",
      "demasiados códigos de inscripción erróneos; vuelva a intentarlo en %lld segundos" },
    { "COHORT %s is for trainers", "COHORT %s est réservé aux formateurs",
      "COHORT %s es solo para formadores" },
    { "no live session in cohort '%s'", "aucune séance en direct dans la cohorte '%s'",
      "no hay ninguna sesión en directo en la cohorte '%s'" },
    { "no session '%s-%s'", "aucune séance '%s-%s'", "no hay ninguna sesión '%s-%s'" },
    { "no open poll", "aucun sondage ouvert", "no hay ninguna encuesta abierta" },
    { "the poll closed", "le sondage est clos", "la encuesta se cerró" },
    { "LIVE %s is for the cohort's learners", "LIVE %s est réservé aux apprenants de la cohorte",
      "LIVE %s es solo para los participantes de la cohorte" },
    { "LIVE %s is for the cohort's trainers", "LIVE %s est réservé aux formateurs de la cohorte",
      "LIVE %s es solo para los formadores de la cohorte" },
    { "%s is empty", "%s est vide", "falta %s" },
    { "%s is over %d bytes", "%s dépasse %d octets", "%s supera los %d bytes" },
    { "%s holds a control character", "%s contient un caractère de contrôle",
      "%s contiene un carácter de control" },
    { "the answer", "la réponse", "la respuesta" },
    { "the text", "le texte", "el texto" },
    /* What else a learner's own verbs answer: logging in and out, a
     * session resumed, the counts in a listing's status, DONE's and
     * SUBMIT's keys, EXPORT xapi's since, a cohort joined or left, HELP
     * (tests/integration/test_i18n.py reads a row of each kind). */
    { "%s must be a whole number from %lld to %lld",
      "%s doit être un nombre entier de %lld à %lld",
      "%s debe ser un número entero de %lld a %lld" },
    { "server shutting down", "le serveur s'arrête", "el servidor se está deteniendo" },
    { "this account is disabled", "ce compte est désactivé", "esta cuenta está desactivada" },
    { "a name is 3 to 32 of a-z, 0-9, '.', '_' and '-'",
      "un nom compte de 3 à 32 caractères parmi a-z, 0-9, '.', '_' et '-'",
      "un nombre tiene de 3 a 32 caracteres entre a-z, 0-9, '.', '_' y '-'" },
    { "the name '%s' is taken", "le nom '%s' est déjà pris", "el nombre '%s' ya está en uso" },
    { "too many logins at once; retry in a moment",
      "trop de connexions à la fois ; réessayez dans un instant",
      "demasiados inicios de sesión a la vez; vuelva a intentarlo en un momento" },
    { "too many failed logins for this account; retry in %ld seconds",
      "trop de connexions échouées pour ce compte ; réessayez dans %ld secondes",
      "demasiados inicios de sesión fallidos en esta cuenta; vuelva a intentarlo en %ld segundos" },
    { "too many failed logins from your address; retry in %ld seconds",
      "trop de connexions échouées depuis votre adresse ; réessayez dans %ld secondes",
      "demasiados inicios de sesión fallidos desde su dirección; vuelva a intentarlo en %ld "
      "segundos" },
    { "the password was changed meanwhile; try again",
      "le mot de passe a été changé entre-temps ; réessayez",
      "la contraseña se cambió mientras tanto; vuelva a intentarlo" },
    { "a password needs at least 10 bytes", "un mot de passe compte au moins 10 octets",
      "una contraseña necesita al menos 10 bytes" },
    { "a password may have at most 1024 bytes", "un mot de passe compte au plus 1024 octets",
      "una contraseña puede tener como máximo 1024 bytes" },
    { "a password must be UTF-8", "un mot de passe doit être en UTF-8",
      "una contraseña debe estar en UTF-8" },
    { "logged in as %s (%s)", "connecté en tant que %s (%s)", "sesión iniciada como %s (%s)" },
    { "resumed session of %s (%s)", "session de %s reprise (%s)", "sesión de %s reanudada (%s)" },
    { "logged out", "déconnecté", "sesión cerrada" },
    { "that is not a session token of yours", "ce jeton de session n'est pas le vôtre",
      "ese token de sesión no es suyo" },
    { "not logged in", "non connecté", "sin sesión iniciada" },
    { "no courses loaded", "aucun cours chargé", "no hay cursos cargados" },
    { "%zu courses, %zu programmes", "%zu cours, %zu parcours", "%zu cursos, %zu itinerarios" },
    { "%zu programmes", "%zu parcours", "%zu itinerarios" },
    { "%zu courses", "%zu cours", "%zu cursos" },
    { "next: %s", "suivante : %s", "siguiente: %s" },
    { "a key is 1 to %d of A-Z a-z 0-9 . _ : -",
      "une clé compte de 1 à %d caractères parmi A-Z a-z 0-9 . _ : -",
      "una clave tiene de 1 a %d caracteres entre A-Z a-z 0-9 . _ : -" },
    { "at-ms must be a whole number of milliseconds since 1970, not in the future",
      "at-ms doit être un nombre entier de millisecondes depuis 1970, pas dans le futur",
      "at-ms debe ser un número entero de milisegundos desde 1970, no en el futuro" },
    { "since: milliseconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
      "since : des millisecondes, AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SSZ",
      "since: milisegundos, AAAA-MM-DD o AAAA-MM-DDTHH:MM:SSZ" },
    { "a submission key is 1 to %d of A-Z a-z 0-9 . _ : -",
      "une clé de soumission compte de 1 à %d caractères parmi A-Z a-z 0-9 . _ : -",
      "una clave de entrega tiene de 1 a %d caracteres entre A-Z a-z 0-9 . _ : -" },
    { "this submission key was used for another answer (attempt %ld)",
      "cette clé de soumission a servi pour une autre réponse (tentative %ld)",
      "esta clave de entrega se usó para otra respuesta (intento %ld)" },
    { "the stored attempt %ld is unreadable", "la tentative %ld enregistrée est illisible",
      "el intento %ld guardado no se puede leer" },
    { "1 credential", "1 attestation", "1 credencial" },
    { "%zu credentials", "%zu attestations", "%zu credenciales" },
    { "progress store unavailable: revocation cannot be checked",
      "stockage des progrès indisponible : la révocation ne peut pas être vérifiée",
      "almacén de progreso no disponible: no se puede comprobar la revocación" },
    { "joined cohort %s", "inscrit dans la cohorte %s", "inscrito en la cohorte %s" },
    { "already in cohort %s", "déjà dans la cohorte %s", "ya está en la cohorte %s" },
    { "left cohort %s", "sorti de la cohorte %s", "salió de la cohorte %s" },
    { "cohort %s", "cohorte %s", "cohorte %s" },
    { "%zu cohorts", "%zu cohortes", "%zu cohortes" },
    { "cohort:ID takes a cohort id (a number)",
      "cohort:ID prend l'identifiant d'une cohorte (un nombre)",
      "cohort:ID lleva el identificador de una cohorte (un número)" },
    { "no verb '%.32s'", "aucun verbe '%.32s'", "no hay ningún verbo '%.32s'" },
    { "%zu verbs", "%zu verbes", "%zu verbos" },
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
