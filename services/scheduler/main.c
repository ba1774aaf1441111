/*
 * cadence-scheduler — hands out every due touch once, on time, to touches-due.v1.
 *
 * Until issue #7 fills it in, this binary validates its configuration and exits; it does no
 * processing, and --help says so.
 */
#include "config.h"
#include "log.h"
#include "service.h"

int main(int argc, char **argv)
{
    static const cadence_service_info info = {
        "scheduler",
        "cadence-scheduler",
        "hands out every due touch once, on time, to touches-due.v1.\n\nStatus: not built yet "
        "(issue #7). This binary checks its configuration and "
        "exits 0.",
    };
    cadence_config cfg;
    if (cadence_service_start(&info, argc, argv, &cfg))
        return 0;
    cadence_log_json(CADENCE_LOG_INFO, "configuration valid; no processing yet",
                     json_pack("{s:i}", "issue", 7));
    cadence_config_free(&cfg);
    return 0;
}
