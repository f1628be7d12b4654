#include "actors/llm_router.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <utility>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/router_budget.hpp"
#include "logic/prompts.hpp"
#include "logic/routing.hpp"
#include "messages/secrets.hpp"
#include "actors/telemetry.hpp"

namespace grove::actors {

namespace {

using logic::routing::clock;

struct provider_slot {
  std::shared_ptr<models::provider> impl;
  config::provider_settings cfg;
  logic::routing::breaker breaker;
  uint32_t in_flight = 0;
  std::deque<uint64_t> waiting;
  messages::usage total;
};

struct call_state {
  messages::model_request req;
  caf::typed_response_promise<messages::model_reply> rp;
  std::vector<std::string> route;
  size_t pos = 0;
  uint32_t retries = 0;
  uint32_t corrections = 0;
  std::string correction;
  std::vector<std::string> errors;
  bool admitted = false;    ///< let through by the spending limits: `held` until it ends
  router_budget::hold held;
};

struct job_account {
  messages::usage total;
  std::map<std::string, messages::usage> by_provider;
};

} // namespace

struct router_state {
  std::map<std::string, provider_slot> providers;
  config::model_settings models;
  telemetry_actor telemetry;
  std::vector<std::string> secrets;
  std::map<uint64_t, call_state> calls;
  std::map<std::string, job_account> jobs;
  router_budget budget{0, nullptr};
  std::deque<uint64_t> budget_waiting; ///< calls that wait for calls in flight to settle
  uint64_t next_call = 1;
  std::mt19937_64 rng{std::random_device{}()};
  ~router_state() {
    for (auto& [_, c] : calls) answer_service_down(c.rp, name);
  }
  static inline const char* name = "llm_router";
};

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

messages::telemetry_event event(self_ptr self, const call_state& c, messages::stage stage, std::string detail) {
  messages::telemetry_event ev;
  ev.job = c.req.job;
  ev.component = c.req.spec.name;
  ev.stage = stage;
  ev.attempt = c.req.attempt;
  ev.detail = messages::redact(std::move(detail), self->state.secrets);
  ev.ts_ms = now_ms();
  return ev;
}

void emit(self_ptr self, const call_state& c, messages::stage stage, std::string detail) {
  self->send(self->state.telemetry, event(self, c, stage, std::move(detail)));
}

void advance(self_ptr self, uint64_t id);

void fail(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end()) return; // answered already
  std::string why = "all providers failed for role " + it->second.req.role;
  for (auto& e : it->second.errors) why += "; " + e;
  it->second.rp.deliver(make_caf_error(messages::errc::model, messages::redact(why, st.secrets)));
  st.calls.erase(it);
}

// The spending limits that apply to a call to `slot`: go (reserved), wait
// (queued until a call settles) or refuse (the call fails with errc::budget).
logic::budget::verdict admit(self_ptr self, call_state& c, const provider_slot& slot) {
  bool priced = slot.cfg.price_in_per_mtok > 0 || slot.cfg.price_out_per_mtok > 0;
  if (!priced || c.admitted) return logic::budget::verdict::go;
  std::string why;
  auto v = self->state.budget.admit(c.req.job, c.held, why);
  if (v == logic::budget::verdict::refuse) {
    emit(self, c, messages::stage::model_skipped, slot.impl->name() + " not called: " + why);
    c.errors.push_back(why);
  }
  c.admitted = v == logic::budget::verdict::go;
  return v;
}

// An admitted call ended: what it cost is spent (journaled for the server's budget).
void settle_budget(self_ptr self, call_state& c, const std::string& who, double cost) {
  if (!std::exchange(c.admitted, false)) return;
  if (auto s = self->state.budget.settle(c.req.job, c.held, who, cost); !s) {
    emit(self, c, messages::stage::error, "the spend journal: " + s.error().message);
  }
}

void dispatch(self_ptr self, uint64_t id);

void wake_budget_waiters(self_ptr self) {
  auto waiting = std::move(self->state.budget_waiting);
  self->state.budget_waiting.clear();
  for (auto id : waiting) dispatch(self, id);
}

void dispatch(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto cit = st.calls.find(id);
  if (cit == st.calls.end()) return; // answered already
  auto& c = cit->second;
  if (c.req.deadline_ms > 0 && now_ms() >= c.req.deadline_ms) {
    // Its caller has given up: no new request, no retry, no fallback.
    c.errors.push_back("the call's deadline passed");
    fail(self, id);
    return;
  }
  auto sit = st.providers.find(c.route[c.pos]);
  if (sit == st.providers.end()) {
    c.errors.push_back(c.route[c.pos] + ": not configured");
    fail(self, id);
    return;
  }
  auto& slot = sit->second;
  if (slot.in_flight >= slot.cfg.max_concurrency) {
    slot.waiting.push_back(id);
    return;
  }
  switch (admit(self, c, slot)) {
    case logic::budget::verdict::go: break;
    case logic::budget::verdict::wait: st.budget_waiting.push_back(id); return;
    case logic::budget::verdict::refuse: {
      c.rp.deliver(make_caf_error(messages::errc::budget, messages::redact(c.errors.back(), st.secrets)));
      st.calls.erase(cit);
      return;
    }
  }
  ++slot.in_flight;
  auto handle = caf::actor_cast<router_actor>(self);
  slot.impl->complete(c.req, c.req.prompt + c.correction, [handle, id](messages::provider_done d) {
    // Runs on whatever thread the provider answers on: hand it to the actor.
    d.call = id;
    caf::anon_send(handle, std::move(d));
  });
}

// Lets the next queued call through after a slot frees up.
void release(self_ptr self, provider_slot& slot) {
  --slot.in_flight;
  while (!slot.waiting.empty() && slot.in_flight < slot.cfg.max_concurrency) {
    auto next = slot.waiting.front();
    slot.waiting.pop_front();
    if (self->state.calls.count(next)) dispatch(self, next);
  }
}

void advance(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto cit = st.calls.find(id);
  if (cit == st.calls.end()) return; // answered already
  auto& c = cit->second;
  auto now = clock::now();
  while (c.pos < c.route.size()) {
    auto it = st.providers.find(c.route[c.pos]);
    if (it == st.providers.end()) {
      c.errors.push_back(c.route[c.pos] + ": not configured");
    } else if (!it->second.breaker.allow(now)) {
      c.errors.push_back(it->second.impl->name() + ": cooling down after repeated failures");
      emit(self, c, messages::stage::model_skipped, it->second.impl->name() + " cooling down");
    } else {
      c.retries = 0;
      dispatch(self, id);
      return;
    }
    ++c.pos;
  }
  fail(self, id);
}

void fall_back(self_ptr self, uint64_t id, std::string why) {
  auto cit = self->state.calls.find(id);
  if (cit == self->state.calls.end()) return; // answered already
  auto& c = cit->second;
  c.errors.push_back(std::move(why));
  c.correction.clear();
  ++c.pos;
  advance(self, id);
}

// Adds a finished call's tokens and cost to its provider, its job and the job's per-provider row.
void account_usage(self_ptr self, const call_state& c, provider_slot& slot, const std::string& who,
                   const messages::provider_done& d) {
  auto add = [&](messages::usage& u) {
    logic::routing::account(u, d.reply.tokens_in, d.reply.tokens_out, slot.cfg.price_in_per_mtok,
                            slot.cfg.price_out_per_mtok, !d.ok);
  };
  add(slot.total);
  auto& job = self->state.jobs[c.req.job];
  add(job.total);
  auto& per = job.by_provider[who];
  per.provider = who;
  add(per);
}

// One telemetry event per model call, ok or not, with its figures.
void report_call(self_ptr self, const call_state& c, const std::string& who, const messages::provider_done& d,
                 double cost) {
  auto ev =
    event(self, c, d.ok ? messages::stage::model : messages::stage::model_failed,
          who + " " + (d.ok ? "ok" : "failed") + (d.http_status != 0 ? " http " + std::to_string(d.http_status) : "") +
            " " + std::to_string(d.latency_ms) + " ms tokens " + std::to_string(d.reply.tokens_in) + "/" +
            std::to_string(d.reply.tokens_out) + (d.ok ? "" : ": " + d.error));
  ev.provider = who;
  ev.http_status = d.http_status;
  ev.latency_ms = d.latency_ms;
  ev.tokens_in = d.reply.tokens_in;
  ev.tokens_out = d.reply.tokens_out;
  ev.cost_usd = cost;
  self->send(self->state.telemetry, std::move(ev));
}

// An answer came: deliver it if usable, else ask for a correction, else fall back.
void on_answer(self_ptr self, uint64_t id, provider_slot& slot, const std::string& who, messages::provider_done& d) {
  auto& st = self->state;
  auto& c = st.calls.find(id)->second;
  slot.breaker.success();
  auto text = logic::routing::extract_json(d.reply.text);
  auto problem = logic::routing::check_answer(c.req, text);
  if (problem.empty()) {
    d.reply.text = std::move(text);
    d.reply.provider = who;
    d.reply.corrections = c.corrections;
    c.rp.deliver(std::move(d.reply));
    st.calls.erase(id);
    return;
  }
  if (c.corrections < st.models.self_correction_attempts) {
    ++c.corrections;
    c.correction = logic::prompts::correction(problem);
    emit(self, c, messages::stage::correcting, who + ": " + problem);
    dispatch(self, id);
    return;
  }
  fall_back(self, id, who + ": unusable answer after " + std::to_string(c.corrections) + " corrections: " + problem);
}

// A call failed: retry the same provider after a backoff if it may, else fall back.
void on_failure(self_ptr self, uint64_t id, provider_slot& slot, const std::string& who,
                const messages::provider_done& d) {
  auto& st = self->state;
  auto& c = st.calls.find(id)->second;
  bool opened =
    slot.breaker.failure(clock::now(), slot.cfg.failure_threshold, std::chrono::milliseconds{slot.cfg.cooldown_ms});
  if (opened) {
    emit(self, c, messages::stage::model_cooldown,
         who + " cooling down for " + std::to_string(slot.cfg.cooldown_ms) + " ms");
  }
  if (!d.retryable || c.retries >= slot.cfg.max_retries || opened) {
    fall_back(self, id, who + ": " + d.error);
    return;
  }
  ++c.retries;
  auto delay = logic::routing::retry_delay(std::chrono::milliseconds{slot.cfg.backoff_base_ms},
                                           std::chrono::milliseconds{slot.cfg.backoff_max_ms}, c.retries,
                                           d.retry_after_ms, std::uniform_real_distribution<double>{0.0, 1.0}(st.rng));
  emit(self, c, messages::stage::model_retry,
       who + " retry " + std::to_string(c.retries) + " in " + std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, messages::router_retry{id});
}

void on_done(self_ptr self, messages::provider_done& d) {
  auto& st = self->state;
  auto it = st.calls.find(d.call);
  if (it == st.calls.end()) return; // answered already (deadline, restart)
  auto& c = it->second;
  auto sit = st.providers.find(c.route[c.pos]);
  if (sit == st.providers.end()) return fail(self, d.call);
  auto& slot = sit->second;
  auto who = slot.impl->name();
  auto cost = logic::budget::cost_of(d.reply.tokens_in, d.reply.tokens_out, slot.cfg.price_in_per_mtok,
                                     slot.cfg.price_out_per_mtok);
  // Settled before the slot lets the next call through, so that call sees this one's price.
  settle_budget(self, c, who, cost);
  release(self, slot);
  account_usage(self, c, slot, who, d);
  report_call(self, c, who, d, cost);
  if (d.ok) {
    on_answer(self, d.call, slot, who, d);
  } else {
    on_failure(self, d.call, slot, who, d);
  }
  wake_budget_waiters(self);
}

router_actor::behavior_type llm_router(self_ptr self, router_config cfg) {
  auto& st = self->state;
  st.models = std::move(cfg.models);
  st.telemetry = cfg.telemetry;
  st.budget = router_budget{st.models.max_cost_usd, std::move(cfg.ledger)};
  for (auto& [name, impl] : cfg.providers) {
    provider_slot slot;
    slot.impl = impl;
    if (auto i = st.models.providers.find(name); i != st.models.providers.end()) slot.cfg = i->second;
    slot.total.provider = impl->name();
    for (auto& s : impl->secrets()) st.secrets.push_back(s);
    st.providers.emplace(name, std::move(slot));
  }
  return {
    [self](messages::model_request& req) -> caf::result<messages::model_reply> {
      auto& st = self->state;
      auto rp = self->make_response_promise<messages::model_reply>();
      auto cap = st.models.max_tokens_per_job;
      if (cap > 0) {
        auto& used = st.jobs[req.job].total;
        if (used.tokens_in + used.tokens_out >= cap) {
          rp.deliver(make_caf_error(messages::errc::model, "token budget of " + std::to_string(cap) +
                                                             " tokens for job " + req.job + " is used up"));
          return rp;
        }
      }
      auto id = st.next_call++;
      call_state c;
      c.route = config::route_for(st.models, req.role, logic::routing::difficulty(req));
      c.req = std::move(req);
      c.rp = rp;
      st.calls.emplace(id, std::move(c));
      advance(self, id);
      return rp;
    },
    [self](messages::provider_done& d) { on_done(self, d); },
    [self](const messages::router_retry& r) {
      auto& st = self->state;
      auto it = st.calls.find(r.call);
      if (it == st.calls.end()) return;
      auto slot = st.providers.find(it->second.route[it->second.pos]);
      if (slot == st.providers.end() || !slot->second.breaker.allow(clock::now())) {
        fall_back(self, r.call, it->second.route[it->second.pos] + ": cooling down after repeated failures");
        return;
      }
      dispatch(self, r.call);
    },
    [self](const messages::usage_request& r) {
      auto& st = self->state;
      messages::job_usage out;
      auto it = st.jobs.find(r.job);
      if (it != st.jobs.end()) {
        out.total = it->second.total;
        for (auto& [_, u] : it->second.by_provider) out.by_provider.push_back(u);
      }
      // A job asks for its usage as it finishes: its accounts go then (the router's memory
      // stays the size of the jobs running), unless calls of it are still out.
      bool busy = std::any_of(st.calls.begin(), st.calls.end(), [&](auto& c) { return c.second.req.job == r.job; });
      if (!busy) {
        st.jobs.erase(r.job);
        st.budget.forget(r.job);
      }
      return out;
    },
  };
}

} // namespace

router_actor spawn_llm_router(caf::actor_system& sys, router_config cfg) {
  return sys.spawn(llm_router, std::move(cfg));
}

} // namespace grove::actors
