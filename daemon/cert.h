/* cert.h: certificates: the issuer's Ed25519 keys and VC-JWT signing
 * (cert.c), and the CERT and VERIFY verbs (cmd-cert.c). */
#ifndef CAMPUS_CERT_H
#define CAMPUS_CERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Below the data dir: current.pem (the signing key, mode 0600) and
 * retired/KID.pem (public keys of earlier ones). */
#define CERT_KEY_DIR "issuer"
/* Retired keys kept at most (each one a public key still trusted). */
#define CERT_KEYS_MAX 64
/* A key id: the RFC 7638 thumbprint, 43 base64url characters. */
#define CERT_KID_MAX 64
/* Bytes of one credential, compact JWS, that VERIFY accepts. */
#define CERT_JWS_MAX 65536
/* Bits in the one status list (status list 1): the credentials it covers.
 * The W3C Bitstring Status List asks for at least 131,072 for privacy. */
#define CERT_STATUS_BITS 131072
/* Reason text of a revocation, bytes. */
#define CERT_REASON_MAX 200

/* Loads the issuer keys from data_dir, making the signing key on first
 * start. Returns 0 or -1 after logging why. */
int cert_keys_load(const char *data_dir);
/* campusd --rotate-issuer-key: keeps the public half of the current key as
 * retired, makes a new signing key. Returns 0 or -1. */
int cert_rotate_key(const char *data_dir);
void cert_keys_free(void);
/* The signing key's id, or NULL before cert_keys_load. Owned by cert.c. */
const char *cert_current_kid(void);
/* Every issuer public key as a JWK Set ({"keys": [...]}), signing key
 * first. Caller decrefs. */
json_t *cert_jwks(void);
/* The payload signed as a compact JWS (header alg EdDSA, typ JWT, kid).
 * Caller frees. */
char *cert_sign(json_t *payload);
/* Checks the compact JWS of len bytes: form, header, a known kid, the
 * Ed25519 signature. Returns 0 with *payload (caller decrefs) and the kid in
 * kid_out (CERT_KID_MAX bytes, may be NULL), or -1 with the reason in why. */
int cert_verify_jws(const char *jws, size_t len, json_t **payload, char *kid_out, char *why,
                    size_t whylen);
/* base64url: b64url_encode and b64url_decode in content/util.h. */

/* cmd-cert.c: answers GET /certificates/ID with the printable page. */
struct evhttp_request;
void cert_page(struct evhttp_request *r, const char *path);

#endif
