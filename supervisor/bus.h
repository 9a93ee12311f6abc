/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.h — the D-Bus face of the manager (org.xensup.supervisor1).
 *
 * The model (manager.c, domain.c) calls these hooks after every change;
 * they are no-ops while m->bus is NULL, so the model runs without a bus.
 */
#pragma once

#include "common/bus-names.h"
#include "supervisor/context.h"

/* Connect to the system (or session) bus, export the objects, take the name. */
int bus_open(struct manager *m, char **err_r);

/* Drop the bus connection; NULL-safe. */
void bus_close(struct manager *m);

/* The object path of a domain ("/org/xensup/supervisor1/domain/<escaped name>"). */
int bus_domain_path(const char *name, char **ret);

/* Emit PropertiesChanged for every Domain property. */
void bus_domain_changed(struct manager *m, struct domain *d);

/* The domain's Progress changed (a save or restore moved on): PropertiesChanged for it alone. */
void bus_domain_progress(struct manager *m, struct domain *d);

/* Emit DomainNew and InterfacesAdded. */
void bus_domain_added(struct manager *m, struct domain *d);

/* Emit DomainRemoved and InterfacesRemoved. */
void bus_domain_removed(struct manager *m, struct domain *d);
