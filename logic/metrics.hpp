#pragma once

// Prometheus metrics derived from telemetry events; pure, rendered in the
// text exposition format (version 0.0.4) for /metrics.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "messages/types.hpp"

namespace grove::logic {

/// Counters, gauges and histograms of one node, fed by every event.
class metrics final {
public:
  /// Updates the metrics an event touches.
  void observe(const messages::telemetry_event& ev);

  /// Everything in the Prometheus text format, with HELP and TYPE lines.
  std::string render() const;

  /// A histogram with fixed buckets (seconds).
  struct histogram {
    static constexpr std::array<double, 11> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60};
    std::array<uint64_t, bounds.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
    void add(double seconds);
  };

  /// Per-node gauges and counters of a cluster (appended to render()'s text by a serving node).
  static std::string render_nodes(const std::vector<messages::node_info>& nodes);

  /// The server's rolling budget (grove serve --budget-usd-per-day): limit,
  /// what was spent within the window, by provider, and the window's length.
  static std::string render_budget(double limit_usd, int64_t window_ms, const std::map<std::string, double>& spent);

private:
  messages::event_counts counts_;                // what every view counts alike
  std::map<messages::job_state, uint64_t> jobs_; // by final state
  int64_t jobs_in_flight_ = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> model_requests_; // provider, outcome
  std::map<std::string, histogram> model_latency_;                         // by provider
  std::map<std::pair<std::string, std::string>, uint64_t> tokens_;         // provider, direction
  std::map<std::string, double> cost_;                                     // provider: US dollars
  histogram merge_latency_;
  uint64_t merged_components_ = 0;
  int64_t worktrees_in_flight_ = 0;
  std::map<std::string, uint64_t> service_restarts_; // by node service
  uint64_t rebases_ = 0;
  uint64_t lessons_given_ = 0;        // lessons put into prompts
  uint64_t landed_first_attempt_ = 0; // landed (not from the cache) on attempt 1
  std::map<std::string, uint64_t> review_verdicts_;                         // clean, findings
  std::map<std::pair<std::string, std::string>, uint64_t> review_findings_; // code, severity
  /// Conflicts still open (job, component) -> the resolver so far; each ends
  /// counted by outcome when its component lands (resolved) or is dropped.
  std::map<std::pair<std::string, std::string>, std::string> open_conflicts_;
  std::map<std::pair<std::string, std::string>, uint64_t> conflicts_; // outcome, resolver
  std::map<std::string, uint64_t> service_failures_;                  // by node service
};

} // namespace grove::logic
