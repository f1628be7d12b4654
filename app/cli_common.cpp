#include <pthread.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "messages/codec.hpp"
#include "messages/names.hpp"
#include "messages/secrets.hpp"
#include "app/cli.hpp"
#include "infra/git/files.hpp"
#include "infra/git/git.hpp"
#include "infra/git/pack.hpp"

namespace grove::app {

namespace {

// Space kept free for repairs: on a full disk, putting the index and output/
// back in step with main needs a few KiB that the failed job used up.
constexpr size_t reserve_bytes = 64 * 1024;

std::filesystem::path reserve_file(const std::filesystem::path& root) {
  return root / ".grove" / "reserve";
}

// Made at start only when the disk has room for it twice over.
void keep_reserve(const std::filesystem::path& root) {
  std::error_code ec;
  auto path = reserve_file(root);
  if (std::filesystem::file_size(path, ec) == reserve_bytes) return;
  auto space = std::filesystem::space(root, ec);
  if (ec || space.available < 2 * reserve_bytes) return;
  std::string zeros(reserve_bytes, '\0');
  if (!git::write_file_under(root, ".grove/reserve", zeros)) {
    std::filesystem::remove(path, ec); // no room (or read-only): a later run tries again
  }
}

struct tidy_result {
  std::vector<std::string> repaired;
  git::cleanup_report stale;
};

// Repairs output/ and removes stale worktrees; when that fails (a full disk),
// frees the reserve and tries once more.
messages::result<tidy_result> tidy(git::repository& repo, const std::filesystem::path& root, bool after_run) {
  auto once = [&]() -> messages::result<tidy_result> {
    auto repaired = git::repair_workspace(repo, after_run);
    if (!repaired)
      return messages::make_failure(repaired.error().code, "repairing the workspace: " + repaired.error().message);
    auto stale = git::remove_stale(repo);
    if (!stale) return messages::make_failure(stale.error().code, "cleaning stale worktrees: " + stale.error().message);
    return tidy_result{std::move(*repaired), std::move(*stale)};
  };
  auto r = once();
  std::error_code ec;
  // The user's changes or links (errc::workspace) are not a lack of space.
  if (!r && r.error().code != messages::errc::workspace && std::filesystem::remove(reserve_file(root), ec)) {
    auto again = once();
    if (again) again->repaired.push_back("used the space reserved in .grove/reserve to repair a full workspace");
    r = std::move(again);
  }
  return r;
}

} // namespace

messages::result<workspace> open_workspace(const std::string& repo_dir, bool quiet) {
  auto repo = git::repository::open_or_init(repo_dir);
  if (!repo) return repo.error();
  workspace ws;
  ws.root = repo->workdir();
  auto lock = git::workspace_lock::acquire(ws.root);
  if (!lock) return lock.error();
  ws.lock.emplace(std::move(*lock));
  auto tidied = tidy(*repo, ws.root, false);
  if (!tidied) return tidied.error();
  keep_reserve(ws.root);
  // A library from before the fan-out folders moves into them, once.
  auto migrated = git::migrate_flat_library(*repo);
  if (!migrated)
    return messages::make_failure(migrated.error().code, "moving the library: " + migrated.error().message);
  if (!quiet && *migrated > 0) {
    std::fprintf(stderr, "grove: moved %zu library file(s) into fan-out folders (output/components/<xx>/<name>.json)\n",
                 *migrated);
  }
  // A packer killed mid-pack leaves a temporary pack file; its loose objects are all still there.
  auto stale_packs = git::remove_stale_pack_files(repo->gitdir());
  if (!quiet && stale_packs > 0) {
    std::fprintf(stderr, "grove: removed %zu temporary pack file(s) a killed packing left\n", stale_packs);
  }
  // Packs written beside merges pile up; nothing else reads the repository yet: make them one.
  if (auto packs = git::count_packs(repo->gitdir()); packs >= git::max_packs) {
    if (!quiet) std::fprintf(stderr, "grove: packing the repository's %zu packs into one ...\n", packs);
    auto packed = git::repack_all(*repo, std::max(1u, std::thread::hardware_concurrency())); // nothing else runs yet
    if (!quiet && packed) {
      std::fprintf(stderr, "grove: packed the repository into one pack (%zu objects)\n", packed->packed);
    }
  }
  if (!quiet) {
    for (auto& line : tidied->repaired) std::fprintf(stderr, "grove: %s\n", line.c_str());
    auto& stale = tidied->stale;
    if (!stale.empty()) {
      std::fprintf(stderr,
                   "grove: removed %zu stale worktree(s), %zu branch(es), %zu folder(s) left by an earlier run\n",
                   stale.worktrees.size(), stale.branches.size(), stale.directories.size());
    }
  }
  return ws;
}

void settle_workspace(const workspace& ws, bool quiet) {
  // The node is down: nothing else writes. A full disk may have kept output/
  // behind main during the run; worktrees are gone now, so try again.
  auto repo = git::repository::open(ws.root);
  if (!repo) return;
  auto tidied = tidy(*repo, ws.root, true);
  if (!tidied) {
    std::fprintf(stderr, "grove: the workspace could not be tidied (%s); the next grove run repairs it\n",
                 tidied.error().message.c_str());
  } else if (!quiet) {
    for (auto& line : tidied->repaired) std::fprintf(stderr, "grove: %s\n", line.c_str());
  }
  // A disk this full is the user's problem to solve now: leave them the room.
  std::error_code ec;
  auto space = std::filesystem::space(ws.root, ec);
  if (!ec && space.available < reserve_bytes) std::filesystem::remove(reserve_file(ws.root), ec);
}

messages::result<std::vector<resumable>> resumable_jobs(journal::journal& jr, bool quiet) {
  std::vector<resumable> out;
  auto unfinished = jr.unfinished();
  if (!unfinished) return unfinished.error();
  for (auto& u : *unfinished) {
    if (!quiet) {
      std::fprintf(stderr, "grove: resuming job %s (%s) left unfinished by an earlier run\n", u.id.c_str(),
                   u.state.c_str());
    }
    messages::job_start start;
    start.job = u.id;
    start.request = u.request;
    if (!u.plan_json.empty()) {
      if (auto p = messages::parse_plan(u.plan_json)) {
        start.has_plan = true;
        start.ready_plan = std::move(*p);
        start.ready_plan.session_id = u.id;
      }
    }
    out.push_back({u.request, std::move(start)});
  }
  return out;
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "grove: %s\n", messages::redact(msg).c_str());
  return exit_usage;
}

messages::result<config::settings> load(const common_args& a) {
  auto settings = config::defaults();
  if (!a.config_file.empty()) {
    auto loaded = config::load_settings(a.config_file);
    if (!loaded) return loaded.error();
    settings = *loaded;
  }
  if (a.max_attempts != 0) settings.max_attempts = a.max_attempts;
  if (a.parallel != 0) settings.parallel = a.parallel;
  if (a.threads != 0) settings.threads = a.threads;
  if (a.max_cost >= 0) settings.models.max_cost_usd = a.max_cost;
  if (!a.review.empty()) {
    if (auto err = config::check_review_mode(a.review, "--review"); !err.empty()) {
      return messages::make_failure(messages::errc::invalid_config, err);
    }
    settings.review = a.review;
  }
  if (!a.provider.empty()) {
    auto with = config::apply_provider_flag(settings, a.provider);
    if (!with) return with.error();
    settings = *with;
  }
  return settings;
}

messages::result<messages::job_start> job_from(const std::string& request, const std::string& plan_file) {
  messages::job_start job;
  if (!plan_file.empty()) {
    std::ifstream in{plan_file};
    if (!in) return messages::make_failure(messages::errc::invalid_plan, "cannot read plan file " + plan_file);
    std::stringstream buf;
    buf << in.rdbuf();
    auto p = messages::parse_plan(buf.str());
    if (!p) return messages::make_failure(p.error().code, plan_file + ": " + p.error().message);
    job.has_plan = true;
    job.ready_plan = std::move(*p);
    return job;
  }
  job.request = messages::sanitize_utf8(request);
  if (job.request.find_first_not_of(" \t\r\n") == std::string::npos) {
    return messages::make_failure(messages::errc::invalid_plan, "the request is empty");
  }
  if (job.request.size() > 8000) {
    return messages::make_failure(messages::errc::invalid_plan, "the request is longer than 8000 bytes");
  }
  return job;
}

void print_summary(const messages::job_report& r) {
  size_t landed = 0, cached = 0, dropped = 0;
  for (auto& c : r.components) {
    landed += c.status == "landed";
    cached += c.status == "cached";
    dropped += c.status == "dropped";
  }
  std::fprintf(stderr, "\njob %s: %s in %.2f s: %zu landed, %zu from cache, %zu dropped\n", r.job.c_str(),
               r.status.c_str(), static_cast<double>(r.elapsed_ms) / 1000.0, landed, cached, dropped);
  for (auto& c : r.components) {
    if (c.status == "dropped")
      std::fprintf(stderr, "  dropped %s: %s\n", c.name.c_str(), messages::redact(c.error).c_str());
  }
  if (!r.error.empty()) std::fprintf(stderr, "  error: %s\n", messages::redact(r.error).c_str());
  if (r.model_usage.total.requests > 0) {
    std::fprintf(stderr, "model: %llu requests, %llu tokens in, %llu out, ~$%.4f\n",
                 static_cast<unsigned long long>(r.model_usage.total.requests),
                 static_cast<unsigned long long>(r.model_usage.total.tokens_in),
                 static_cast<unsigned long long>(r.model_usage.total.tokens_out), r.model_usage.total.cost_usd);
    if (r.model_usage.by_provider.size() > 1 || r.model_usage.total.cost_usd > 0) {
      for (auto& u : r.model_usage.by_provider) {
        std::fprintf(stderr, "  %s: %llu requests, %llu tokens in, %llu out, ~$%.4f\n",
                     messages::redact(u.provider).c_str(), static_cast<unsigned long long>(u.requests),
                     static_cast<unsigned long long>(u.tokens_in), static_cast<unsigned long long>(u.tokens_out),
                     u.cost_usd);
      }
    }
  }
  if (!r.output.empty()) std::fprintf(stderr, "page: %s\n", r.output.c_str());
}

int exit_code(const messages::job_report& r) {
  return r.status == "done" ? exit_ok : exit_partial;
}

std::string token_from(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("GROVE_TOKEN");
  return env != nullptr ? std::string{env} : std::string{};
}

} // namespace grove::app

namespace grove::app {

messages::status apply_cluster_flags(config::settings& s, const cluster_args& a) {
  auto& c = s.cluster;
  if (!a.tls_cert.empty()) c.certificate = a.tls_cert;
  if (!a.tls_key.empty()) c.key = a.tls_key;
  if (!a.tls_ca.empty()) c.ca_file = a.tls_ca;
  if (c.tls() && (c.certificate.empty() || c.key.empty() || c.ca_file.empty())) {
    return messages::make_failure(messages::errc::invalid_config,
                                  "TLS between nodes needs --tls-cert, --tls-key and --tls-ca together (or "
                                  "cluster.certificate, key and ca_file in the config)");
  }
  return messages::ok();
}

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

} // namespace grove::app
