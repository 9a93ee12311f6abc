/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-create — the integration tests' raw CreateDomain client (dbus-send and
 * busctl cannot pass a file descriptor). It hands xensupd a descriptor the
 * test chose and prints the reply as dbus-send does: "object path PATH", or
 * "Error NAME: MESSAGE" (exit 1).
 *
 *   bus-create [--user] FILE          FILE opened for reading, as xensupctl does
 *   bus-create [--user] --as-is FD    an inherited descriptor, whatever it is
 *   bus-create [--user] --loop N FILE the same call N times; prints each reply
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "common/bus-names.h"
#include "common/macros.h"

static int create_once(sd_bus *bus, int fd)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "CreateDomain",
                               &e, &reply, "h", fd);
        if (r < 0) {
                printf("Error %s: %s\n", e.name ? e.name : "(none)",
                       e.message ? e.message : strerror(-r));
                return 1;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                printf("Error (reply): %s\n", strerror(-r));
                return 1;
        }
        printf("object path %s\n", path);
        return 0;
}

int main(int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool user = false, as_is = false;
        unsigned long loops = 1;
        int i = 1, fd, r, rc = 0;

        for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
                if (strcmp(argv[i], "--user") == 0)
                        user = true;
                else if (strcmp(argv[i], "--as-is") == 0)
                        as_is = true;
                else if (strcmp(argv[i], "--loop") == 0 && i + 1 < argc)
                        loops = strtoul(argv[++i], NULL, 10);
                else
                        break;
        }
        if (i != argc - 1 || loops == 0) {
                fprintf(stderr, "usage: bus-create [--user] [--loop N] FILE | --as-is FD\n");
                return 2;
        }
        r = user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus-create: cannot connect: %s\n", strerror(-r));
                return 2;
        }
        for (unsigned long n = 0; n < loops; n++) {
                fd = as_is ? atoi(argv[i])
                           : open(argv[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0) {
                        printf("Error (open): %s: %s\n", argv[i], strerror(errno));
                        rc = 1;
                        continue;
                }
                rc |= create_once(bus, fd);
                if (!as_is)
                        close(fd);
        }
        return rc;
}
