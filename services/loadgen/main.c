/*
 * cadence-loadgen — produces a realistic event mix and measures worker throughput and
 * visit-to-alert latency.
 *
 * Until issue #6 fills it in, this binary validates its configuration and exits; it does no
 * processing, and --help says so.
 */
#include "config.h"
#include "log.h"
#include "service.h"

int main(int argc, char **argv)
{
    static const cadence_service_info info = {
        "loadgen",
        "cadence-loadgen",
        "produces a realistic event mix and measures worker throughput and visit-to-alert "
        "latency.\n\nStatus: not built yet (issue #6). This binary checks its configuration and "
        "exits 0.",
    };
    cadence_config cfg;
    if (cadence_service_start(&info, argc, argv, &cfg))
        return 0;
    cadence_log_json(CADENCE_LOG_INFO, "configuration valid; no processing yet",
                     json_pack("{s:i}", "issue", 6));
    cadence_config_free(&cfg);
    return 0;
}
