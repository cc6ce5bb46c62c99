/* cert.c: the issuer's Ed25519 keys, and credentials secured as VC-JWT (JWS
 * compact serialisation, alg EdDSA): signing and checking the signature.
 * Everything cryptographic is OpenSSL's EVP API; JSON is jansson's. */
#include "campusd.h"
#include "cert.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One key the issuer has used: the current one holds its private half;
 * retired ones are public only, kept so that what they signed still verifies. */
struct cert_key {
    EVP_PKEY *pkey;
    char kid[CERT_KID_MAX];
    char x[64];                  /* the public key, base64url (43 characters) */
    bool current;
};

static struct cert_key keys[CERT_KEYS_MAX];
static size_t nkeys;


/* ---- keys ---- */

/* Fills k's x and kid: the JWK thumbprint (RFC 7638), SHA-256 of the
 * required members in lexical order, base64url. */
static int key_describe(struct cert_key *k)
{
    unsigned char raw[32], md[32];
    size_t rawlen = sizeof(raw);
    unsigned int mdlen = 0;

    if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1 || rawlen != 32)
        return -1;
    char *x = b64url_encode(raw, rawlen);
    snprintf(k->x, sizeof(k->x), "%s", x);
    char *canon = xasprintf("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
    free(x);
    EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL);
    free(canon);
    char *kid = b64url_encode(md, mdlen);
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    free(kid);
    return 0;
}

static EVP_PKEY *key_generate(void)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Writes pkey (its private half when priv) to path through a temporary
 * file made with mode 0600, then renamed: a crash never leaves half a key. */
static int key_write(const char *path, EVP_PKEY *pkey, bool priv)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok = f != NULL;

    if (f == NULL && fd >= 0)
        close(fd);
    if (ok)
        ok = priv ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
                  : PEM_write_PUBKEY(f, pkey);
    if (f && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        ok = 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        log_error("issuer key %s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

static EVP_PKEY *key_read(const char *path, bool priv)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *pkey = NULL;

    if (f == NULL)
        return NULL;
    pkey = priv ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (pkey && EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static int key_add(EVP_PKEY *pkey, bool current)
{
    if (nkeys == CERT_KEYS_MAX) {
        log_error("issuer keys: more than %d retired keys", CERT_KEYS_MAX);
        EVP_PKEY_free(pkey);
        return -1;
    }
    struct cert_key *k = &keys[nkeys];
    memset(k, 0, sizeof(*k));
    k->pkey = pkey;
    k->current = current;
    if (key_describe(k) < 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }
    nkeys++;
    return 0;
}

static int ensure_dirs(const char *data_dir, char **dir, char **retired)
{
    *dir = xasprintf("%s/" CERT_KEY_DIR, data_dir);
    *retired = xasprintf("%s/" CERT_KEY_DIR "/retired", data_dir);
    if ((mkdir(*dir, 0700) < 0 && errno != EEXIST) ||
        (mkdir(*retired, 0700) < 0 && errno != EEXIST)) {
        log_error("issuer keys: %s: %s", *dir, strerror(errno));
        free(*dir);
        free(*retired);
        return -1;
    }
    return 0;
}

int cert_keys_load(const char *data_dir)
{
    char *dir, *retired;

    cert_keys_free();
    if (ensure_dirs(data_dir, &dir, &retired) < 0)
        return -1;
    char *cur = xasprintf("%s/current.pem", dir);
    int rc = -1;
    struct stat sb;
    EVP_PKEY *pkey = NULL;

    if (stat(cur, &sb) < 0 && errno == ENOENT) {
        /* First start: the issuer gets its key. */
        pkey = key_generate();
        if (pkey == NULL || key_write(cur, pkey, true) < 0)
            goto out;
        log_info("issuer key made in %s", cur);
    } else {
        if ((sb.st_mode & 077) != 0)
            log_warn("issuer key %s is readable by others (mode %o): chmod 600 it",
                     cur, (unsigned)(sb.st_mode & 0777));
        pkey = key_read(cur, true);
        if (pkey == NULL) {
            log_error("issuer key %s: not an Ed25519 private key in PEM", cur);
            goto out;
        }
    }
    if (key_add(pkey, true) < 0)
        goto out;
    pkey = NULL;
    DIR *d = opendir(retired);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0)
            continue;
        char *p = xasprintf("%s/%s", retired, e->d_name);
        EVP_PKEY *pub = key_read(p, false);
        if (pub == NULL)
            log_warn("issuer key %s: not an Ed25519 public key, skipped", p);
        else if (key_add(pub, false) < 0) {
            free(p);
            closedir(d);
            goto out;
        }
        free(p);
    }
    if (d)
        closedir(d);
    log_info("issuer key %s signs; %zu retired key(s) still verify", keys[0].kid, nkeys - 1);
    rc = 0;
out:
    EVP_PKEY_free(pkey);
    free(cur);
    free(dir);
    free(retired);
    return rc;
}

int cert_rotate_key(const char *data_dir)
{
    if (cert_keys_load(data_dir) < 0)
        return -1;
    char *dir, *retired;
    if (ensure_dirs(data_dir, &dir, &retired) < 0)
        return -1;
    char *old = xasprintf("%s/%s.pem", retired, keys[0].kid);
    char *cur = xasprintf("%s/current.pem", dir);
    EVP_PKEY *fresh = key_generate();
    int rc = -1;

    /* The old public key is kept first: if the new key cannot be written,
     * the old one still signs and nothing is lost. */
    if (fresh && key_write(old, keys[0].pkey, false) == 0 && key_write(cur, fresh, true) == 0) {
        struct cert_key k = { .pkey = fresh };
        key_describe(&k);
        printf("issuer key %s retired; %s signs new credentials from the next start\n",
               keys[0].kid, k.kid);
        rc = 0;
    }
    EVP_PKEY_free(fresh);
    free(old);
    free(cur);
    free(dir);
    free(retired);
    cert_keys_free();
    return rc;
}

void cert_keys_free(void)
{
    for (size_t i = 0; i < nkeys; i++)
        EVP_PKEY_free(keys[i].pkey);
    nkeys = 0;
}

const char *cert_current_kid(void)
{
    return nkeys ? keys[0].kid : NULL;
}

json_t *cert_jwks(void)
{
    json_t *list = json_array();

    for (size_t i = 0; i < nkeys; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "kty", "OKP",
                                              "crv", "Ed25519", "x", keys[i].x, "kid",
                                              keys[i].kid, "alg", "EdDSA", "current",
                                              keys[i].current));
    return json_pack("{s:o}", "keys", list);
}

static const struct cert_key *key_by_kid(const char *kid)
{
    for (size_t i = 0; kid && i < nkeys; i++)
        if (strcmp(keys[i].kid, kid) == 0)
            return &keys[i];
    return NULL;
}

/* ---- JWS ---- */

char *cert_sign(json_t *payload)
{
    if (nkeys == 0)
        fatal("cert_sign: no issuer key loaded");
    json_t *hdr = json_pack("{s:s,s:s,s:s}", "alg", "EdDSA", "typ", "JWT", "kid", keys[0].kid);
    char *h = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *p = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *h64 = b64url_encode(h, strlen(h)), *p64 = b64url_encode(p, strlen(p));
    char *input = xasprintf("%s.%s", h64, p64);
    unsigned char sig[64];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    /* Ed25519 hashes internally: no digest is named, and the whole input
     * goes in one call (EdDSA has no streaming update). */
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, keys[0].pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)) != 1)
        fatal("cert_sign: Ed25519 signing failed");
    EVP_MD_CTX_free(ctx);
    char *s64 = b64url_encode(sig, siglen);
    char *jws = xasprintf("%s.%s", input, s64);
    json_decref(hdr);
    free(h);
    free(p);
    free(h64);
    free(p64);
    free(input);
    free(s64);
    return jws;
}

int cert_verify_jws(const char *jws, size_t len, json_t **payload, char *kid_out, char *why,
                    size_t whylen)
{
    const char *d1 = memchr(jws, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws)) : NULL;
    unsigned char *h = NULL, *p = NULL, *sig = NULL;
    size_t hl, pl, sl;
    json_t *hdr = NULL, *doc = NULL;
    int rc = -1;

    *payload = NULL;
    if (len > CERT_JWS_MAX) {
        snprintf(why, whylen, "credential is larger than %d bytes", CERT_JWS_MAX);
        return -1;
    }
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws))) {
        snprintf(why, whylen, "not a JWS in compact serialisation (three base64url parts)");
        return -1;
    }
    if (b64url_decode(jws, (size_t)(d1 - jws), CERT_JWS_MAX, &h, &hl) < 0 ||
        b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), CERT_JWS_MAX, &p, &pl) < 0 ||
        b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jws), CERT_JWS_MAX, &sig, &sl) < 0) {
        snprintf(why, whylen, "malformed base64url");
        goto out;
    }
    hdr = json_loadb((char *)h, hl, JSON_REJECT_DUPLICATES, NULL);
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    if (!json_is_object(hdr) || alg == NULL || strcmp(alg, "EdDSA") != 0) {
        snprintf(why, whylen, "header is not JSON with alg EdDSA");
        goto out;
    }
    if (json_object_get(hdr, "crit")) {
        snprintf(why, whylen, "header names critical extensions this verifier does not know");
        goto out;
    }
    const struct cert_key *k = key_by_kid(kid);
    if (k == NULL) {
        snprintf(why, whylen, "unknown issuer key '%.60s'", kid ? kid : "");
        goto out;
    }
    if (kid_out)
        snprintf(kid_out, CERT_KID_MAX, "%s", k->kid);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && sl == 64 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)jws, (size_t)(d2 - jws)) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        snprintf(why, whylen, "bad signature");
        goto out;
    }
    doc = json_loadb((char *)p, pl, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        snprintf(why, whylen, "payload is not a JSON object");
        goto out;
    }
    *payload = doc;
    doc = NULL;
    rc = 0;
out:
    json_decref(hdr);
    json_decref(doc);
    free(h);
    free(p);
    free(sig);
    return rc;
}
