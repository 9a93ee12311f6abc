/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-names.h — the names of xensupd's D-Bus API (org.xensup.supervisor1),
 * shared by the daemon (supervisor/bus.h) and its client (ctl/): macros only,
 * no includes, so xensupctl never sees the daemon's internals.
 *
 * Error contract: the first six errors are documented outcomes a caller
 * handles; Hypervisor, XenStore and Failed say a layer failed, and their
 * message names the step. xensupctl exits 4 for NoSuchDomain, 5 for
 * AccessDenied and 1 for every other error.
 */
#pragma once

#define BUS_NAME          "org.xensup.supervisor1"
#define BUS_MANAGER_PATH  "/org/xensup/supervisor1"
#define BUS_DOMAIN_PREFIX "/org/xensup/supervisor1/domain"
#define BUS_MANAGER_IFACE "org.xensup.supervisor1.Manager"
#define BUS_DOMAIN_IFACE  "org.xensup.supervisor1.Domain"
#define BUS_SIM_IFACE     "org.xensup.supervisor1.Simulator"
#define BUS_ERROR_PREFIX  "org.xensup.supervisor1.Error."

/* Documented outcomes. */
#define BUS_ERROR_NO_SUCH_DOMAIN   BUS_ERROR_PREFIX "NoSuchDomain"
#define BUS_ERROR_INVALID_STATE    BUS_ERROR_PREFIX "InvalidState"
#define BUS_ERROR_DOMAIN_EXISTS    BUS_ERROR_PREFIX "DomainExists"
#define BUS_ERROR_INVALID_CONFIG   BUS_ERROR_PREFIX "InvalidConfig"
#define BUS_ERROR_INVALID_ARGUMENT BUS_ERROR_PREFIX "InvalidArgument"
#define BUS_ERROR_ACCESS_DENIED    BUS_ERROR_PREFIX "AccessDenied"

/* A layer failed; the message says which step. */
#define BUS_ERROR_HYPERVISOR BUS_ERROR_PREFIX "Hypervisor"
#define BUS_ERROR_XENSTORE   BUS_ERROR_PREFIX "XenStore"
#define BUS_ERROR_FAILED     BUS_ERROR_PREFIX "Failed"
