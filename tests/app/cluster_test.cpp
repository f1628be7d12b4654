// The cluster with real processes on 127.0.0.1: a serving node, worker
// nodes, a fake model server. Placement across nodes, a worker killed or
// frozen mid-build, retries on another node and escalation, TLS.

#include <gtest/gtest.h>

#include <mutex>

#include "app/browser_support.hpp"
#include "app/cluster_support.hpp"
#include "fakes/fake_llm_server.hpp"
#include "infra/http/ws_client.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;
using grove::test::cluster_processes;

namespace {

const std::string twelve =
  "'navbar, hero, dashboard, chart, data table, login form, signup form, pricing, contact form, search bar, modal, "
  "footer'";

// A competent model answering generations after `delay`; the first
// generation of each component in `fail_first` carries a script tag (QA rejects it).
grove::test::fake_handler model(std::chrono::milliseconds delay, std::set<std::string> fail_first = {}) {
  auto mtx = std::make_shared<std::mutex>();
  auto failed = std::make_shared<std::set<std::string>>();
  return [=](const grove::test::fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto answer = grove::test::competent_answer(prompt);
    auto at = prompt.find("Component: ");
    auto r = grove::test::reply(200, "");
    if (at != std::string::npos) {
      r.delay = delay;
      auto name = prompt.substr(at + 11, prompt.find('\n', at) - at - 11);
      std::lock_guard<std::mutex> guard{*mtx};
      if (fail_first.count(name) && failed->insert(name).second) {
        auto doc = json::parse(answer);
        doc["html"] = doc["html"].get<std::string>() + "<script>alert(1)</script>";
        answer = doc.dump();
      }
    }
    r.body = grove::test::openai_body(answer);
    return r;
  };
}

// The body of GET `path` on the serving node's HTTP port.
std::string get(const std::string& port, const std::string& path) {
  auto r = grove::http::http_get("http://127.0.0.1:" + port + path);
  return r ? r->body : std::string{};
}

std::string model_env(const grove::test::fake_llm_server& server) {
  return "OPENAI_BASE_URL='" + server.url("/v1") + "'";
}

class cluster : public ::testing::Test {
protected:
  grove::test::temp_dir dir;
  cluster_processes c{dir.path()};

  std::filesystem::path file(const std::string& name, const std::string& text) {
    auto p = dir.path() / name;
    grove::test::write_file(p, text);
    return p;
  }

  // Workers w1 and w2, 3 generations each, calling `server`.
  void two_workers(const grove::test::fake_llm_server& server) {
    c.worker("w1", "--provider openai:m --capacity 3", model_env(server));
    c.worker("w2", "--provider openai:m --capacity 3", model_env(server));
  }

  // The first telemetry event of `stage` about node `node` at or after `since_ms`.
  json node_event(const std::string& stage, const std::string& node, int64_t since_ms) {
    for (auto& ev : grove::test::telemetry_events(c.ws())) {
      if (ev.value("stage", "") == stage && ev.value("component", "") == node && ev.value("ts_ms", 0LL) >= since_ms) {
        return ev;
      }
    }
    return {};
  }
};

TEST_F(cluster, three_nodes_place_generators_on_both_workers_and_land_everything_once) {
  grove::test::fake_llm_server server{model(300ms)};
  c.serve();
  c.worker("w1", "--provider openai:m --capacity 3 --port 0", model_env(server));
  c.worker("w2", "--provider openai:m --capacity 3", model_env(server));
  auto report = c.submit(twelve);
  ASSERT_EQ(report["status"], "done") << report.dump();
  ASSERT_EQ(report["components"].size(), 12u);
  // w1's own port: its health and its model calls.
  auto w1_port = grove::test::wait_for_number_after(c.log("w1"), "metrics on http://127.0.0.1:", 5s);
  ASSERT_FALSE(w1_port.empty()) << grove::test::read_file(c.log("w1"));
  EXPECT_EQ(get(w1_port, "/healthz"), "ok\n");
  auto w1_metrics = get(w1_port, "/metrics");
  EXPECT_NE(w1_metrics.find("grove_model_requests_total{provider="), std::string::npos) << w1_metrics;
  EXPECT_NE(w1_metrics.find("outcome=\"ok\"}"), std::string::npos) << w1_metrics;
  auto nodes = grove::test::nodes_of(report);
  EXPECT_EQ(nodes, (std::set<std::string>{"w1", "w2"})) << "generators on both workers, none on the serving node";
  // The workers' model calls count in the job's usage, a row per provider and node.
  auto& usage = report["usage"];
  uint64_t worker_requests = 0;
  for (auto& [provider, u] : usage["by_provider"].items()) {
    if (provider.find("@w1") != std::string::npos || provider.find("@w2") != std::string::npos) {
      worker_requests += u["requests"].get<uint64_t>();
    }
  }
  EXPECT_EQ(worker_requests, 12u) << usage.dump();
  EXPECT_GE(usage["requests"].get<uint64_t>(), 12u) << usage.dump();
  grove::test::expect_landed_once(c.ws(), report);
  EXPECT_TRUE(grove::test::wait_for_text(c.log("serve"), "node w2 joined", 1s));
  // The dashboard's sources: /api/nodes and per-node metrics.
  auto nodes_json = json::parse(get(c.http_port, "/api/nodes"));
  ASSERT_EQ(nodes_json.size(), 2u) << nodes_json.dump();
  for (auto& n : nodes_json) {
    EXPECT_TRUE(n["up"].get<bool>());
    EXPECT_EQ(n["capacity"], 3);
    EXPECT_EQ(n["in_flight"], 0);
  }
  EXPECT_EQ(nodes_json[0]["placed"].get<int>() + nodes_json[1]["placed"].get<int>(), 12);
  auto metrics = get(c.http_port, "/metrics");
  EXPECT_NE(metrics.find("grove_node_up{node=\"w1\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("grove_node_capacity{node=\"w2\"} 3"), std::string::npos);
  c.stop();
  grove::test::expect_clean_repository(c.ws());
}

TEST_F(cluster, a_worker_killed_mid_build_loses_nothing) {
  grove::test::fake_llm_server server{model(1500ms)};
  c.serve();
  two_workers(server);
  std::thread killer{[&] {
    if (c.generating_on("w1", 30s)) c.process("w1").signal(SIGKILL);
  }};
  auto report = c.submit(twelve);
  killer.join();
  ASSERT_EQ(report["status"], "done") << report.dump();
  grove::test::expect_landed_once(c.ws(), report);
  // The lost generators were restarted on the other worker: restarts, not QA attempts.
  int restarted = 0;
  for (auto& comp : report["components"]) {
    auto nodes = comp["nodes"];
    if (comp["restarts"].get<int>() == 0) continue;
    ++restarted;
    EXPECT_EQ(comp["attempts"], 1) << comp.dump();
    EXPECT_EQ(nodes.front(), "w1") << comp.dump();
    EXPECT_EQ(nodes.back(), "w2") << comp.dump();
  }
  EXPECT_GE(restarted, 1) << report.dump();
  EXPECT_TRUE(grove::test::wait_for_text(c.log("serve"), "node w1 (", 5s)) << grove::test::read_file(c.log("serve"));
  c.stop();
  grove::test::expect_clean_repository(c.ws());
}

TEST_F(cluster, a_frozen_worker_is_found_within_2s_its_work_replaced_and_it_rejoins) {
  grove::test::fake_llm_server server{model(1500ms)};
  c.serve();
  two_workers(server);
  int64_t stopped_ms = 0;
  std::thread freezer{[&] {
    if (!c.generating_on("w1", 30s)) return;
    stopped_ms = grove::test::epoch_ms();
    c.process("w1").signal(SIGSTOP);
  }};
  auto report = c.submit(twelve);
  freezer.join();
  ASSERT_NE(stopped_ms, 0) << "w1 never got work";
  ASSERT_EQ(report["status"], "done") << report.dump();
  grove::test::expect_landed_once(c.ws(), report);
  auto lost = node_event("node_lost", "w1", stopped_ms);
  ASSERT_FALSE(lost.is_null()) << grove::test::read_file(c.log("serve"));
  auto detected = lost["ts_ms"].get<int64_t>() - stopped_ms;
  EXPECT_LT(detected, 2000) << "SIGSTOP found after " << detected << " ms";
  std::printf("[ figures ] SIGSTOP of a worker detected after %lld ms\n", static_cast<long long>(detected));

  // Thawed, it rejoins; with the other worker gone, later work runs on it.
  c.process("w1").signal(SIGCONT);
  ASSERT_TRUE(grove::test::wait_for_text(c.log("w1"), "rejoined", 20s)) << grove::test::read_file(c.log("w1"));
  c.process("w2").signal(SIGTERM);
  c.process("w2").wait(10s);
  ASSERT_TRUE(grove::test::wait_for_text(c.log("serve"), "node w2 (", 5s));
  auto later = c.submit("'sidebar, cards'");
  ASSERT_EQ(later["status"], "done") << later.dump();
  EXPECT_EQ(grove::test::nodes_of(later), std::set<std::string>{"w1"}) << later.dump();
  c.stop();
  grove::test::expect_clean_repository(c.ws());
}

TEST_F(cluster, the_serving_node_killed_mid_build_resumes_and_its_workers_come_back) {
  grove::test::fake_llm_server server{model(1000ms)};
  c.serve_cluster_port = grove::test::free_port();
  c.serve();
  two_workers(server);
  std::thread client{[&] { // its connection dies with the server
    grove::test::run("'" + grove::test::grove_bin + "' submit --url ws://127.0.0.1:" + c.http_port + " " + twelve +
                     " -q 2>/dev/null");
  }};
  ASSERT_TRUE(c.generating_on("w1", 30s) || c.generating_on("w2", 1s));
  c.serving().signal(SIGKILL);
  EXPECT_EQ(c.serving().wait(10s), 128 + SIGKILL);
  client.join();
  EXPECT_TRUE(grove::test::wait_for_text(c.log("w1"), "lost the serving node", 5s))
    << grove::test::read_file(c.log("w1"));
  // The same port again: the journal resumes the job, the workers rejoin by themselves.
  c.serve();
  EXPECT_NE(grove::test::read_file(c.log("serve")).find("resuming job"), std::string::npos)
    << grove::test::read_file(c.log("serve"));
  for (auto* w : {"w1", "w2"}) {
    EXPECT_TRUE(grove::test::wait_for_text(c.log(w), "rejoined", 20s))
      << grove::test::read_file(c.log(w)) << grove::test::read_file(c.log("serve"));
  }
  json job;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto jobs = json::parse(get(c.http_port, "/api/jobs"), nullptr, false);
    if (jobs.is_array() && !jobs.empty() && jobs[0].value("state", "") == "done") {
      job = jobs[0];
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(job.is_null()) << get(c.http_port, "/api/jobs");
  auto report = job["report"];
  ASSERT_EQ(report["components"].size(), 12u) << report.dump();
  for (auto& comp : report["components"]) {
    auto name = comp["name"].get<std::string>();
    // Landed before the kill: a cache hit on the serving node now; else generated on a worker.
    if (comp["status"] == "cached") {
      EXPECT_EQ(comp["nodes"].back(), "srv") << comp.dump();
    } else {
      EXPECT_EQ(comp["status"], "landed") << comp.dump();
      EXPECT_NE(comp["nodes"].back(), "srv") << comp.dump();
    }
    auto merges = grove::test::git_cli(c.ws(), "log --oneline --grep='^grove: merge " + name + "$' main").out;
    EXPECT_EQ(grove::test::count_lines(merges), 1u) << name << " must be on main exactly once";
  }
  c.stop();
  grove::test::expect_clean_repository(c.ws());
}

TEST_F(cluster, a_retry_runs_on_another_node_and_escalates_to_the_stronger_provider) {
  grove::test::fake_llm_server server{model(100ms, {"hero", "navbar"})};
  auto plan = file("plan.json", R"({"session_id":"retry1","request":"hero","components":[{"name":"hero"}]})");
  // w2 serves a provider named "strong"; the serving node's route asks retries to escalate to it.
  auto strong = file("strong.json", R"({"providers":{"strong":{"type":"openai","model":"big","base_url":")" +
                                      server.url("/v1") + R"("}},"routes":{"default":["strong"]}})");
  auto escalate = file("serve.json", R"({"retry_prefer":{"generate":"strong"}})");
  c.serve("--local-capacity 0 --config '" + escalate.string() + "'");
  c.worker("w1", "--provider openai:m --capacity 2", model_env(server));
  c.worker("w2", "--config '" + strong.string() + "' --capacity 2");
  auto report = c.submit("--plan '" + plan.string() + "'");
  ASSERT_EQ(report["status"], "done") << report.dump();
  auto& hero = report["components"][0];
  EXPECT_EQ(hero["attempts"], 2) << hero.dump();
  ASSERT_EQ(hero["nodes"].size(), 2u) << hero.dump();
  EXPECT_EQ(hero["nodes"][1], "w2") << "the retry escalates to the node serving the stronger provider";

  // Without escalation, the retry goes to a node other than the failed attempt's.
  auto plan2 = file("plan2.json", R"({"session_id":"retry2","request":"navbar","components":[{"name":"navbar"}]})");
  c.stop();
  cluster_processes plain{dir.path()};
  plain.serve();
  plain.worker("w1", "--provider openai:m --capacity 2", model_env(server));
  plain.worker("w2", "--provider openai:m --capacity 2", model_env(server));
  auto again = plain.submit("--plan '" + plan2.string() + "'");
  ASSERT_EQ(again["status"], "done") << again.dump();
  auto& navbar = again["components"][0];
  EXPECT_EQ(navbar["attempts"], 2) << navbar.dump();
  ASSERT_EQ(navbar["nodes"].size(), 2u) << navbar.dump();
  EXPECT_NE(navbar["nodes"][0], navbar["nodes"][1]) << "the retry runs on another node";
  // Telemetry names the node of every attempt.
  std::set<std::string> seen;
  for (auto& ev : grove::test::telemetry_events(plain.ws())) {
    if (ev.value("component", "") == "navbar" && ev.value("stage", "") == "generating") seen.insert(ev["node"]);
  }
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(cluster, the_dashboard_shows_the_nodes_and_the_node_of_each_attempt) {
  grove::test::fake_llm_server server{model(700ms)};
  c.serve("--local-capacity 2");
  c.worker("w1", "--provider openai:m --capacity 2", model_env(server));
  c.worker("w2", "--provider openai:m --capacity 2", model_env(server));
  grove::test::browser chrome{dir.path(), "http://127.0.0.1:" + c.http_port + "/", c.http_port};
  ASSERT_TRUE(chrome.ok()) << chrome.why;
  auto rows = "String(document.querySelectorAll('#nodes tr.node').length)";
  EXPECT_EQ(chrome.wait_for(rows, "3", 10s), "3") << "the serving node and two workers";
  auto state_of = [](const std::string& node) {
    return "(() => { const e = document.querySelector('tr[data-node=\"" + node +
           "\"] .state'); return e ? e.textContent : ''; })()";
  };
  EXPECT_EQ(chrome.wait_for(state_of("w1"), "up", 5s), "up");
  std::thread client{[&] { c.submit("'navbar, hero, dashboard, chart, footer, modal'"); }};
  // While it runs, the component rows name their node.
  auto on_worker = "String([...document.querySelectorAll('tr.comp')].some(r => /node w[12]/.test(r.textContent)))";
  EXPECT_EQ(chrome.wait_for(on_worker, "true", 20s), "true");
  client.join();
  c.process("w2").signal(SIGKILL);
  EXPECT_EQ(chrome.wait_for(state_of("w2"), "down", 10s), "down") << "a lost node shows down";
  EXPECT_EQ(chrome.wait_for(state_of("srv"), "up", 1s), "up");
  EXPECT_GT(chrome.screenshot("dashboard-cluster.png"), 1000u);
}

TEST_F(cluster, a_key_of_a_worker_echoed_by_its_model_never_leaves_the_worker) {
  const std::string key = "sk-worker-only-Zq81x0PLm4";
  grove::test::fake_llm_server server{[](const grove::test::fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto answer = json::parse(grove::test::competent_answer(prompt));
    auto auth = req.headers.count("authorization") ? req.headers.at("authorization") : std::string{};
    answer["html"] = answer["html"].get<std::string>() + "<p>" + auth.substr(auth.find(' ') + 1) + "</p>";
    return grove::test::reply(200, grove::test::openai_body(answer.dump()));
  }};
  auto plan = file("plan.json", R"({"session_id":"leak1","request":"hero","components":[{"name":"hero"}]})");
  c.serve();
  c.worker("w1", "--provider openai:m", model_env(server) + " OPENAI_API_KEY=" + key);
  auto report = c.submit("--plan '" + plan.string() + "'");
  ASSERT_TRUE(report.is_object());
  auto& hero = report["components"][0];
  EXPECT_EQ(hero["status"], "dropped") << hero.dump();
  EXPECT_NE(hero.dump().find("secret_leak"), std::string::npos) << hero.dump();
  EXPECT_EQ(report.dump().find(key), std::string::npos);
  auto objects = grove::test::git_cli(c.ws(), "cat-file --batch-all-objects --batch").out;
  EXPECT_EQ(objects.find(key), std::string::npos) << "the key reached the serving node's repository";
  EXPECT_EQ(grove::test::read_file(c.ws() / ".grove" / "telemetry.jsonl").find(key), std::string::npos);
  EXPECT_EQ(grove::test::read_file(c.log("serve")).find(key), std::string::npos);
  EXPECT_EQ(grove::test::read_file(c.log("w1")).find(key), std::string::npos);
  c.stop();
  grove::test::expect_clean_repository(c.ws());
}

TEST_F(cluster, tls_admits_nodes_of_the_ca_and_refuses_others) {
  auto certs = dir.path() / "certs";
  auto script = std::string{GROVE_SOURCE_DIR} + "/scripts/make-test-ca.sh";
  ASSERT_EQ(grove::test::run("sh '" + script + "' '" + certs.string() + "' srv w1 >/dev/null").status, 0);
  ASSERT_EQ(grove::test::run("sh '" + script + "' '" + certs.string() + "' --ca rogue intruder >/dev/null").status, 0);
  auto tls = [&](const std::string& who) {
    return "--tls-cert '" + (certs / (who + ".pem")).string() + "' --tls-key '" + (certs / (who + ".key")).string() +
           "' --tls-ca '" + (certs / "ca.pem").string() + "'";
  };
  grove::test::fake_llm_server server{model(50ms)};
  // The serving node's cluster TLS from its config: --tls-cert/--tls-key would make its
  // gateway HTTPS too (tests/app/tls_test.cpp), and this test talks to it over plain HTTP.
  auto config = dir.path() / "srv.json";
  grove::test::write_file(config, json{{"cluster",
                                        {{"certificate", (certs / "srv.pem").string()},
                                         {"key", (certs / "srv.key").string()},
                                         {"ca_file", (certs / "ca.pem").string()}}}}
                                    .dump());
  c.serve("--local-capacity 0 --config '" + config.string() + "'");
  EXPECT_NE(grove::test::read_file(c.log("serve")).find("(TLS"), std::string::npos);
  c.worker("w1", "--provider openai:m " + tls("w1"), model_env(server));
  // A certificate from another CA, and no TLS at all: both refused, each saying why.
  c.worker("intruder", "--provider openai:m " + tls("intruder"), model_env(server), false);
  c.worker("plain", "--provider openai:m", model_env(server), false);
  EXPECT_TRUE(grove::test::wait_for_text(c.log("intruder"), "refused: the TLS handshake failed", 20s))
    << grove::test::read_file(c.log("intruder"));
  EXPECT_TRUE(grove::test::wait_for_text(c.log("plain"), "refused", 20s)) << grove::test::read_file(c.log("plain"));
  auto report = c.submit("'navbar, hero, footer'");
  ASSERT_EQ(report["status"], "done") << report.dump();
  EXPECT_EQ(grove::test::nodes_of(report), std::set<std::string>{"w1"});
  EXPECT_EQ(grove::test::read_file(c.log("intruder")).find("joined"), std::string::npos);
  EXPECT_EQ(grove::test::read_file(c.log("plain")).find("joined"), std::string::npos);
  auto nodes_json = json::parse(get(c.http_port, "/api/nodes"));
  EXPECT_EQ(nodes_json.size(), 1u) << nodes_json.dump();
}

TEST_F(cluster, an_open_cluster_port_without_tls_warns_and_half_tls_is_refused) {
  auto r = grove::test::run("cd '" + dir.path().string() + "' && '" + grove::test::grove_bin +
                            "' serve --repo ws --port 0 --cluster-port 0 --tls-cert x.pem 2>&1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--tls-cert, --tls-key and --tls-ca together"), std::string::npos) << r.out;
  auto bad = grove::test::run("'" + grove::test::grove_bin + "' node --join nowhere 2>&1");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--join takes HOST:PORT"), std::string::npos) << bad.out;
  c.bind_host = "0.0.0.0";
  c.serve("--cluster-host 0.0.0.0");
  EXPECT_NE(grove::test::read_file(c.log("serve")).find("warning: the cluster port listens on 0.0.0.0 without TLS"),
            std::string::npos)
    << grove::test::read_file(c.log("serve"));
}

} // namespace
