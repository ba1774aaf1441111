/* json_text — see json_text.h. */
#include "base/json_text.h"

#include <stdlib.h>
#include <string.h>

int cadence_json_text_string(GString *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!g_utf8_validate(s, -1, NULL))
        return -1;
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char)c);
        } else if (c < 0x20) {
            const char *named = c == '\b'   ? "\\b"
                                : c == '\f' ? "\\f"
                                : c == '\n' ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                            : NULL;
            if (named) {
                g_string_append(out, named);
            } else {
                char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                g_string_append(out, u);
            }
        } else {
            g_string_append_c(out, (char)c);
        }
    }
    g_string_append_c(out, '"');
    return 0;
}

char *cadence_json_text_steal(GString *out)
{
    char *text = malloc(out->len + 1);
    if (text)
        memcpy(text, out->str, out->len + 1);
    g_string_free(out, TRUE);
    return text;
}
