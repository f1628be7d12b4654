#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/errors.hpp"

namespace grove::config {

/// Restart policy for crashed generators.
struct restart_settings {
  uint32_t intensity = 5;     ///< at most this many restarts ...
  uint32_t period_ms = 10000; ///< ... within this window, else the job fails
  uint32_t backoff_base_ms = 20;
  uint32_t backoff_max_ms = 2000;
  double jitter = 0.2;
};

/// One configured model: a wire format, where it lives, and the router's policy for it.
struct provider_settings {
  std::string type = "builtin"; ///< builtin, openai, ollama, gemini, anthropic
  std::string model;            ///< empty: the type's default model
  std::string base_url;         ///< empty: from the environment, else the type's default
  std::string api_key_env;      ///< variable holding the key; empty: the type's convention
  std::string ca_file;          ///< extra CA bundle for TLS (certificates are always verified)
  uint32_t timeout_ms = 60000;  ///< per request
  uint32_t max_concurrency = 4; ///< requests in flight to this provider
  uint32_t max_retries = 2;     ///< retries of retryable failures (429, 5xx, timeouts) before falling back
  uint32_t backoff_base_ms = 250;
  uint32_t backoff_max_ms = 8000;
  uint32_t failure_threshold = 5; ///< consecutive failures that open the circuit ...
  uint32_t cooldown_ms = 30000;   ///< ... for this long (the provider is skipped)
  uint64_t max_response_bytes = 4 * 1024 * 1024;
  double price_in_per_mtok = 0;  ///< USD per million prompt tokens, for cost estimates
  double price_out_per_mtok = 0; ///< USD per million completion tokens
};

/// Providers and the routes the router picks them by.
struct model_settings {
  std::map<std::string, provider_settings> providers = {{"builtin", provider_settings{}}}; ///< always holds "builtin"
  /// Ordered provider names per role ("plan", "generate", "review", "resolve"),
  /// optionally per difficulty tier ("generate.simple", "generate.hard").
  std::map<std::string, std::vector<std::string>> routes;
  /// Escalation in a cluster: per role, the provider a retry (attempt 2 on)
  /// prefers; a free node advertising it gets the retry ({"generate": "strong"}).
  std::map<std::string, std::string> retry_prefer;
  uint32_t self_correction_attempts = 2; ///< re-asks after invalid JSON or schema errors
  uint64_t max_tokens_per_job = 0;       ///< 0: no cap
  double max_cost_usd = 0;               ///< a job's model spend cap in US dollars (providers' prices); 0: no cap
};

/// The route for a role and tier: "role.tier", else "role", else "default", else builtin.
std::vector<std::string> route_for(const model_settings& m, const std::string& role, const std::string& tier);

/// The model route of the reviewer in the QA gate; empty: the builtin
/// reviewer (no model call). A configured "review" route is used as given
/// (["builtin"] alone means the builtin reviewer); otherwise a configured
/// provider other than the generator's first choice (feedback from another
/// model helps, self-critique little); none: the builtin reviewer.
std::vector<std::string> review_route(const model_settings& m);

/// The type's default model name (openai: gpt-4o-mini, ollama: qwen2.5-coder, gemini: gemini-1.5-flash,
/// anthropic: claude-sonnet-4-5).
std::string default_model(const std::string& type);

/// The cluster (grove serve --cluster-port, grove node --join): CAF's
/// middleman between nodes, heartbeats so a frozen or cut-off node is found.
struct cluster_settings {
  uint32_t heartbeat_interval_ms = 250;  ///< middleman.heartbeat-interval on every node
  uint32_t connection_timeout_ms = 1000; ///< middleman.connection-timeout: silent this long, the peer is lost
  uint32_t local_capacity = 8;           ///< generations the serving node runs itself (0: none)
  uint32_t capacity = 8;                 ///< generations a worker node runs (grove node)
  std::string certificate;               ///< TLS between nodes (PEM); all three set, or none
  std::string key;
  std::string ca_file;
  bool tls() const { return !certificate.empty() || !key.empty() || !ca_file.empty(); }
};

/// Embeddings for recalling lessons by meaning (`"embeddings"` in the config);
/// without them lessons are recalled by words (SQLite FTS5), as they are
/// whenever the endpoint fails.
struct embedding_settings {
  std::string type;            ///< openai (POST {base}/embeddings) or ollama (POST {base}/api/embed); empty: off
  std::string model;           ///< empty: text-embedding-3-small (openai), nomic-embed-text (ollama)
  std::string base_url;        ///< empty: OPENAI_BASE_URL / OLLAMA_HOST, else the public default
  std::string api_key_env;     ///< empty: OPENAI_API_KEY for openai, none for ollama
  std::string ca_file;         ///< extra CA bundle for TLS
  uint32_t timeout_ms = 2000;  ///< one recall's embedding call, at most
  double min_similarity = 0.4; ///< cosine below this is no match
  bool enabled() const { return !type.empty(); }
};

/// Everything a run can be configured with; defaults are sane for a laptop.
struct settings {
  uint32_t max_attempts = 3;              ///< QA attempts per component
  uint32_t parallel = 16;                 ///< components in flight per job
  uint32_t threads = 0;                   ///< CAF scheduler threads; 0 = one per core
  uint32_t generator_timeout_ms = 120000; ///< one attempt's wall-clock deadline (model calls included)
  uint32_t component_timeout_ms = 300000; ///< one component, all its attempts and restarts
  uint32_t job_timeout_ms = 900000;       ///< one job, planning to report
  restart_settings restart;
  /// Restart policy of the node's services (telemetry, router, integrator, journal, leases, customer, QA):
  /// past it the node stops, and the journal lets the next start resume.
  restart_settings service_restart{3, 10000, 50, 1000, 0.2};
  model_settings models;
  cluster_settings cluster;
  /// The reviewer in the QA gate: off, advisory (findings recorded, never
  /// blocking) or blocking (an error finding rejects the attempt like a rule).
  std::string review = "blocking";
  /// The memory of past mistakes (.grove/lessons.db): on, and how many lessons a generation is given.
  bool lessons = true;
  uint32_t lessons_injected = 2;
  embedding_settings embeddings;
  /// .grove/telemetry.jsonl: renamed telemetry.jsonl.1 past this size, this many old files kept.
  uint32_t telemetry_log_max_mb = 16;
  uint32_t telemetry_log_keep = 3;
  /// grove serve: model spend allowed within any rolling window of
  /// budget_window_ms (a day by default), journaled in .grove/spend.db; 0: none.
  double budget_usd_per_day = 0;
  uint32_t budget_window_ms = 86400000;
};

/// The reviewer modes, in order of strictness.
inline constexpr const char* review_modes[] = {"off", "advisory", "blocking"};

/// Reads a JSON config file over the defaults. Unknown keys, wrong types and
/// out-of-range values are errors (`errc::invalid_config`) naming the key.
messages::result<settings> load_settings(const std::string& path);

/// Applies a JSON config text over `base` (the file-free core of load_settings).
messages::result<settings> apply_settings(const std::string& text, settings base);

/// `--provider NAME[:MODEL]`: routes every role to one provider, a configured
/// name or a type (builtin, openai, ollama, gemini, anthropic) set up from the environment.
messages::result<settings> apply_provider_flag(settings base, const std::string& flag);

/// Empty when `mode` is a review mode; else an error naming `what` (the key or flag).
std::string check_review_mode(const std::string& mode, const std::string& what);

/// The default settings: only the builtin provider, every role routed to it.
settings defaults();

} // namespace grove::config
