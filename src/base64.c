/* base64.c - strict base64 / base64url; see base64.h for what "strict" means. */
#include "base64.h"

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ctct_b64_encoded_len(size_t n, int url) {
  if (url)
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
  return (n + 2) / 3 * 4;
}

size_t ctct_b64_encode(const unsigned char *in, size_t n, char *out, int url) {
  const char *abc = url ? URL : STD;
  size_t i = 0, o = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    out[o++] = abc[v >> 6 & 63];
    out[o++] = abc[v & 63];
  }
  if (n - i == 1) {
    unsigned long v = (unsigned long)in[i] << 16;
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    if (!url) {
      out[o++] = '=';
      out[o++] = '=';
    }
  } else if (n - i == 2) {
    unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    out[o++] = abc[v >> 6 & 63];
    if (!url)
      out[o++] = '=';
  }
  return o;
}

size_t ctct_b64_decoded_max(size_t n) {
  return n / 4 * 3 + 3;
}

static int sextet(unsigned char c, int url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

const char *ctct_b64_decode(const char *in, size_t n, unsigned char *out, size_t *outlen, int url) {
  size_t i, o = 0, data = n;
  unsigned long acc = 0;
  int bits = 0;

  if (!url) {
    if (n % 4 != 0)
      return "base64 length must be a multiple of 4";
    if (n >= 1 && in[n - 1] == '=')
      data--;
    if (n >= 2 && in[n - 2] == '=')
      data--;
  }
  if (data % 4 == 1)
    return url ? "invalid base64url length" : "invalid base64 length";
  for (i = 0; i < data; i++) {
    int v = sextet((unsigned char)in[i], url);
    if (v < 0)
      return url ? "invalid base64url character" : "invalid base64 character";
    acc = (acc << 6 | (unsigned long)v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits & 0xff);
    }
  }
  /* The 2 or 4 bits left over must be zero, or two texts would decode alike. */
  if (bits > 0 && (acc & ((1ul << bits) - 1)) != 0)
    return url ? "non-canonical base64url (unused bits set)" : "non-canonical base64 (unused bits set)";
  *outlen = o;
  return NULL;
}
