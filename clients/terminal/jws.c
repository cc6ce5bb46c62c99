/* jws.c: certificates checked on this machine: strict base64url, the
 * compact JWS (alg EdDSA) verified with OpenSSL against saved issuer keys
 * (a JWK Set), nbf/exp against the clock, and the merge of a server's key
 * set into the saved one. Pure: no sockets, no files. */
#include "campus.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The largest credential read, as the server's own limit. */
#define JWS_MAX (64 * 1024)

int jws_b64url_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
    return b64url_decode(s, len, JWS_MAX, out, outlen);
}

/* The key of kid in a JWK Set, or NULL (owned by set). */
static json_t *set_key(json_t *set, const char *kid)
{
    size_t i;
    json_t *k;

    json_array_foreach(json_object_get(set, "keys"), i, k) {
        const char *id = json_string_value(json_object_get(k, "kid"));
        if (id && kid && strcmp(id, kid) == 0)
            return k;
    }
    return NULL;
}

/* An Ed25519 public key from a JWK (kty OKP, crv Ed25519), or NULL. */
static EVP_PKEY *jwk_key(json_t *k)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *crv = json_string_value(json_object_get(k, "crv"));
    const char *x = json_string_value(json_object_get(k, "x"));
    unsigned char *raw = NULL;
    size_t rl = 0;

    if (!kty || !crv || !x || strcmp(kty, "OKP") != 0 || strcmp(crv, "Ed25519") != 0 ||
        jws_b64url_decode(x, strlen(x), &raw, &rl) < 0)
        return NULL;
    EVP_PKEY *p = rl == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rl) : NULL;
    free(raw);
    return p;
}

static void iso_time(long long s, char out[32])
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Checks the three parts and the header (alg EdDSA, a kid, no crit); sets
 * *d1 and *d2 to the two dots. Returns 0 or -1 with why. */
static int parse_header(const char *jws, size_t len, const char **d1, const char **d2,
                        char *kid, size_t kidlen, char *why, size_t whylen)
{
    unsigned char *h = NULL;
    size_t hl;
    int rc = -1;

    kid[0] = '\0';
    *d1 = memchr(jws, '.', len);
    *d2 = *d1 ? memchr(*d1 + 1, '.', len - (size_t)(*d1 + 1 - jws)) : NULL;
    if (len > JWS_MAX) {
        snprintf(why, whylen, _("malformed: larger than %d bytes"), JWS_MAX);
        return -1;
    }
    if (*d1 == NULL || *d2 == NULL || memchr(*d2 + 1, '.', len - (size_t)(*d2 + 1 - jws))) {
        snprintf(why, whylen, "%s", _("malformed: not a JWS in compact serialisation"));
        return -1;
    }
    if (jws_b64url_decode(jws, (size_t)(*d1 - jws), &h, &hl) < 0) {
        snprintf(why, whylen, "%s", _("malformed: bad base64url in the header"));
        return -1;
    }
    json_t *hdr = json_loadb((char *)h, hl, JSON_REJECT_DUPLICATES, NULL);
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *k = json_string_value(json_object_get(hdr, "kid"));
    if (!json_is_object(hdr) || alg == NULL || strcmp(alg, "EdDSA") != 0)
        snprintf(why, whylen, "%s", _("malformed: header is not JSON with alg EdDSA"));
    else if (json_object_get(hdr, "crit"))
        snprintf(why, whylen, "%s", _("malformed: header names critical extensions"));
    else if (k == NULL || k[0] == '\0' || strlen(k) >= kidlen)
        snprintf(why, whylen, "%s", _("malformed: header has no usable kid"));
    else {
        snprintf(kid, kidlen, "%s", k);
        rc = 0;
    }
    json_decref(hdr);
    free(h);
    return rc;
}

/* The payload between the dots as a JSON object, or NULL with why. */
static json_t *parse_body(const char *d1, const char *d2, char *why, size_t whylen)
{
    unsigned char *p = NULL;
    size_t pl;

    if (jws_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &p, &pl) < 0) {
        snprintf(why, whylen, "%s", _("malformed: bad base64url in the payload"));
        return NULL;
    }
    json_t *doc = json_loadb((char *)p, pl, JSON_REJECT_DUPLICATES, NULL);
    free(p);
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(why, whylen, "%s", _("malformed: payload is not a JSON object"));
        return NULL;
    }
    return doc;
}

int jws_kid(const char *jws, size_t len, char *kid, size_t kidlen, char *why, size_t whylen)
{
    const char *d1, *d2;
    return parse_header(jws, len, &d1, &d2, kid, kidlen, why, whylen);
}

int jws_payload(const char *jws, size_t len, json_t **payload, char *kid, size_t kidlen,
                char *why, size_t whylen)
{
    const char *d1, *d2;

    *payload = NULL;
    if (parse_header(jws, len, &d1, &d2, kid, kidlen, why, whylen) < 0)
        return -1;
    *payload = parse_body(d1, d2, why, whylen);
    return *payload ? 0 : -1;
}

int jws_verify(const char *jws, size_t len, json_t *keys, long long now, json_t **payload,
               char *why, size_t whylen)
{
    char kid[128];
    const char *d1, *d2;
    unsigned char *sig = NULL;
    size_t sl = 0;

    *payload = NULL;
    if (parse_header(jws, len, &d1, &d2, kid, sizeof(kid), why, whylen) < 0)
        return -1;
    /* The payload's encoding is checked before the signature, so that a
     * malformed credential is told as such; its JSON is read after. */
    unsigned char *p = NULL;
    size_t pl;
    if (jws_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &p, &pl) < 0) {
        snprintf(why, whylen, "%s", _("malformed: bad base64url in the payload"));
        return -1;
    }
    free(p);
    if (jws_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jws), &sig, &sl) < 0) {
        snprintf(why, whylen, "%s", _("malformed: bad base64url in the signature"));
        return -1;
    }
    json_t *k = set_key(keys, kid);
    EVP_PKEY *pk = k ? jwk_key(k) : NULL;
    if (pk == NULL) {
        free(sig);
        snprintf(why, whylen, _("unknown issuer key '%.60s'"), kid);
        return -1;
    }
    /* Ed25519 signs the message itself: no digest (NULL), one shot. The
     * payload is read only once the signature holds. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && sl == 64 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)jws, (size_t)(d2 - jws)) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    free(sig);
    if (!ok) {
        snprintf(why, whylen, "%s", _("bad signature"));
        return -1;
    }
    if ((*payload = parse_body(d1, d2, why, whylen)) == NULL)
        return -1;
    json_t *nbf = json_object_get(*payload, "nbf"), *exp = json_object_get(*payload, "exp");
    char when[32];
    if ((nbf && !json_is_integer(nbf)) || (exp && !json_is_integer(exp))) {
        snprintf(why, whylen, "%s", _("malformed: nbf or exp is not a number"));
        return -1;
    }
    if (nbf && json_integer_value(nbf) > now) {
        iso_time(json_integer_value(nbf), when);
        snprintf(why, whylen, _("not valid before %s"), when);
        return -1;
    }
    if (exp && json_integer_value(exp) <= now) {
        iso_time(json_integer_value(exp), when);
        snprintf(why, whylen, _("expired at %s"), when);
        return -1;
    }
    return 0;
}

int jws_keys_merge(json_t *saved, json_t *offered, size_t *added, char *why, size_t whylen)
{
    size_t i;
    json_t *k;
    json_t *list = json_object_get(saved, "keys");

    *added = 0;
    if (!json_is_array(list) || !json_is_array(json_object_get(offered, "keys"))) {
        snprintf(why, whylen, "%s", _("the key set is not a JWK Set"));
        return -1;
    }
    /* First every changed key is refused, so that nothing is half merged. */
    json_array_foreach(json_object_get(offered, "keys"), i, k) {
        const char *kid = json_string_value(json_object_get(k, "kid"));
        const char *x = json_string_value(json_object_get(k, "x"));
        EVP_PKEY *pk = jwk_key(k);
        EVP_PKEY_free(pk);
        if (kid == NULL || x == NULL || pk == NULL) {
            snprintf(why, whylen, "%s", _("the key set holds a key that is not an Ed25519 JWK with a kid"));
            return -1;
        }
        json_t *old = set_key(saved, kid);
        const char *ox = old ? json_string_value(json_object_get(old, "x")) : NULL;
        if (old && (ox == NULL || strcmp(ox, x) != 0)) {
            snprintf(why, whylen, _("issuer key '%.60s' has changed"), kid);
            return -1;
        }
    }
    json_array_foreach(json_object_get(offered, "keys"), i, k) {
        const char *kid = json_string_value(json_object_get(k, "kid"));
        if (set_key(saved, kid))
            continue;
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv",
                                              "Ed25519", "x",
                                              json_string_value(json_object_get(k, "x")), "kid",
                                              kid, "alg", "EdDSA"));
        (*added)++;
    }
    return 0;
}
