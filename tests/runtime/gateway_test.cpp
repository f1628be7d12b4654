// The gateway over real WebSocket and HTTP on loopback: the protocol, every
// error code, limits, tokens, cancel, many clients at once, /metrics.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "infra/models/provider.hpp"
#include "logic/templates.hpp"
#include "runtime/gateway/backend.hpp"
#include "runtime/gateway/server.hpp"
#include "infra/git/git.hpp"
#include "infra/http/ws_client.hpp"
#include "runtime/node.hpp"
#include "runtime/node_fixture.hpp"
#include "prometheus.hpp"
#include "support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

using namespace grove;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Answers like the builtin provider, but from its own thread after `delay`,
// as an HTTP provider would: the router never blocks.
class slow_provider final : public models::provider {
public:
  explicit slow_provider(std::chrono::milliseconds delay) : delay_(delay), builtin_(models::make_builtin_provider()) {}
  ~slow_provider() override {
    for (auto& t : threads_) t.join();
  }
  std::string name() const override { return "slow"; }
  void complete(const messages::model_request& req, const std::string& prompt, models::completion done) override {
    if (req.role != "generate") return builtin_->complete(req, prompt, std::move(done));
    std::lock_guard<std::mutex> guard{mtx_};
    threads_.emplace_back([this, req, prompt, done = std::move(done)]() mutable {
      std::this_thread::sleep_for(delay_);
      builtin_->complete(req, prompt, std::move(done));
    });
  }

private:
  std::chrono::milliseconds delay_;
  std::shared_ptr<models::provider> builtin_;
  std::mutex mtx_;
  std::vector<std::thread> threads_;
};

struct frames {
  std::vector<json> all;
  json last_of(const std::string& type) const {
    for (auto i = all.rbegin(); i != all.rend(); ++i) {
      if ((*i)["type"] == type) return *i;
    }
    return json{};
  }
};

class gateway_protocol : public ::testing::Test {
protected:
  void start(std::chrono::milliseconds model_delay = 0ms, std::string token = {}, uint32_t max_jobs = 64,
             size_t max_connections = 256, uint32_t per_connection = 8, uint32_t max_queued = 1024) {
    ASSERT_TRUE(git::repository::open_or_init(root()));
    runtime::node_options opts;
    opts.repo = root();
    opts.settings.parallel = 4;
    opts.provider =
      model_delay.count() > 0 ? std::make_shared<slow_provider>(model_delay) : models::make_builtin_provider();
    node = std::make_unique<runtime::node>(sys, opts);
    registry = node->registry(max_jobs, max_queued);
    grove::gateway::backend_deps deps;
    deps.registry = registry;
    deps.telemetry = node->telemetry();
    deps.integrator = caf::actor_cast<caf::weak_actor_ptr>(node->integrator());
    deps.limits.max_request_bytes = 2000;
    deps.max_jobs_per_connection = per_connection;
    deps.submits_per_connection = submits_per_connection;
    deps.submits_per_address = submits_per_address;
    grove::gateway::server_options so;
    so.port = 0;
    so.token = std::move(token);
    so.max_frame_bytes = 4096;
    so.max_connections = max_connections;
    so.max_queued_bytes = queued_cap;
    so.socket_send_buffer_bytes = send_buffer;
    server = std::make_unique<grove::gateway::server>(so, grove::gateway::make_backend(sys, deps));
    ASSERT_EQ(server->start(), "");
  }

  void TearDown() override {
    if (server) server->stop();
    if (node) node->shutdown();
  }

  std::filesystem::path root() const { return dir.path() / "ws"; }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(server->port()) + "/ws"; }
  std::string http_url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }

  std::unique_ptr<http::ws_client> connect(const std::string& token = {}) {
    auto c = http::ws_client::connect(ws_url(), token);
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }

  static json ask(http::ws_client& c, const json& frame) {
    auto sent = c.send_text(frame.dump());
    EXPECT_TRUE(sent);
    auto text = c.read(10s);
    EXPECT_TRUE(text) << text.error().message;
    return text ? json::parse(*text) : json{};
  }

  // Reads frames until a result (or an error) arrives.
  static frames until_result(http::ws_client& c, std::chrono::seconds timeout = 60s) {
    frames out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = c.read(timeout);
      if (!text) break;
      out.all.push_back(json::parse(*text));
      auto type = out.all.back()["type"];
      if (type == "result" || type == "error") break;
    }
    return out;
  }

  static json next(http::ws_client& c) {
    auto text = c.read(10s);
    EXPECT_TRUE(text) << text.error().message;
    return text ? json::parse(*text) : json{};
  }

  static void expect_usable(http::ws_client& c) {
    auto pong = ask(c, {{"type", "ping"}, {"id", "still-there"}});
    EXPECT_EQ(pong["type"], "pong");
    EXPECT_EQ(pong["id"], "still-there");
  }

  size_t queued_cap = 4 * 1024 * 1024;
  grove::logic::rate_limit::rate submits_per_connection; ///< none unless a test sets one
  grove::logic::rate_limit::rate submits_per_address;
  int send_buffer = 256 * 1024;
  test::temp_dir dir;
  test::node_system_config cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<runtime::node> node;
  actors::job_registry_actor registry;
  std::unique_ptr<grove::gateway::server> server;
};

json plan_of(const std::vector<std::string>& names) {
  json comps = json::array();
  for (auto& n : names) comps.push_back({{"name", n}});
  return {{"request", "test plan"}, {"components", comps}};
}

} // namespace

TEST_F(gateway_protocol, build_streams_events_then_the_result) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto accepted = ask(*c, {{"type", "build"}, {"request", "a navbar and a login form"}, {"id", 7}});
  ASSERT_EQ(accepted["type"], "accepted") << accepted.dump();
  EXPECT_EQ(accepted["id"], "7");
  auto job = accepted["job"].get<std::string>();
  auto f = until_result(*c);
  auto result = f.last_of("result");
  ASSERT_FALSE(result.is_null()) << f.all.back().dump();
  EXPECT_EQ(result["job"], job);
  EXPECT_EQ(result["report"]["status"], "done");
  EXPECT_EQ(result["report"]["components"].size(), 2u);
  std::set<std::string> stages;
  for (auto& fr : f.all) {
    if (fr["type"] == "event") {
      EXPECT_EQ(fr["job"], job);
      stages.insert(fr["stage"].get<std::string>());
    }
  }
  for (auto s : {"started", "planning", "planned", "generating", "qa", "merging", "landed", "composing", "done"}) {
    EXPECT_TRUE(stages.count(s)) << "missing event stage " << s;
  }
  EXPECT_EQ(f.all.back()["type"], "result") << "the result is the last frame of a job";
  // status of a finished job carries its report; /output serves its page.
  auto st = ask(*c, {{"type", "status"}, {"job", job}});
  ASSERT_EQ(st["type"], "status");
  EXPECT_EQ(st["jobs"][0]["state"], "done");
  EXPECT_EQ(st["jobs"][0]["report"]["status"], "done");
  auto page = http::http_get(http_url("/output/" + job));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("data-component=\"login_form\""), std::string::npos);
  test::expect_clean_repository(root());
}

TEST_F(gateway_protocol, every_error_code_answers_and_the_connection_stays_usable) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto code = [&](const std::string& raw) {
    EXPECT_TRUE(c->send_text(raw));
    auto text = c->read(10s);
    EXPECT_TRUE(text);
    auto f = json::parse(text ? *text : "{}");
    EXPECT_EQ(f["type"], "error") << raw;
    EXPECT_FALSE(f.value("message", "").empty());
    return f.value("code", "");
  };
  EXPECT_EQ(code("{not json"), "invalid_json");
  EXPECT_EQ(code("[1,2]"), "invalid_message");
  EXPECT_EQ(code(R"({"request":"x"})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":7})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"build"})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"build","request":42})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"build","request":"   "})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"build","request":"x","plan":{}})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"cancel"})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"build","request":"x","fresh":"yes"})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"build","plan":{"components":[{"name":"a","action":"delete"}]}})"), "invalid_plan");
  EXPECT_EQ(code(R"({"type":"status","job":{"$ne":1}})"), "invalid_message");
  EXPECT_EQ(code(R"({"type":"launch_missiles"})"), "unknown_type");
  EXPECT_EQ(code(json{{"type", "build"}, {"request", std::string(3000, 'a')}}.dump()), "request_too_long");
  EXPECT_EQ(code(R"({"type":"build","plan":{"components":[{"name":"../.."}]}})"), "invalid_plan");
  EXPECT_EQ(code(R"({"type":"build","plan":{"components":[]}})"), "invalid_plan");
  EXPECT_EQ(code(R"({"type":"status","job":"nosuchjob"})"), "unknown_job");
  EXPECT_EQ(code(R"({"type":"cancel","job":"nosuchjob"})"), "unknown_job");
  EXPECT_EQ(code(R"({"type":"subscribe","job":"nosuchjob"})"), "unknown_job");
  ASSERT_TRUE(c->send_binary("\x01\x02\x03"));
  EXPECT_EQ(next(*c)["code"], "binary_not_supported");
  ASSERT_TRUE(c->send_text(json{{"type", "ping"}, {"pad", std::string(6000, 'x')}}.dump()));
  EXPECT_EQ(next(*c)["code"], "frame_too_large");
  expect_usable(*c);
  // Invalid UTF-8 in a text frame breaks RFC 6455 itself: that connection is
  // closed (1007), the server stays up.
  ASSERT_TRUE(c->send_text(std::string{"{\"type\":\"build\",\"request\":\"\xff\xfe\xfd navbar\"}"}));
  EXPECT_FALSE(c->read(5s));
  c = connect();
  ASSERT_TRUE(c);
  expect_usable(*c);
  // A frame far beyond the limit closes that connection (1009); the server stays up.
  // The server may close while the client is still writing: the send itself can fail.
  (void)c->send_text(std::string(2 * 1024 * 1024, ' '));
  EXPECT_FALSE(c->read(5s));
  auto fresh = connect();
  ASSERT_TRUE(fresh);
  expect_usable(*fresh);
  auto health = http::http_get(http_url("/healthz"));
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(gateway_protocol, jobs_beyond_the_limit_and_the_queue_are_refused_with_busy) {
  start(400ms, {}, /*max_jobs=*/1, 256, /*per_connection=*/8, /*max_queued=*/0);
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(a && b);
  auto first = ask(*a, {{"type", "build"}, {"plan", plan_of({"navbar", "footer"})}});
  ASSERT_EQ(first["type"], "accepted");
  auto second = ask(*b, {{"type", "build"}, {"plan", plan_of({"hero"})}});
  EXPECT_EQ(second["type"], "error");
  EXPECT_EQ(second["code"], "busy") << second.dump();
  expect_usable(*b);
  EXPECT_EQ(until_result(*a).last_of("result")["report"]["status"], "done");
  auto third = ask(*b, {{"type", "build"}, {"plan", plan_of({"hero"})}});
  EXPECT_EQ(third["type"], "accepted") << "capacity comes back once the first job ends";
  until_result(*b);
}

TEST_F(gateway_protocol, a_connection_runs_at_most_its_share_of_jobs) {
  start(300ms, {}, 64, 256, /*per_connection=*/1);
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_EQ(ask(*c, {{"type", "build"}, {"plan", plan_of({"navbar"})}})["type"], "accepted");
  auto refused = ask(*c, {{"type", "build"}, {"plan", plan_of({"footer"})}});
  // An event of the first job may come first: skip to the answer.
  while (refused["type"] == "event") refused = next(*c);
  EXPECT_EQ(refused["code"], "busy") << refused.dump();
  until_result(*c);
}

TEST_F(gateway_protocol, token_is_required_everywhere_but_healthz) {
  start(0ms, "s3cret-token");
  EXPECT_FALSE(http::ws_client::connect(ws_url(), ""));
  auto wrong = http::ws_client::connect(ws_url(), "s3cret-tokeN");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("401"), std::string::npos) << wrong.error().message;
  auto right = http::ws_client::connect(ws_url(), "s3cret-token");
  ASSERT_TRUE(right) << right.error().message;
  expect_usable(**right);
  auto by_query = http::ws_client::connect(ws_url() + "?token=s3cret-token", "");
  ASSERT_TRUE(by_query) << by_query.error().message;
  EXPECT_EQ(http::http_get(http_url("/api/jobs"))->status, 401);
  EXPECT_EQ(http::http_get(http_url("/metrics"))->status, 401);
  EXPECT_EQ(http::http_get(http_url("/"))->status, 401);
  EXPECT_EQ(http::http_get(http_url("/api/jobs"), "s3cret-token")->status, 200);
  EXPECT_EQ(http::http_get(http_url("/?token=s3cret-token"))->status, 200);
  EXPECT_EQ(http::http_get(http_url("/healthz"))->status, 200);
  EXPECT_TRUE(grove::gateway::token_matches("abc", "abc"));
  EXPECT_FALSE(grove::gateway::token_matches("abd", "abc"));
  EXPECT_FALSE(grove::gateway::token_matches("ab", "abc"));
  EXPECT_FALSE(grove::gateway::token_matches("", "abc"));
}

TEST_F(gateway_protocol, connections_beyond_the_limit_are_refused) {
  start(0ms, {}, 64, /*max_connections=*/2);
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(a && b);
  auto c = http::ws_client::connect(ws_url(), "");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("503"), std::string::npos) << c.error().message;
  a->close();
  a.reset();
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(http::ws_client::connect(ws_url(), "")) << "a slot frees when a client leaves";
}

TEST_F(gateway_protocol, cancel_mid_job_leaves_the_repository_clean) {
  start(300ms);
  auto c = connect();
  ASSERT_TRUE(c);
  auto accepted =
    ask(*c, {{"type", "build"},
             {"plan", plan_of({"navbar", "hero", "cards", "footer", "sidebar", "modal", "chart", "search"})}});
  ASSERT_EQ(accepted["type"], "accepted");
  auto job = accepted["job"].get<std::string>();
  // Wait until work is under way, then cancel.
  for (;;) {
    auto f = next(*c);
    if (f["type"] == "event" && f["stage"] == "generating") break;
  }
  ASSERT_TRUE(c->send_text(json{{"type", "cancel"}, {"job", job}, {"id", "c1"}}.dump()));
  auto f = until_result(*c);
  auto cancelled = f.last_of("cancelled");
  ASSERT_FALSE(cancelled.is_null());
  EXPECT_EQ(cancelled["was_running"], true);
  auto result = f.last_of("result");
  ASSERT_FALSE(result.is_null());
  EXPECT_EQ(result["report"]["status"], "cancelled");
  size_t dropped = 0;
  for (auto& comp : result["report"]["components"]) dropped += comp["status"] == "dropped";
  EXPECT_GT(dropped, 0u);
  test::expect_clean_repository(root());
  auto again = ask(*c, {{"type", "cancel"}, {"job", job}});
  EXPECT_EQ(again["type"], "cancelled");
  EXPECT_EQ(again["was_running"], false);
}

TEST_F(gateway_protocol, fifty_concurrent_clients_sharing_a_component_never_collide) {
  start(20ms);
  constexpr int clients = 50;
  std::atomic<int> done{0};
  std::vector<std::string> failures;
  std::mutex mtx;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto c = http::ws_client::connect(ws_url(), "");
      if (!c) {
        std::lock_guard<std::mutex> g{mtx};
        failures.push_back("connect: " + c.error().message);
        return;
      }
      // Every job wants "navbar" (shared) plus a component of its own.
      auto plan = plan_of({"navbar", "part" + std::to_string(i)});
      ASSERT_TRUE((*c)->send_text(json{{"type", "build"}, {"plan", plan}}.dump()));
      auto f = until_result(**c, 120s);
      auto r = f.last_of("result");
      std::lock_guard<std::mutex> g{mtx};
      if (!r.is_null() && r["report"]["status"] == "done") {
        ++done;
      } else {
        failures.push_back(f.all.empty() ? "no frames" : f.all.back().dump());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), clients) << (failures.empty() ? "" : failures.front());
  EXPECT_EQ(test::count_lines(test::git_cli(root(), "log --oneline --grep='^grove: merge navbar$'").out), 1u)
    << "navbar landed once; every other job waited for it and reused it";
  test::expect_clean_repository(root());
}

TEST_F(gateway_protocol, subscribe_all_sees_other_clients_jobs) {
  start();
  auto watcher = connect();
  auto worker = connect();
  ASSERT_TRUE(watcher && worker);
  EXPECT_EQ(ask(*watcher, {{"type", "subscribe"}, {"job", "*"}})["type"], "subscribed");
  auto accepted = ask(*worker, {{"type", "build"}, {"request", "a footer"}});
  auto f = until_result(*watcher);
  EXPECT_EQ(f.last_of("result")["job"], accepted["job"]);
  until_result(*worker);
}

TEST_F(gateway_protocol, metrics_are_prometheus_text) {
  start();
  auto c = connect();
  ask(*c, {{"type", "build"}, {"request", "a navbar"}});
  until_result(*c);
  auto m = http::http_get(http_url("/metrics"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->content_type.find("text/plain"), std::string::npos);
  // Every line parses as Prometheus text exposition format (tests/prometheus.hpp).
  auto check = test::check_prometheus_text(m->body);
  for (auto& p : check.problems) ADD_FAILURE() << p;
  auto samples = check.samples;
  EXPECT_GT(samples, 20u);
  EXPECT_NE(m->body.find("grove_jobs_total{status=\"done\"} 1"), std::string::npos);
  EXPECT_NE(m->body.find("grove_components_total{result=\"landed\"} 1"), std::string::npos);
  EXPECT_NE(m->body.find("grove_model_latency_seconds_bucket{provider=\"builtin\",le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(m->body.find("grove_worktrees_in_flight 0"), std::string::npos);
}

TEST_F(gateway_protocol, shutting_down_refuses_new_jobs) {
  start();
  caf::scoped_actor self{sys};
  bool drained = false;
  self->request(registry, 10s, actors::drain_atom::value, false)
    .receive([&](bool) { drained = true; }, [](caf::error&) {});
  ASSERT_TRUE(drained);
  auto c = connect();
  auto refused = ask(*c, {{"type", "build"}, {"request", "a navbar"}});
  EXPECT_EQ(refused["code"], "shutting_down") << refused.dump();
}

namespace {

// The head of the answer to one raw request on a fresh connection.
std::string raw_head(uint16_t port, const std::string& req) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  std::string head;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t n;
    while (head.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0) head.append(buf, n);
  }
  ::close(fd);
  return head;
}

std::string upgrade_request(const std::string& target) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

} // namespace

TEST_F(gateway_protocol, websocket_upgrades_on_ws_and_on_the_bare_url_and_a_plain_get_of_ws_says_how) {
  start();
  EXPECT_EQ(raw_head(server->port(), upgrade_request("/ws")).rfind("HTTP/1.1 101", 0), 0u);
  EXPECT_EQ(raw_head(server->port(), upgrade_request("/")).rfind("HTTP/1.1 101", 0), 0u);
  EXPECT_EQ(raw_head(server->port(), upgrade_request("/other")).rfind("HTTP/1.1 404", 0), 0u);
  auto other = http::http_get(http_url("/ws"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 426);
  EXPECT_NE(other->body.find("WebSocket client"), std::string::npos) << other->body;
  EXPECT_NE(other->body.find("upgrade_required"), std::string::npos) << other->body;
}

TEST_F(gateway_protocol, dashboard_assets_are_served) {
  start();
  auto index = http::http_get(http_url("/"));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->content_type.find("text/html"), std::string::npos);
  EXPECT_NE(index->body.find("/app.js"), std::string::npos);
  EXPECT_EQ(http::http_get(http_url("/app.js"))->status, 200);
  EXPECT_EQ(http::http_get(http_url("/style.css"))->status, 200);
  EXPECT_EQ(http::http_get(http_url("/../../etc/passwd"))->status, 404);
  EXPECT_EQ(http::http_get(http_url("/output/..%2f..%2fetc"))->status, 404);
}

namespace {

// A WebSocket client that sends and never reads, with a tiny receive buffer
// so that whatever the server answers backs up at once: the attacker.
class deaf_client final {
public:
  explicit deaf_client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    std::string req =
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return;
    std::string head;
    char ch;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &ch, 1, 0) == 1) head += ch;
    upgraded_ = head.rfind("HTTP/1.1 101", 0) == 0;
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~deaf_client() { ::close(fd_); }
  deaf_client(const deaf_client&) = delete;
  deaf_client& operator=(const deaf_client&) = delete;

  bool upgraded() const { return upgraded_; }

  /// Queues one masked text frame and sends what the socket takes; false
  /// while earlier bytes are still waiting (the server stopped reading).
  bool send_frame(const std::string& text) {
    if (!flush()) return false;
    std::string f;
    f += static_cast<char>(0x81);
    f += static_cast<char>(0x80 | text.size()); // under 126 bytes
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(mask, 4);
    for (size_t i = 0; i < text.size(); ++i) f += static_cast<char>(text[i] ^ mask[i % 4]);
    pending_ += f;
    flush();
    return true;
  }

  size_t sent() const { return sent_; }

  /// Reads (at last) until the server ends the connection; the close code it
  /// sent (0 if it cut the connection without one), or -1 if it stays open.
  int wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string in;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 100);
      char buf[65536];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return close_code(in);
    }
    return -1;
  }

private:
  bool flush() {
    while (!pending_.empty()) {
      auto n = ::send(fd_, pending_.data(), pending_.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent_ += static_cast<size_t>(n);
      pending_.erase(0, static_cast<size_t>(n));
    }
    return true;
  }

  // The code of the first close frame among the server's frames, or 0.
  static int close_code(const std::string& in) {
    size_t at = 0;
    while (at + 2 <= in.size()) {
      auto op = static_cast<unsigned char>(in[at]) & 0x0f;
      uint64_t len = static_cast<unsigned char>(in[at + 1]) & 0x7f;
      size_t head = 2;
      if (len == 126 && at + 4 <= in.size()) {
        len = (static_cast<unsigned char>(in[at + 2]) << 8) | static_cast<unsigned char>(in[at + 3]);
        head = 4;
      } else if (len == 127 && at + 10 <= in.size()) {
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(in[at + 2 + i]);
        head = 10;
      }
      if (op == 8 && at + head + 2 <= in.size()) {
        return (static_cast<unsigned char>(in[at + head]) << 8) | static_cast<unsigned char>(in[at + head + 1]);
      }
      at += head + len;
    }
    return 0;
  }

  int fd_ = -1;
  bool upgraded_ = false;
  std::string pending_;
  size_t sent_ = 0;
};

long rss_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

} // namespace

TEST_F(gateway_protocol, a_client_that_floods_requests_and_never_reads_stays_bounded) {
  start();
  // Large status answers: a few jobs of a dozen components each.
  auto c = connect();
  ASSERT_TRUE(c);
  std::vector<std::string> names{"navbar", "hero",    "cards",        "footer",     "sidebar", "search_bar",
                                 "modal",  "pricing", "contact_form", "data_table", "chart",   "dashboard"};
  for (int j = 0; j < 4; ++j) {
    std::vector<std::string> job;
    for (auto& n : names) job.push_back(n + "_" + std::to_string(j));
    ASSERT_EQ(ask(*c, {{"type", "build"}, {"plan", plan_of(job)}})["type"], "accepted");
    ASSERT_EQ(until_result(*c).last_of("result")["report"]["status"], "done");
  }
  auto status_size = ask(*c, {{"type", "status"}}).dump().size();
  auto before = rss_kib();
  deaf_client deaf{server->port()};
  ASSERT_TRUE(deaf.upgraded());
  size_t frames_sent = 0;
  auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    if (deaf.send_frame(R"({"type":"status"})")) {
      ++frames_sent;
    } else {
      std::this_thread::sleep_for(2ms);
    }
  }
  auto grown_kib = rss_kib() - before;
  std::cerr << "flood: " << frames_sent << " status requests (" << deaf.sent() << " bytes) taken in 4 s, each answer "
            << status_size << " bytes; RSS grew " << grown_kib / 1024 << " MiB\n";
  // Unbounded, every request read would queue an answer: frames_sent * status_size bytes.
  EXPECT_LT(grown_kib, 64 * 1024) << "RSS grew by more than 64 MiB";
  EXPECT_EQ(http::http_get(http_url("/healthz"))->status, 200);
  expect_usable(*c);
}

TEST_F(gateway_protocol, a_subscriber_that_never_reads_is_closed_and_its_queue_freed) {
  queued_cap = 16 * 1024;
  send_buffer = 8 * 1024; // the kernel holds little, so the queue fills soon
  start();
  deaf_client deaf{server->port()};
  ASSERT_TRUE(deaf.upgraded());
  ASSERT_TRUE(deaf.send_frame(R"({"type":"subscribe","job":"*"})"));
  auto c = connect();
  ASSERT_TRUE(c);
  int code = -1;
  for (int j = 0; j < 40 && code == -1; ++j) {
    std::vector<std::string> job;
    for (auto n : {"navbar", "hero", "cards", "footer", "sidebar", "pricing"})
      job.push_back(std::string{n} + "_" + std::to_string(j));
    ASSERT_EQ(ask(*c, {{"type", "build"}, {"plan", plan_of(job)}})["type"], "accepted");
    until_result(*c);
    if (server->connections() == 1) code = deaf.wait_closed(10s);
  }
  if (code == -1) code = deaf.wait_closed(10s);
  // 1008 when the close frame could still be written, else the connection was cut.
  EXPECT_NE(code, -1) << "the subscriber was never closed";
  EXPECT_TRUE(code == 1008 || code == 0) << code;
  std::cerr << "slow subscriber closed with code " << code << "\n";
  // Its session (and queue) is freed once the last handler holding it is done.
  for (int i = 0; i < 250 && server->connections() != 1; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(server->connections(), 1u);
  expect_usable(*c);
}

TEST_F(gateway_protocol, a_burst_of_builds_cannot_slip_past_the_per_connection_limit) {
  start(300ms, {}, 64, 256, /*per_connection=*/3);
  auto c = connect();
  ASSERT_TRUE(c);
  int i = 0;
  for (auto n : {"navbar", "footer", "hero", "sidebar"}) {
    ASSERT_TRUE(c->send_text(json{{"type", "build"}, {"id", i++}, {"plan", plan_of({n})}}.dump()));
  }
  int accepted = 0, busy = 0;
  while (accepted + busy < 4) {
    auto f = next(*c);
    if (f.is_null()) break;
    if (f["type"] == "accepted") ++accepted;
    if (f["type"] == "error" && f["code"] == "busy") ++busy;
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(busy, 1);
  for (int results = 0; results < accepted;) {
    auto f = next(*c);
    if (f.is_null()) break;
    results += f["type"] == "result";
  }
}

TEST_F(gateway_protocol, fifty_clients_over_the_job_and_queue_limits_are_refused_busy_naming_them) {
  start(300ms, {}, /*max_jobs=*/5, 256, 8, /*max_queued=*/3);
  std::atomic<int> accepted{0}, busy{0}, other{0};
  std::vector<std::string> messages(50);
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i) {
    clients.emplace_back([&, i] {
      auto c = http::ws_client::connect(ws_url(), "");
      if (!c || !(*c)->send_text(json{{"type", "build"}, {"plan", plan_of({"part_" + std::to_string(i)})}}.dump())) {
        ++other;
        return;
      }
      for (;;) {
        auto text = (*c)->read(30s);
        if (!text) {
          ++other;
          return;
        }
        auto f = json::parse(*text);
        if (f["type"] == "error") {
          if (f["code"] == "busy")
            ++busy;
          else
            ++other;
          messages[i] = f.value("message", "");
          return;
        }
        if (f["type"] == "accepted") ++accepted;
        if (f["type"] == "result") return;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(accepted + busy, 50);
  EXPECT_EQ(other, 0);
  EXPECT_GE(accepted, 5);
  EXPECT_GT(busy, 0);
  for (auto& m : messages) {
    if (m.empty()) continue;
    EXPECT_NE(m.find("the server's limits are 5 (--max-jobs) and 3 queued (--max-queued)"), std::string::npos) << m;
    EXPECT_EQ(m.find("timeout"), std::string::npos) << "no misleading prefix: " << m;
  }
}

TEST_F(gateway_protocol, fifty_clients_over_the_job_limit_wait_in_the_queue_and_all_get_their_result) {
  start(300ms, {}, /*max_jobs=*/4);
  std::atomic<int> done{0}, queued_first{0}, bad{0};
  std::vector<std::string> problems(50);
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i) {
    clients.emplace_back([&, i] {
      auto c = http::ws_client::connect(ws_url(), "");
      if (!c || !(*c)->send_text(json{{"type", "build"}, {"plan", plan_of({"part_" + std::to_string(i)})}}.dump())) {
        ++bad;
        return;
      }
      bool other_event = false, saw_queued = false;
      int last_position = 1 << 30;
      for (;;) {
        auto text = (*c)->read(60s);
        if (!text) {
          problems[i] = "no result";
          ++bad;
          return;
        }
        auto f = json::parse(*text);
        if (f["type"] == "error") {
          problems[i] = f.dump();
          ++bad;
          return;
        }
        if (f["type"] == "event" && f["stage"] == "queued") {
          int pos = f.value("position", 0);
          if (other_event) problems[i] = "queued after the job started: " + f.dump();
          if (pos < 1 || pos > last_position) problems[i] = "position went back or is missing: " + f.dump();
          last_position = pos;
          saw_queued = true;
        } else if (f["type"] == "event") {
          other_event = true;
        }
        if (f["type"] == "result") {
          if (f["report"]["status"] == "done") ++done;
          if (saw_queued) ++queued_first;
          return;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(done, 50) << "every job gets its result";
  // 50 jobs arrive within a fraction of one job's 300 ms: all but the first few wait.
  EXPECT_GE(queued_first, 40);
  for (auto& p : problems) EXPECT_EQ(p, "");
}

// Sends a build and reads until the frame that answers it (accepted or error; events in between are skipped).
json build_answer(http::ws_client& c, const std::string& part, const std::string& id) {
  EXPECT_TRUE(c.send_text(json{{"type", "build"}, {"id", id}, {"plan", plan_of({part})}}.dump()));
  for (int i = 0; i < 200; ++i) {
    auto text = c.read(10s);
    if (!text) return json{};
    auto f = json::parse(*text);
    if (f.value("id", "") == id) return f;
  }
  return json{};
}

TEST_F(gateway_protocol, submissions_past_the_rate_per_connection_are_rate_limited_then_allowed_again) {
  submits_per_connection = {60, 2}; // one a second, two at once
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(build_answer(*c, "part_a", "1")["type"], "accepted");
  EXPECT_EQ(build_answer(*c, "part_b", "2")["type"], "accepted");
  auto third = build_answer(*c, "part_c", "3");
  EXPECT_EQ(third["type"], "error");
  EXPECT_EQ(third["code"], "rate_limited") << third.dump();
  EXPECT_NE(third.value("message", "")
              .find("more than 60 job submissions a minute on this connection (--rate-limit): "
                    "try again in 1 s"),
            std::string::npos)
    << third.dump();
  // Another connection from the same address has its own bucket (no limit per address here).
  auto other = connect();
  EXPECT_EQ(build_answer(*other, "part_d", "4")["type"], "accepted");
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(build_answer(*c, "part_c", "5")["type"], "accepted") << "the bucket refilled";
}

TEST_F(gateway_protocol, submissions_past_the_rate_per_address_are_rate_limited_across_connections) {
  submits_per_address = {60, 3};
  start();
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(build_answer(*a, "part_a", "1")["type"], "accepted");
  EXPECT_EQ(build_answer(*a, "part_b", "2")["type"], "accepted");
  EXPECT_EQ(build_answer(*b, "part_c", "3")["type"], "accepted");
  auto fourth = build_answer(*b, "part_d", "4");
  EXPECT_EQ(fourth["code"], "rate_limited") << fourth.dump();
  EXPECT_NE(fourth.value("message", "").find("from this address (127.0.0.1) (--rate-limit-ip)"), std::string::npos)
    << fourth.dump();
  // The address is limited on every connection it has.
  auto again = build_answer(*a, "part_e", "5");
  EXPECT_EQ(again["code"], "rate_limited") << again.dump();
}
