#include "runtime/gateway/backend.hpp"

#include "logic/metrics.hpp"
#include "messages/clock.hpp"

#include <cstdio>
#include <mutex>
#include <set>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/job_registry.hpp"

namespace grove::gateway {

namespace {

using frame_atom = caf::atom_constant<caf::atom("frame")>;
using closed_atom = caf::atom_constant<caf::atom("closed")>;

using session_actor = actors::job_sink_actor::extend<caf::reacts_to<frame_atom, std::string>, // a text frame arrived
                                                     caf::reacts_to<closed_atom>>;            // the client is gone

constexpr auto ask_timeout = std::chrono::seconds{30};

// The submission rate of every client address, shared by the sessions (on
// any actor thread).
struct address_limits {
  std::mutex mtx;
  logic::rate_limit::keyed table;
  explicit address_limits(logic::rate_limit::rate r) : table(r) {}
  int64_t take(const std::string& address) {
    std::lock_guard<std::mutex> guard{mtx};
    return table.take(address, messages::now_ms());
  }
};

std::string rate_limited(double per_minute, const std::string& what, const std::string& flag, int64_t wait_ms) {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", per_minute);
  return std::string{"more than "} + rate + " job submissions a minute " + what + " (" + flag + "): try again in " +
         std::to_string((wait_ms + 999) / 1000) + " s";
}

struct session_state {
  std::shared_ptr<connection> conn;
  backend_deps deps;
  std::set<std::string> running; ///< jobs this connection started and that have not ended
  std::set<std::string> ended;   ///< results that came before their `accepted`
  size_t submitting = 0;         ///< builds sent to the registry, not yet answered
  logic::rate_limit::bucket submits; ///< this connection's submission rate
  std::shared_ptr<address_limits> by_address;
  static inline const char* name = "gateway_session";
};

using session_ptr = session_actor::stateful_pointer<session_state>;

// The protocol's code and message for an error from the node: by the
// failure's code, never by reading its text.
std::pair<std::string, std::string> protocol_error(caf::actor_system& sys, const caf::error& err) {
  auto f = actors::from_caf(err);
  if (!f) return {"internal", sys.render(err)};
  switch (f->code) {
    case messages::errc::busy: return {"busy", f->message};
    case messages::errc::not_found: return {"unknown_job", f->message};
    case messages::errc::shutting_down: return {"shutting_down", f->message};
    case messages::errc::service_down: return {"unavailable", f->message};
    case messages::errc::budget: return {"budget", f->message};
    default: return {"internal", f->message};
  }
}

// Answers one frame; the connection reads its next frames only as earlier
// ones are done (`credit` calls frame_done once the last handler holding it,
// reply or error, is gone).
void on_command(session_ptr self, protocol::command& cmd) {
  auto& st = self->state;
  auto conn = st.conn;
  auto id = cmd.id;
  auto credit = std::shared_ptr<void>(nullptr, [conn](void*) { conn->frame_done(); });
  auto fail = [self, conn, id, credit](caf::error& err) {
    auto [code, message] = protocol_error(self->system(), err);
    conn->send(protocol::error_frame(code, message, id));
  };
  switch (cmd.kind) {
    case protocol::command::ping: conn->send(protocol::pong(id)); return;
    case protocol::command::build: {
      // Submissions not yet answered count too: a burst of builds cannot slip past the limit.
      auto held = st.running.size() + st.submitting;
      if (held >= st.deps.max_jobs_per_connection) {
        conn->send(protocol::error_frame("busy",
                                         "this connection already runs " + std::to_string(held) +
                                           " jobs (the limit per connection is " +
                                           std::to_string(st.deps.max_jobs_per_connection) + ")",
                                         id));
        return;
      }
      if (auto wait = logic::rate_limit::take(st.submits, st.deps.submits_per_connection, messages::now_ms())) {
        conn->send(protocol::error_frame(
          "rate_limited",
          rate_limited(st.deps.submits_per_connection.per_minute, "on this connection", "--rate-limit", wait), id));
        return;
      }
      if (st.by_address) {
        if (auto wait = st.by_address->take(conn->peer())) {
          conn->send(
            protocol::error_frame("rate_limited",
                                  rate_limited(st.deps.submits_per_address.per_minute,
                                               "from this address (" + conn->peer() + ")", "--rate-limit-ip", wait),
                                  id));
          return;
        }
      }
      ++st.submitting;
      auto sink = caf::actor_cast<actors::job_sink_actor>(self);
      self->request(st.deps.registry, ask_timeout, messages::submit_job{std::move(cmd.start)}, sink)
        .then(
          [self, conn, id, credit](const std::string& job) {
            auto& st = self->state;
            --st.submitting;
            if (st.ended.erase(job) == 0) st.running.insert(job);
            if (st.submitting == 0) st.ended.clear();
            conn->send(protocol::accepted(job, id));
          },
          [self, fail](caf::error& err) {
            if (--self->state.submitting == 0) self->state.ended.clear();
            fail(err);
          });
      return;
    }
    case protocol::command::status:
      self->request(st.deps.registry, ask_timeout, messages::status_request{cmd.job})
        .then([conn, id, credit](const messages::status_reply& r) { conn->send(protocol::status(r, id)); }, fail);
      return;
    case protocol::command::cancel: {
      auto job = cmd.job;
      self->request(st.deps.registry, ask_timeout, messages::cancel_job{job, "cancelled by a client"})
        .then([conn, id, job, credit](bool was_running) { conn->send(protocol::cancelled(job, was_running, id)); },
              fail);
      return;
    }
    case protocol::command::subscribe: {
      auto job = cmd.job;
      auto sink = caf::actor_cast<actors::job_sink_actor>(self);
      self->request(st.deps.registry, ask_timeout, actors::subscribe_atom::value, job, sink)
        .then(
          [conn, id, job, credit](bool known) {
            conn->send(known ? protocol::subscribed(job, id)
                             : protocol::error_frame("unknown_job", "unknown job " + job, id, job));
          },
          fail);
      return;
    }
  }
}

session_actor::behavior_type session(session_ptr self, std::shared_ptr<connection> conn, backend_deps deps,
                                     std::shared_ptr<address_limits> by_address) {
  self->state.conn = std::move(conn);
  self->state.deps = std::move(deps);
  self->state.by_address = std::move(by_address);
  // Sessions end with the node: when the registry goes down, so do they.
  self->link_to(self->state.deps.registry);
  return {
    [self](frame_atom, std::string& text) {
      auto parsed = protocol::parse(text, self->state.deps.limits);
      if (auto* err = std::get_if<protocol::error>(&parsed)) {
        self->state.conn->send(protocol::error_frame(err->code, err->message, err->id));
        self->state.conn->frame_done();
        return;
      }
      on_command(self, std::get<protocol::command>(parsed));
    },
    [self](closed_atom) { self->quit(); },
    [self](const messages::telemetry_event& ev) { self->state.conn->send(protocol::event(ev)); },
    [self](const messages::job_report& r) {
      auto& st = self->state;
      // A result that overtakes its `accepted` frees the slot when that arrives.
      if (st.running.erase(r.job) == 0 && st.submitting > 0) st.ended.insert(r.job);
      self->state.conn->send(protocol::result(r));
    },
  };
}

// Turns WebSocket callbacks (I/O thread) into messages for the session actor.
class session_handler final : public connection_handler {
public:
  explicit session_handler(session_actor a) : actor_(std::move(a)) {}
  ~session_handler() override { caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown); }
  void on_frame(std::string text) override { caf::anon_send(actor_, frame_atom::value, std::move(text)); }
  void on_close() override { caf::anon_send(actor_, closed_atom::value); }

private:
  session_actor actor_;
};

bool safe_job_id(const std::string& job) {
  if (job.empty() || job.size() > 64) return false;
  for (char c : job) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

class caf_backend final : public backend {
public:
  caf_backend(caf::actor_system& sys, backend_deps deps) : sys_(sys), deps_(std::move(deps)) {
    if (deps_.submits_per_address.per_minute > 0) {
      by_address_ = std::make_shared<address_limits>(deps_.submits_per_address);
    }
  }

  std::unique_ptr<connection_handler> open(std::shared_ptr<connection> conn) override {
    return std::make_unique<session_handler>(sys_.spawn(session, std::move(conn), deps_, by_address_));
  }

  void get(const std::string& path, std::function<void(http_reply)> done) override {
    auto deps = deps_;
    sys_.spawn([path, done, deps](caf::event_based_actor* self) {
      auto fail = [self, done](caf::error& err) {
        done({500, "text/plain; charset=utf-8", self->system().render(err) + "\n"});
        self->quit();
      };
      auto cluster = caf::actor_cast<actors::cluster_actor>(deps.cluster);
      if (path == "/metrics") {
        self->request(deps.telemetry, ask_timeout, actors::metrics_atom::value)
          .then(
            [self, done, cluster, fail, ledger = deps.ledger](std::string text) {
              if (ledger) {
                text += logic::metrics::render_budget(ledger->limit_usd(), ledger->window_ms(),
                                                      ledger->spent_by_provider(messages::now_ms()));
              }
              if (!cluster) {
                done({200, "text/plain; version=0.0.4; charset=utf-8", text});
                self->quit();
                return;
              }
              self->request(cluster, ask_timeout, actors::nodes_atom::value)
                .then(
                  [self, done, text](const std::vector<messages::node_info>& nodes) {
                    done({200, "text/plain; version=0.0.4; charset=utf-8", text + logic::metrics::render_nodes(nodes)});
                    self->quit();
                  },
                  fail);
            },
            fail);
        return;
      }
      if (path == "/api/budget") {
        protocol::budget_view b;
        if (auto& l = deps.ledger) {
          auto now = messages::now_ms();
          b.configured = true;
          b.limit_usd = l->limit_usd();
          b.window_ms = l->window_ms();
          b.spent_by_provider = l->spent_by_provider(now);
          b.frees_at_ms = l->frees_at(now);
        }
        done({200, "application/json", protocol::budget_json(b)});
        self->quit();
        return;
      }
      if (path == "/api/nodes") {
        if (!cluster) {
          done({200, "application/json", "[]"});
          self->quit();
          return;
        }
        self->request(cluster, ask_timeout, actors::nodes_atom::value)
          .then(
            [self, done](const std::vector<messages::node_info>& nodes) {
              done({200, "application/json", protocol::nodes_json(nodes)});
              self->quit();
            },
            fail);
        return;
      }
      if (path == "/api/jobs") {
        self->request(deps.registry, ask_timeout, messages::status_request{})
          .then(
            [self, done](const messages::status_reply& r) {
              done({200, "application/json", protocol::jobs_json(r)});
              self->quit();
            },
            fail);
        return;
      }
      auto job = path.substr(std::string{"/output/"}.size());
      if (!safe_job_id(job)) {
        done({404, "text/plain; charset=utf-8", "no such job\n"});
        self->quit();
        return;
      }
      self->request(deps.registry, ask_timeout, messages::status_request{job})
        .then(
          [self, done, deps](const messages::status_reply& r) {
            if (r.jobs.empty() || !r.jobs[0].finished || r.jobs[0].report.composition_commit.empty()) {
              done({404, "text/plain; charset=utf-8", "job has no page (yet)\n"});
              self->quit();
              return;
            }
            auto integrator =
              caf::actor_cast<actors::integrator_actor>(caf::actor_cast<caf::strong_actor_ptr>(deps.integrator));
            if (!integrator) {
              done({503, "text/plain; charset=utf-8", "the node is shutting down\n"});
              self->quit();
              return;
            }
            self->request(integrator, ask_timeout, messages::page_request{r.jobs[0].report.composition_commit})
              .then(
                [self, done](std::string& page) {
                  done({200, "text/html; charset=utf-8", std::move(page)});
                  self->quit();
                },
                [self, done](caf::error& err) {
                  auto f = actors::from_caf(err);
                  done({404, "text/plain; charset=utf-8", (f ? f->message : self->system().render(err)) + "\n"});
                  self->quit();
                });
          },
          [self, done](caf::error&) {
            done({404, "text/plain; charset=utf-8", "no such job\n"});
            self->quit();
          });
    });
  }

private:
  caf::actor_system& sys_;
  backend_deps deps_;
  std::shared_ptr<address_limits> by_address_; ///< null: no limit per address
};

} // namespace

std::shared_ptr<backend> make_backend(caf::actor_system& sys, backend_deps deps) {
  return std::make_shared<caf_backend>(sys, std::move(deps));
}

namespace {

// A worker node runs no jobs: every frame is answered with where to go instead, then the connection closes.
class no_jobs_handler final : public connection_handler {
public:
  explicit no_jobs_handler(std::shared_ptr<connection> conn) : conn_(std::move(conn)) {}
  void on_frame(std::string) override {
    conn_->send(protocol::error_frame("not_found",
                                      "this is a worker node: it runs no jobs; send builds to the "
                                      "serving node (grove serve)"));
    conn_->frame_done();
    conn_->close();
  }
  void on_close() override {}

private:
  std::shared_ptr<connection> conn_;
};

class worker_backend final : public backend {
public:
  worker_backend(caf::actor_system& sys, actors::telemetry_actor telemetry) : sys_(sys), telemetry_(telemetry) {}

  std::unique_ptr<connection_handler> open(std::shared_ptr<connection> conn) override {
    return std::make_unique<no_jobs_handler>(std::move(conn));
  }

  void get(const std::string& path, std::function<void(http_reply)> done) override {
    if (path != "/metrics") {
      done({404, "text/plain; charset=utf-8", "a worker node serves /metrics and /healthz only\n"});
      return;
    }
    auto telemetry = telemetry_;
    sys_.spawn([done, telemetry](caf::event_based_actor* self) {
      self->request(telemetry, ask_timeout, actors::metrics_atom::value)
        .then(
          [self, done](const std::string& text) {
            done({200, "text/plain; version=0.0.4; charset=utf-8", text});
            self->quit();
          },
          [self, done](caf::error& err) {
            done({500, "text/plain; charset=utf-8", self->system().render(err) + "\n"});
            self->quit();
          });
    });
  }

private:
  caf::actor_system& sys_;
  actors::telemetry_actor telemetry_;
};

} // namespace

std::shared_ptr<backend> make_worker_backend(caf::actor_system& sys, actors::telemetry_actor telemetry) {
  return std::make_shared<worker_backend>(sys, std::move(telemetry));
}

} // namespace grove::gateway
