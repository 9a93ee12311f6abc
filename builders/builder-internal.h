/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* builder-internal.h — what a backend implements; only builders/ includes this. */
#pragma once

#include "builders/builder.h"

struct builder {
        const struct builder_ops *ops;
        void *data; /* the backend's private state, owned by ops->open/close */
};

extern const struct builder_ops builder_xen_ops;
extern const struct builder_ops builder_sim_ops;
