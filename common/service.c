/*
 * service — shared start-up of the service binaries.
 */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cadence_service_start(const cadence_service_info *info, int argc, char **argv,
                          cadence_config *cfg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s [--help] [--version]\n\n%s\n\n", info->binary, info->description);
            cadence_config_print_help(stdout, info->service);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", info->binary, CADENCE_VERSION);
            return 1;
        }
        fprintf(stderr, "%s: unknown argument \"%s\" (try --help)\n", info->binary, argv[i]);
        exit(CADENCE_CONFIG_EXIT_STATUS);
    }
    cadence_config_load_or_exit(cfg, info->service);
    cadence_log_init(info->service, cfg->log_level);
    cadence_log_libevent_install();
    return 0;
}
