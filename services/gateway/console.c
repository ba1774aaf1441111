/*
 * console — the web console's static files (index.html, style.css and the scripts: session.js,
 * app.js, rep.js, outcome.js, stats.js), read from
 * services/gateway/console under CADENCE_DATA_DIR on every request: no build step, no cache to
 * go stale. Only the files of the table can be served; no path from the request reaches the
 * file system. The page itself asks for a token and calls the API with it.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"

static const struct {
    const char *path;
    const char *file;
    const char *type;
} files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/session.js", "session.js", "text/javascript; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/rep.js", "rep.js", "text/javascript; charset=utf-8"},
    {"/outcome.js", "outcome.js", "text/javascript; charset=utf-8"},
    {"/stats.js", "stats.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

void gw_console_file(gateway *g, struct evhttp_request *req, const char *route)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(path, files[i].path) != 0)
            continue;
        char full[700];
        snprintf(full, sizeof(full), "%s/%s", g->console_dir, files[i].file);
        int fd = open(full, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            if (fd >= 0)
                close(fd);
            gw_reply_error(g, req, route, 404, "console file missing");
            return;
        }
        /* Small files: read them whole (no mmap of empty files, no descriptor kept). */
        struct evbuffer *out = evbuffer_new();
        int rc = out ? 0 : -1;
        for (off_t left = st.st_size; rc == 0 && left > 0;) {
            int got = evbuffer_read(out, fd, (int)(left > 65536 ? 65536 : left));
            if (got <= 0)
                rc = -1;
            else
                left -= got;
        }
        close(fd);
        if (rc != 0) {
            if (out)
                evbuffer_free(out);
            gw_reply_error(g, req, route, 500, "cannot read console file");
            return;
        }
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", files[i].type);
        evhttp_add_header(h, "Cache-Control", "no-cache");
        evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
        evhttp_add_header(h, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        gw_count(g, route, 200);
        evhttp_send_reply(req, 200, "OK", out);
        evbuffer_free(out);
        return;
    }
    gw_reply_error(g, req, route, 404, "no such file");
}
