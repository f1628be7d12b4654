#pragma once

// The cluster's messages: a worker joining the serving node, where a
// generator should run, and what the serving node knows of each node.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace grove::messages {

/// A worker node introducing itself to the serving node (and again after every reconnect).
struct node_hello {
  std::string name;                   ///< unique in the cluster; a second hello under a name replaces the first
  std::string address;                ///< where the node runs, for people (its --host)
  uint32_t capacity = 0;              ///< concurrent generations it takes
  std::vector<std::string> providers; ///< the providers it is configured to call
  bool operator==(const node_hello&) const = default;
};

/// A generator wanted for one attempt.
struct placement_request {
  std::string job;
  std::string component;
  uint32_t attempt = 1;
  std::string avoid_node;      ///< the node of the failed attempt: another is preferred when one is free
  std::string prefer_provider; ///< escalation: a free node advertising this provider is preferred
  int64_t deadline_ms = 0;     ///< waiting for a free node ends here (ms since the epoch); 0: none
  bool operator==(const placement_request&) const = default;
};

/// One node as the serving node sees it (dashboard, /metrics, grove node logs).
struct node_info {
  std::string name;
  std::string address;
  uint32_t capacity = 0;
  uint32_t in_flight = 0;
  bool up = false;
  bool local = false; ///< the serving node itself
  int64_t last_seen_ms = 0;
  uint64_t placed = 0; ///< generators placed on it so far
  uint64_t lost = 0;   ///< times it was lost
  std::vector<std::string> providers;
  bool operator==(const node_info&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("node_hello"), x.name, x.address, x.capacity, x.providers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement_request& x) {
  return f(caf::meta::type_name("placement_request"), x.job, x.component, x.attempt, x.avoid_node, x.prefer_provider,
           x.deadline_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("node_info"), x.name, x.address, x.capacity, x.in_flight, x.up, x.local, x.last_seen_ms,
           x.placed, x.lost, x.providers);
}

} // namespace grove::messages
