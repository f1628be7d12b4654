#pragma once

// Every message grove actors exchange: plain structs with a CAF 0.17 `inspect`
// so they serialise and can cross nodes, registered in registry.cpp. Split by
// subject; this header includes them all. Only caf/meta/type_name.hpp comes
// with them: these headers are everywhere.

#include "messages/cluster.hpp"
#include "messages/model.hpp"
#include "messages/plan.hpp"
#include "messages/report.hpp"
#include "messages/workspace.hpp"
