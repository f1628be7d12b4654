// The router against fake model servers on loopback, one per wire format,
// with every fault the issue lists injected on purpose.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/llm_router.hpp"
#include "actors/telemetry.hpp"
#include "fakes/fake_llm_server.hpp"
#include "infra/http/http_client.hpp"
#include "messages/registry.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;
using test::fake_reply;
using test::fake_request;

namespace {

const std::string secret_key = "sk-test-DO-NOT-LEAK-4f9a8b7c";

struct answer {
  bool ok = false;
  messages::model_reply reply;
  std::string error;
  std::chrono::milliseconds elapsed{0};
};

class router : public ::testing::Test {
protected:
  struct system_config : caf::actor_system_config {
    system_config() { messages::register_messages(*this); }
  };

  void SetUp() override {
    ::setenv("GROVE_TEST_KEY", secret_key.c_str(), 1);
    telemetry = actors::spawn_telemetry(sys, dir.path() / "telemetry.jsonl");
  }

  void TearDown() override {
    for (auto& r : routers) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(telemetry, caf::exit_reason::user_shutdown);
  }

  static config::provider_settings provider_for(const std::string& type, const std::string& url) {
    config::provider_settings p;
    p.type = type;
    p.model = "test-model";
    p.base_url = url;
    p.api_key_env = "GROVE_TEST_KEY";
    p.timeout_ms = 2000;
    p.backoff_base_ms = 10;
    p.backoff_max_ms = 50;
    return p;
  }

  actors::router_actor make_router(config::model_settings models) {
    actors::router_config rc;
    rc.telemetry = telemetry;
    for (auto& [name, p] : models.providers) rc.providers[name] = models::make_provider(name, p, http);
    rc.models = std::move(models);
    auto r = actors::spawn_llm_router(sys, std::move(rc));
    routers.push_back(r);
    return r;
  }

  static messages::model_request generate(const std::string& name, uint32_t attempt = 1, std::string job = "job1") {
    messages::model_request req;
    req.role = "generate";
    req.job = std::move(job);
    req.spec = {name, "A " + name};
    req.attempt = attempt;
    req.prompt = "Component: " + name + "\nDescription: A " + name + "\n";
    return req;
  }

  answer ask(const actors::router_actor& r, messages::model_request req) {
    answer out;
    caf::scoped_actor self{sys};
    auto t0 = std::chrono::steady_clock::now();
    self->request(r, std::chrono::seconds{30}, std::move(req))
      .receive(
        [&](messages::model_reply& reply) {
          out.ok = true;
          out.reply = std::move(reply);
        },
        [&](caf::error& err) { out.error = sys.render(err); });
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    return out;
  }

  // A handler answering in `format` like a competent model.
  static test::fake_handler competent(const std::string& format) {
    return [format](const fake_request& req, int) {
      return test::reply(200, test::body_for(format, test::competent_answer(test::prompt_of(format, req.body))));
    };
  }

  std::string telemetry_log() {
    caf::scoped_actor self{sys};
    self->request(telemetry, 5s, actors::stats_atom::value)
      .receive([](const messages::telemetry_stats&) {}, [](caf::error&) {});
    return test::read_file(dir.path() / "telemetry.jsonl");
  }

  test::temp_dir dir;
  system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<http::client> http = std::make_shared<http::client>();
  actors::telemetry_actor telemetry;
  std::vector<actors::router_actor> routers;
};

config::model_settings single(const std::string& name, config::provider_settings p,
                              std::vector<std::string> route = {}) {
  config::model_settings m;
  m.providers[name] = p;
  m.routes["default"] = route.empty() ? std::vector<std::string>{name} : route;
  return m;
}

class router_formats : public router, public ::testing::WithParamInterface<std::string> {};

} // namespace

TEST_P(router_formats, happy_path_speaks_the_wire_format) {
  auto format = GetParam();
  test::fake_llm_server server{competent(format)};
  auto base = server.url(format == "openai" ? "/v1" : format == "gemini" ? "/v1beta" : "");
  auto r = make_router(single(format, provider_for(format, base)));
  auto a = ask(r, generate("login_form"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.reply.provider, format + ":test-model");
  EXPECT_EQ(a.reply.tokens_in, 10u);
  EXPECT_EQ(a.reply.tokens_out, 20u);
  EXPECT_EQ(nlohmann::json::parse(a.reply.text)["component"], "login_form");
  ASSERT_EQ(server.requests(), 1);
  auto req = server.seen()[0];
  auto body = nlohmann::json::parse(req.body);
  EXPECT_EQ(req.method, "POST");
  if (format == "openai") {
    EXPECT_EQ(req.target, "/v1/chat/completions");
    EXPECT_EQ(req.headers["authorization"], "Bearer " + secret_key);
    EXPECT_EQ(body["model"], "test-model");
    EXPECT_EQ(body["response_format"]["type"], "json_object");
  } else if (format == "ollama") {
    EXPECT_EQ(req.target, "/api/chat");
    EXPECT_EQ(body["format"], "json");
    EXPECT_EQ(body["stream"], false);
    EXPECT_EQ(req.headers.count("authorization"), 0u);
  } else if (format == "anthropic") {
    EXPECT_EQ(req.target, "/v1/messages");
    EXPECT_EQ(req.headers["x-api-key"], secret_key);
    EXPECT_EQ(req.headers["anthropic-version"], "2023-06-01");
    EXPECT_EQ(req.headers.count("authorization"), 0u);
    EXPECT_EQ(body["model"], "test-model");
    EXPECT_GT(body["max_tokens"].get<int>(), 0);
    EXPECT_TRUE(body["system"].is_string());
    EXPECT_EQ(body["messages"].back()["role"], "assistant") << "the answer is prefilled";
    EXPECT_EQ(body["messages"].back()["content"], "{");
  } else {
    EXPECT_EQ(req.target, "/v1beta/models/test-model:generateContent");
    EXPECT_EQ(req.headers["x-goog-api-key"], secret_key);
    EXPECT_EQ(req.target.find(secret_key), std::string::npos) << "the key never goes in the URL";
    EXPECT_EQ(body["generationConfig"]["responseMimeType"], "application/json");
  }
}

TEST_P(router_formats, rate_limit_is_retried_after_retry_after) {
  auto format = GetParam();
  test::fake_llm_server server{[format](const fake_request& req, int n) {
    if (n == 1) return test::reply(429, R"({"error":"slow down"})", {{"Retry-After", "1"}});
    return test::reply(200, test::body_for(format, test::competent_answer(test::prompt_of(format, req.body))));
  }};
  auto r = make_router(single(format, provider_for(format, server.url())));
  auto a = ask(r, generate("navbar"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(server.requests(), 2);
  EXPECT_GE(a.elapsed, 1000ms) << "Retry-After: 1 must be honoured over a 10 ms backoff";
}

// Anthropic's 529 "overloaded" (and any 5xx) is retried like a 500.
TEST_P(router_formats, an_overloaded_server_is_retried) {
  auto format = GetParam();
  test::fake_llm_server server{[format](const fake_request& req, int n) {
    if (n == 1) return test::reply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    return test::reply(200, test::body_for(format, test::competent_answer(test::prompt_of(format, req.body))));
  }};
  auto r = make_router(single(format, provider_for(format, server.url())));
  auto a = ask(r, generate("navbar"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(server.requests(), 2);
}

TEST_P(router_formats, server_errors_are_retried_then_fall_back) {
  auto format = GetParam();
  test::fake_llm_server broken{[](const fake_request&, int) { return test::reply(500, R"({"error":"boom"})"); }};
  test::fake_llm_server healthy{competent(format)};
  config::model_settings m;
  m.providers["broken"] = provider_for(format, broken.url());
  m.providers["healthy"] = provider_for(format, healthy.url());
  m.routes["default"] = {"broken", "healthy"};
  auto r = make_router(m);
  auto a = ask(r, generate("footer"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(broken.requests(), 3) << "first try and max_retries (2)";
  EXPECT_EQ(healthy.requests(), 1);
}

TEST_P(router_formats, a_hang_times_out_and_fails_clearly) {
  auto format = GetParam();
  test::fake_llm_server server{[](const fake_request&, int) {
    fake_reply r;
    r.hang = true;
    return r;
  }};
  auto p = provider_for(format, server.url());
  p.timeout_ms = 200;
  p.max_retries = 1;
  auto r = make_router(single(format, p));
  auto a = ask(r, generate("hero"));
  ASSERT_FALSE(a.ok);
  EXPECT_NE(a.error.find("timed out after 200 ms"), std::string::npos) << a.error;
  EXPECT_EQ(server.requests(), 2);
  EXPECT_LT(a.elapsed, 2000ms);
}

TEST_P(router_formats, malformed_envelope_falls_back_without_retry) {
  auto format = GetParam();
  test::fake_llm_server server{[](const fake_request&, int) { return test::reply(200, "{\"choices\": [tru"); }};
  auto m = single(format, provider_for(format, server.url()), {format, "builtin"});
  auto r = make_router(m);
  auto a = ask(r, generate("cards"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.reply.provider, "builtin");
  EXPECT_EQ(server.requests(), 1);
  auto alone = make_router(single(format, provider_for(format, server.url())));
  auto b = ask(alone, generate("cards"));
  ASSERT_FALSE(b.ok);
  EXPECT_NE(b.error.find("malformed response envelope"), std::string::npos) << b.error;
}

TEST_P(router_formats, truncated_body_is_retried) {
  auto format = GetParam();
  test::fake_llm_server server{[format](const fake_request& req, int n) {
    auto r = test::reply(200, test::body_for(format, test::competent_answer(test::prompt_of(format, req.body))));
    if (n == 1) r.truncate_at = 40;
    return r;
  }};
  auto r = make_router(single(format, provider_for(format, server.url())));
  auto a = ask(r, generate("sidebar"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(server.requests(), 2);
}

TEST_P(router_formats, non_json_answer_is_self_corrected_with_the_exact_error) {
  auto format = GetParam();
  test::fake_llm_server server{[format](const fake_request& req, int n) {
    if (n == 1) return test::reply(200, test::body_for(format, "I am sorry, I cannot produce JSON today."));
    return test::reply(200, test::body_for(format, test::competent_answer(test::prompt_of(format, req.body))));
  }};
  auto r = make_router(single(format, provider_for(format, server.url())));
  auto a = ask(r, generate("modal"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.reply.corrections, 1u);
  ASSERT_EQ(server.requests(), 2);
  auto second = test::prompt_of(format, server.seen()[1].body);
  EXPECT_NE(second.find("could not be used: component is not valid JSON"), std::string::npos) << second;
}

TEST_P(router_formats, huge_answer_fails_clearly_without_retry) {
  auto format = GetParam();
  test::fake_llm_server server{
    [format](const fake_request&, int) { return test::reply(200, test::body_for(format, std::string(200000, 'x'))); }};
  auto p = provider_for(format, server.url());
  p.max_response_bytes = 65536;
  auto r = make_router(single(format, p));
  auto a = ask(r, generate("chart"));
  ASSERT_FALSE(a.ok);
  EXPECT_NE(a.error.find("exceeds 65536 bytes"), std::string::npos) << a.error;
  EXPECT_EQ(server.requests(), 1);
}

TEST_P(router_formats, script_in_an_answer_passes_the_router_for_qa_to_reject) {
  auto format = GetParam();
  test::fake_llm_server server{[format](const fake_request& req, int) {
    auto text = test::competent_answer(test::prompt_of(format, req.body));
    auto doc = nlohmann::json::parse(text);
    doc["html"] = doc["html"].get<std::string>() + "<script>alert(1)</script>";
    return test::reply(200, test::body_for(format, doc.dump()));
  }};
  auto r = make_router(single(format, provider_for(format, server.url())));
  auto a = ask(r, generate("login_form"));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_NE(a.reply.text.find("<script>"), std::string::npos)
    << "schema-valid: the QA gate, not the router, rejects it";
}

TEST_P(router_formats, keys_never_appear_in_errors_or_telemetry) {
  auto format = GetParam();
  // A hostile server that echoes the request's headers back in its error.
  test::fake_llm_server server{[](const fake_request& req, int) {
    std::string echo;
    for (auto& [k, v] : req.headers) echo += k + "=" + v + ";";
    return test::reply(401, echo);
  }};
  auto r = make_router(single(format, provider_for(format, server.url())));
  auto a = ask(r, generate("navbar"));
  ASSERT_FALSE(a.ok);
  EXPECT_NE(a.error.find("HTTP 401"), std::string::npos) << a.error;
  EXPECT_EQ(a.error.find(secret_key), std::string::npos) << a.error;
  EXPECT_EQ(server.requests(), 1) << "401 is not retryable";
  auto log = telemetry_log();
  EXPECT_NE(log.find("HTTP 401"), std::string::npos);
  EXPECT_EQ(log.find(secret_key), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(wire, router_formats, ::testing::Values("openai", "ollama", "gemini", "anthropic"));

TEST_F(router, repeated_failures_open_the_circuit_and_the_provider_is_skipped) {
  test::fake_llm_server flaky{[](const fake_request&, int) { return test::reply(503, "{}"); }};
  auto p = provider_for("openai", flaky.url());
  p.max_retries = 0;
  p.failure_threshold = 2;
  p.cooldown_ms = 60000;
  auto r = make_router(single("flaky", p, {"flaky", "builtin"}));
  for (int i = 0; i < 4; ++i) {
    auto a = ask(r, generate("navbar"));
    ASSERT_TRUE(a.ok) << a.error;
    EXPECT_EQ(a.reply.provider, "builtin");
  }
  EXPECT_EQ(flaky.requests(), 2) << "after 2 failures the provider cools down and is not called";
  EXPECT_NE(telemetry_log().find("cooling down"), std::string::npos);
}

TEST_F(router, concurrency_cap_holds) {
  test::fake_llm_server server{[](const fake_request& req, int) {
    auto r = test::reply(200, test::openai_body(test::competent_answer(test::prompt_of("openai", req.body))));
    r.delay = 100ms;
    return r;
  }};
  auto p = provider_for("openai", server.url());
  p.max_concurrency = 3;
  auto r = make_router(single("capped", p));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back([&, i] {
      if (ask(r, generate("part" + std::to_string(i))).ok) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(server.requests(), 12);
  EXPECT_LE(server.max_in_flight(), 3);
  EXPECT_GE(server.max_in_flight(), 2) << "the cap is used, not serialised";
}

TEST_F(router, difficulty_picks_the_tier_and_a_retry_escalates) {
  test::fake_llm_server small{competent("ollama")};
  test::fake_llm_server large{competent("openai")};
  config::model_settings m;
  m.providers["small"] = provider_for("ollama", small.url());
  m.providers["large"] = provider_for("openai", large.url());
  m.routes["generate.simple"] = {"small"};
  m.routes["generate.hard"] = {"large"};
  auto r = make_router(m);
  EXPECT_EQ(ask(r, generate("navbar")).reply.provider, "small:test-model");
  EXPECT_EQ(ask(r, generate("dashboard")).reply.provider, "large:test-model");
  EXPECT_EQ(ask(r, generate("navbar", 2)).reply.provider, "large:test-model") << "a QA retry escalates";
  EXPECT_EQ(ask(r, generate("weather_widget")).reply.provider, "large:test-model") << "no template: novel";
}

TEST_F(router, token_usage_is_accounted_and_capped_per_job) {
  test::fake_llm_server server{competent("openai")};
  auto p = provider_for("openai", server.url());
  p.price_in_per_mtok = 1000;
  p.price_out_per_mtok = 2000;
  auto m = single("priced", p);
  m.max_tokens_per_job = 45;
  auto r = make_router(m);
  ASSERT_TRUE(ask(r, generate("navbar", 1, "capped")).ok);
  ASSERT_TRUE(ask(r, generate("footer", 1, "capped")).ok); // 60 tokens now: over the cap
  auto third = ask(r, generate("hero", 1, "capped"));
  ASSERT_FALSE(third.ok);
  EXPECT_NE(third.error.find("token budget of 45 tokens"), std::string::npos) << third.error;
  EXPECT_TRUE(ask(r, generate("hero", 1, "other")).ok) << "the cap is per job";
  caf::scoped_actor self{sys};
  messages::job_usage u;
  self->request(r, 5s, messages::usage_request{"capped"})
    .receive([&](messages::job_usage& x) { u = x; }, [](caf::error&) {});
  EXPECT_EQ(u.total.requests, 2u);
  EXPECT_EQ(u.total.tokens_in, 20u);
  EXPECT_EQ(u.total.tokens_out, 40u);
  EXPECT_NEAR(u.total.cost_usd, (20 * 1000.0 + 40 * 2000.0) / 1e6, 1e-9);
  ASSERT_EQ(u.by_provider.size(), 1u);
  EXPECT_EQ(u.by_provider[0].provider, "priced:test-model");
  // A job asks for its usage as it finishes: the router forgets its accounts then.
  messages::job_usage again;
  self->request(r, 5s, messages::usage_request{"capped"})
    .receive([&](messages::job_usage& x) { again = x; }, [](caf::error&) {});
  EXPECT_EQ(again.total.requests, 0u);
}

TEST_F(router, refused_connection_is_retried_then_reported) {
  uint16_t dead_port;
  {
    test::fake_llm_server gone{competent("openai")};
    dead_port = gone.port();
  }
  auto p = provider_for("openai", "http://127.0.0.1:" + std::to_string(dead_port));
  p.max_retries = 1;
  auto r = make_router(single("gone", p));
  auto a = ask(r, generate("navbar"));
  ASSERT_FALSE(a.ok);
  EXPECT_NE(a.error.find("connect"), std::string::npos) << a.error;
}

namespace {

// A throwaway CA and a certificate for "localhost" signed by it, made with the openssl CLI.
struct test_pki {
  explicit test_pki(const std::filesystem::path& dir)
    : ca(dir / "ca.pem"), cert(dir / "srv.pem"), key(dir / "srv.key") {
    auto d = "'" + dir.string() + "'";
    auto r =
      test::run("cd " + d +
                " && "
                "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
                "-days 2 -subj '/CN=grove test CA' 2>&1 && "
                "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
                "-subj '/CN=localhost' 2>&1 && "
                "printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > ext.cnf && "
                "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 "
                "-extfile ext.cnf 2>&1");
    ok = r.status == 0;
    log = r.out;
  }
  std::filesystem::path ca, cert, key;
  bool ok = false;
  std::string log;
};

} // namespace

TEST_F(router, tls_verifies_the_certificate_and_the_host_name) {
  test_pki pki{dir.path()};
  ASSERT_TRUE(pki.ok) << pki.log;
  test::fake_llm_server server{competent("openai"), test::tls_files{pki.cert.string(), pki.key.string()}};
  auto through = [&](const std::string& url, const std::string& ca) {
    auto client = std::make_shared<http::client>(http::client_options{ca});
    auto p = provider_for("openai", url);
    p.max_retries = 0;
    actors::router_config rc;
    rc.telemetry = telemetry;
    rc.providers["tls"] = models::make_provider("tls", p, client);
    rc.models = single("tls", p);
    auto r = actors::spawn_llm_router(sys, std::move(rc));
    routers.push_back(r);
    return ask(r, generate("navbar"));
  };
  auto trusted = through(server.url("/v1", "localhost"), pki.ca.string());
  EXPECT_TRUE(trusted.ok) << trusted.error;
  auto unknown_ca = through(server.url("/v1", "localhost"), "");
  ASSERT_FALSE(unknown_ca.ok);
  EXPECT_NE(unknown_ca.error.find("TLS handshake"), std::string::npos) << unknown_ca.error;
  auto wrong_host = through(server.url("/v1", "127.0.0.1"), pki.ca.string());
  ASSERT_FALSE(wrong_host.ok) << "the certificate names localhost, not 127.0.0.1";
  EXPECT_NE(wrong_host.error.find("TLS handshake"), std::string::npos) << wrong_host.error;
  auto plain_server = test::fake_llm_server{competent("openai")};
  auto not_tls = through("https://127.0.0.1:" + std::to_string(plain_server.port()) + "/v1", pki.ca.string());
  ASSERT_FALSE(not_tls.ok);
}
