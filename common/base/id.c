/* id — see id.h. */
#include "base/id.h"

int cadence_id_valid(const char *s)
{
    if (!s)
        return 0;
    int n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= CADENCE_ID_MAX_LEN)
            return 0;
    }
    return n > 0;
}
