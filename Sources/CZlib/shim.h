// zlib. inflateInit2 is a macro that Swift cannot import; re-export it as a function.
#include <zlib.h>

static inline int sbn_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
