// One generation attempt of a component: its generator (spawned here, or
// placed on a cluster node), its answer, and crashes restarted with backoff
// (a lost node's generators as one failure toward the restart intensity).

#include <fstream>
#include <iterator>

#include <caf/all.hpp>

#include "actors/job_flow.hpp"
#include "actors/telemetry.hpp"
#include "infra/git/git.hpp"
#include "logic/library.hpp"
#include "logic/qa_rules.hpp"
#include "messages/secrets.hpp"

namespace grove::actors::job_flow {

void on_crash(self_ptr self, size_t idx, const std::string& why, bool node_lost) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  s.gen = nullptr;
  ++s.gen_seq;
  ++s.report.restarts;
  emit(self, s.spec.name, messages::stage::crashed, s.report.attempts, false,
       node_lost ? "node " + s.node + " lost: " + why : why);
  using logic::supervision::decision;
  auto now = logic::supervision::clock::now();
  auto draw = std::uniform_real_distribution<double>{0.0, 1.0}(st.rng);
  decision d;
  // The generators of one lost node count as one failure toward the intensity.
  auto counted = node_lost ? st.node_failures.find(s.node) : st.node_failures.end();
  if (counted != st.node_failures.end() && now - counted->second < std::chrono::seconds{2}) {
    d = st.restarts->on_exit_of_counted_failure(true, s.report.restarts - 1, draw);
  } else {
    d = st.restarts->on_exit(true, s.report.restarts - 1, now, draw);
    if (node_lost) st.node_failures[s.node] = now;
  }
  switch (d.kind) {
    case decision::leave: drop(self, idx, "generator crashed: " + why); return;
    case decision::give_up:
      drop(self, idx, "generator crashed: " + why);
      fail_job(self, "restart limit reached: more than " + std::to_string(st.deps.settings.restart.intensity) +
                       " generator restarts within " + std::to_string(st.deps.settings.restart.period_ms) + " ms");
      return;
    case decision::restart:
      emit(self, s.spec.name, messages::stage::restarting, s.report.attempts, false,
           "in " + std::to_string(d.delay.count()) + " ms");
      self->delayed_send(self, d.delay, messages::generator_restart{s.spec.name});
      return;
  }
}

namespace {

// The library's copy of `name` (main's file); empty when it has none.
std::string library_copy(self_ptr self, const std::string& name) {
  std::ifstream in{self->state.deps.repo / git::component_path(name), std::ios::binary};
  if (!in) return {};
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// The component as its worktree checked it out (main's version at the branch's base); empty when none.
std::string worktree_copy(self_ptr self, const component_slot& s) {
  auto file =
    self->state.deps.repo / "worktrees" / git::worktree_for(s.spec.name, s.lane) / git::component_path(s.spec.name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(file, ec))) return {};
  std::ifstream in{file, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// The version of the library's copy of `name`, 0 when it has none.
int library_version(self_ptr self, const std::string& name) {
  return logic::library::version_of(library_copy(self, name));
}

// Runs one attempt on a generator (local, or placed on a node); `seq` identifies the attempt.
void run_attempt(self_ptr self, size_t idx, uint64_t seq, generator_actor gen, std::string node) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  auto left = time_left(self, idx);
  if (left.count() <= 0) {
    self->send_exit(gen, caf::exit_reason::user_shutdown);
    drop(self, idx, deadline_passed(self, idx) + " before attempt " + std::to_string(s.report.attempts));
    return;
  }
  // An attempt has the generator timeout, or what is left of the deadlines if less.
  auto budget = std::min(std::chrono::milliseconds{st.deps.settings.generator_timeout_ms}, left);
  s.attempt_to_deadline = left <= std::chrono::milliseconds{st.deps.settings.generator_timeout_ms};
  self->monitor(gen);
  s.gen = gen;
  s.node = std::move(node);
  s.report.nodes.push_back(s.node);
  emit(self, s.spec.name, messages::stage::generating, s.report.attempts);
  // A placed generator runs on a node without the library: only a local one reads the cache.
  bool local = !st.deps.placement || s.node == st.deps.node_name;
  messages::generate_request req{st.plan.session_id,       s.spec, s.report.attempts, s.feedback, s.use_cache && local,
                                 now_ms() + budget.count()};
  req.current = s.current;
  req.lessons = s.lessons;
  // The generator answers a timed-out model call itself; the grace covers a generator that hangs.
  watched_request(
    self, budget + generator_grace, gen, std::move(req),
    [self, idx, seq, local](messages::generation_result& r) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::generating) return;
      s.gen = nullptr;
      s.report.corrections += r.corrections;
      if (r.timed_out) {
        timed_out(self, idx, r.error);
        return;
      }
      if (!r.ok && r.over_budget) {
        // A spending limit: no retry, the job goes on with what needs no model.
        if (self->state.budget_error.empty()) self->state.budget_error = r.error;
        drop(self, idx, std::move(r.error));
        return;
      }
      if (!r.ok) {
        if (r.violations.empty()) r.violations.push_back({"generation_failed", r.error});
        reject(self, idx, std::move(r.violations));
        return;
      }
      // Every generator checks its answer against its own node's keys before it answers; one
      // from another node is checked here against this node's (the gateway token, ours):
      // before the commit, not only by QA after it, a key must not reach even a branch's objects.
      if (!r.cache_hit && !local) {
        if (auto leak = logic::qa::check_secrets(r.artifact, messages::registered_secrets()); !leak.empty()) {
          reject(self, idx, std::move(leak));
          return;
        }
      }
      s.artifact = std::move(r.artifact);
      s.report.cache_hit = r.cache_hit;
      // A new version of a component the library holds: the library's version + 1.
      if (!r.cache_hit) {
        // An edit's base is the copy it read; anything else reads the library now.
        auto held = s.current.empty() ? library_version(self, s.spec.name) : logic::library::version_of(s.current);
        if (held > 0) {
          s.artifact = logic::library::with_version(s.artifact, held + 1);
        }
      }
      s.report.version = static_cast<uint32_t>(std::max(0, logic::library::version_of(s.artifact)));
      if (r.cache_hit) {
        emit(self, s.spec.name, messages::stage::generated, s.report.attempts, true, "cache hit");
        check(self, idx, {});
      } else {
        emit(self, s.spec.name, messages::stage::generated, s.report.attempts, false, r.provider);
        commit(self, idx);
      }
    },
    [self, idx, seq, budget](caf::error& err) {
      auto& s = self->state.slots[idx];
      if (s.gen_seq != seq || s.at != phase::generating) return;
      if (err == caf::sec::request_timeout) {
        // Hung, not crashed: the attempt is spent and the generator stopped.
        if (s.gen) self->send_exit(s.gen, caf::exit_reason::kill);
        s.gen = nullptr;
        ++s.gen_seq;
        timed_out(self, idx, "the generator did not answer within " + std::to_string(budget.count()) + " ms");
        return;
      }
      // The request to a generator on a node that went away fails before
      // (or instead of) the monitor's down message.
      bool lost = err == caf::sec::request_receiver_down && !self->state.deps.node_name.empty() &&
                  s.node != self->state.deps.node_name;
      on_crash(self, idx, self->system().render(err), lost);
    });
}

} // namespace

void spawn_attempt(self_ptr self, size_t idx) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  auto& cfg = st.deps.settings;
  if (s.deadline == std::chrono::steady_clock::time_point{}) {
    s.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{cfg.component_timeout_ms};
  }
  auto left = time_left(self, idx);
  if (left.count() <= 0) {
    s.at = phase::generating; // drop() closes from here
    drop(self, idx, deadline_passed(self, idx) + " before attempt " + std::to_string(s.report.attempts));
    return;
  }
  s.at = phase::generating;
  // An edit starts from the version at its branch's base (the worktree's
  // copy), so what it changed is exactly its own change when it lands or is
  // rebased: none there is this component's error.
  if (s.spec.action == "edit" && s.current.empty()) {
    if (!s.wt_opened) {
      open_worktree(self, idx);
      watched_request(
        self, step_timeout, *s.wt, messages::worktree_open{},
        [self, idx](const std::string&) {
          if (self->state.slots[idx].at == phase::generating) spawn_attempt(self, idx);
        },
        [self, idx](caf::error& err) {
          auto& s = self->state.slots[idx];
          s.wt.reset();
          drop(self, idx, "worktree failed: " + self->system().render(err));
        });
      return;
    }
    s.current = worktree_copy(self, s);
    if (s.current.empty()) {
      drop(self, idx,
           "cannot edit " + s.spec.name + ": the library has no " + s.spec.name + " (build it first: grove build \"" +
             s.spec.name + "\")");
      return;
    }
  }
  std::error_code ec;
  bool cached = s.use_cache && std::filesystem::exists(st.deps.repo / git::component_path(s.spec.name), ec);
  // A generation that will ask a model first gets the lessons of past mistakes that look like it.
  if (st.deps.lessons && !s.lessons_asked && !cached && st.deps.settings.lessons_injected > 0) {
    s.lessons_asked = true;
    watched_request(
      self, std::chrono::milliseconds{2000 + (cfg.embeddings.enabled() ? cfg.embeddings.timeout_ms : 0)},
      st.deps.lessons, messages::lessons_request{s.spec, st.deps.settings.lessons_injected},
      [self, idx](std::vector<messages::lesson>& given) {
        auto& s = self->state.slots[idx];
        s.lessons = std::move(given);
        if (!s.lessons.empty()) {
          std::string which;
          for (auto& l : s.lessons) {
            which +=
              (which.empty() ? "" : "; ") + l.code + " (" + l.kind + (l.matched.empty() ? "" : ", ") + l.matched + ")";
          }
          emit(self, s.spec.name, messages::stage::lessons_given, s.report.attempts, false, which);
        }
        if (s.at == phase::generating) spawn_attempt(self, idx);
      },
      [self, idx](caf::error&) { // no memory this time: generate without it
        if (self->state.slots[idx].at == phase::generating) spawn_attempt(self, idx);
      });
    return;
  }
  auto seq = ++s.gen_seq;
  if (!s.wt && !cached) open_worktree(self, idx);
  if (!st.deps.placement || cached) {
    run_attempt(self, idx, seq, st.deps.spawn_generator(self), st.deps.node_name);
    return;
  }
  // Model-bound: a node with free capacity gets it; a retry prefers another
  // node, and the provider its route escalates to.
  messages::placement_request pr;
  pr.job = st.plan.session_id;
  pr.component = s.spec.name;
  pr.attempt = s.report.attempts;
  if (s.report.attempts > 1 || s.report.restarts > 0) pr.avoid_node = s.node;
  if (s.report.attempts > 1) {
    if (auto i = cfg.models.retry_prefer.find("generate"); i != cfg.models.retry_prefer.end()) {
      pr.prefer_provider = i->second;
    }
  }
  pr.deadline_ms = now_ms() + left.count();
  self->request(st.deps.placement, left, std::move(pr))
    .then(
      [self, idx, seq](caf::actor& gen, std::string& node) {
        auto& s = self->state.slots[idx];
        auto typed = caf::actor_cast<generator_actor>(gen);
        if (s.gen_seq != seq || s.at != phase::generating) {
          self->send_exit(typed, caf::exit_reason::user_shutdown); // the attempt was abandoned meanwhile
          return;
        }
        run_attempt(self, idx, seq, typed, std::move(node));
      },
      [self, idx, seq](caf::error& err) {
        auto& s = self->state.slots[idx];
        if (s.gen_seq != seq || s.at != phase::generating) return;
        if (err == caf::sec::request_timeout) {
          drop(self, idx, deadline_passed(self, idx) + " while waiting for a node with free capacity");
          return;
        }
        drop(self, idx, "no node could take the generation: " + self->system().render(err));
      });
}

} // namespace grove::actors::job_flow
