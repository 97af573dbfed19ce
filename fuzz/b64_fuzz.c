/* b64_fuzz.c - libFuzzer target for the strict base64/base64url decoders.
 * Properties checked on every input:
 *   - decoding never reads or writes out of bounds (ASan);
 *   - whatever decodes re-encodes to exactly the input (one encoding per byte
 *     string: no padding or unused-bit ambiguity);
 *   - encoding any bytes decodes back to them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base64.h"

static void check_canonical(const char *in, size_t n, int url) {
  unsigned char *out = malloc(ctct_b64_decoded_max(n));
  size_t outlen = 0;
  if (!out)
    abort();
  if (!ctct_b64_decode(in, n, out, &outlen, url)) {
    char *again = malloc(ctct_b64_encoded_len(outlen, url) + 1);
    if (!again)
      abort();
    if (ctct_b64_encode(out, outlen, again, url) != n || memcmp(again, in, n) != 0)
      abort(); /* two encodings of one byte string */
    free(again);
  }
  free(out);
}

static void check_roundtrip(const uint8_t *data, size_t size, int url) {
  size_t len = ctct_b64_encoded_len(size, url), outlen = 0;
  char *text = malloc(len + 1);
  unsigned char *back = malloc(ctct_b64_decoded_max(len));
  if (!text || !back)
    abort();
  if (ctct_b64_encode(data, size, text, url) != len)
    abort();
  if (ctct_b64_decode(text, len, back, &outlen, url) || outlen != size ||
      (size && memcmp(back, data, size) != 0))
    abort();
  free(text);
  free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_canonical((const char *)data, size, 1);
  check_canonical((const char *)data, size, 0);
  check_roundtrip(data, size, 1);
  check_roundtrip(data, size, 0);
  return 0;
}
