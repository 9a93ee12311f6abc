/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-create — the integration tests' raw client of the calls that take a file
 * descriptor (dbus-send and busctl cannot pass one): CreateDomain, and with
 * --restore RestoreDomain or with --save OBJECT that domain's Save (their flags
 * --flags N, default 0). It hands xensupd a descriptor the test chose and prints
 * the reply as dbus-send does: "object path PATH" ("method return" for Save),
 * or "Error NAME: MESSAGE" (exit 1).
 *
 *   bus-create [--user] FILE          FILE opened for reading (for writing with --save)
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

/* Which call: CreateDomain, RestoreDomain, or save's Domain.Save. */
struct call {
        bool restore;
        const char *save; /* the domain's object path */
        uint64_t flags;
};

static int call_once(sd_bus *bus, const struct call *c, int fd)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        if (c->save)
                r = sd_bus_call_method(bus, BUS_NAME, c->save, BUS_DOMAIN_IFACE, "Save", &e, &reply,
                                       "ht", fd, c->flags);
        else if (c->restore)
                r = sd_bus_call_method(bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                       "RestoreDomain", &e, &reply, "ht", fd, c->flags);
        else
                r = sd_bus_call_method(bus, BUS_NAME, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                       "CreateDomain", &e, &reply, "h", fd);
        if (r < 0) {
                printf("Error %s: %s\n", e.name ? e.name : "(none)",
                       e.message ? e.message : strerror(-r));
                return 1;
        }
        if (c->save) {
                printf("method return\n");
                return 0;
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
        struct call c = { 0 };
        unsigned long loops = 1;
        int i = 1, fd, r, rc = 0;

        for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
                if (strcmp(argv[i], "--user") == 0)
                        user = true;
                else if (strcmp(argv[i], "--as-is") == 0)
                        as_is = true;
                else if (strcmp(argv[i], "--loop") == 0 && i + 1 < argc)
                        loops = strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--restore") == 0)
                        c.restore = true;
                else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
                        c.save = argv[++i];
                else if (strcmp(argv[i], "--flags") == 0 && i + 1 < argc)
                        c.flags = strtoull(argv[++i], NULL, 0);
                else
                        break;
        }
        if (i != argc - 1 || loops == 0) {
                fprintf(stderr,
                        "usage: bus-create [--user] [--restore | --save OBJECT] [--flags N] "
                        "[--loop N] FILE | --as-is FD\n");
                return 2;
        }
        r = user ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus-create: cannot connect: %s\n", strerror(-r));
                return 2;
        }
        for (unsigned long n = 0; n < loops; n++) {
                fd = as_is    ? atoi(argv[i])
                     : c.save ? open(argv[i], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600)
                              : open(argv[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0) {
                        printf("Error (open): %s: %s\n", argv[i], strerror(errno));
                        rc = 1;
                        continue;
                }
                rc |= call_once(bus, &c, fd);
                if (!as_is)
                        close(fd);
        }
        return rc;
}
