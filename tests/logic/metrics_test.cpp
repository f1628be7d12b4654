// The /metrics text: Prometheus exposition format derived from telemetry events.

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "logic/metrics.hpp"
#include "prometheus.hpp"

using namespace grove;
using messages::stage;

namespace {

messages::telemetry_event ev(const std::string& job, const std::string& component, stage s) {
  messages::telemetry_event e;
  e.job = job;
  e.component = component;
  e.stage = s;
  return e;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

} // namespace

TEST(metrics, every_family_has_help_and_type_and_counts_follow_the_events) {
  logic::metrics m;
  m.observe(ev("j", "", stage::started));
  m.observe(ev("j", "navbar", stage::generating));
  m.observe(ev("j", "navbar", stage::landed));
  m.observe(ev("j", "footer", stage::generating));
  m.observe(ev("j", "footer", stage::dropped));
  auto text = m.render();
  EXPECT_TRUE(has(text, "grove_jobs_in_flight 1")) << text;
  m.observe(ev("j", "", stage::partial));
  text = m.render();
  EXPECT_TRUE(has(text, "# TYPE grove_jobs_total counter"));
  EXPECT_TRUE(has(text, "grove_jobs_total{status=\"partial\"} 1"));
  EXPECT_TRUE(has(text, "grove_jobs_total{status=\"done\"} 0"));
  EXPECT_TRUE(has(text, "grove_jobs_in_flight 0"));
  EXPECT_TRUE(has(text, "grove_components_total{result=\"landed\"} 1"));
  EXPECT_TRUE(has(text, "grove_components_total{result=\"dropped\"} 1"));
  EXPECT_TRUE(has(text, "grove_generation_attempts_total 2"));
  // Every sample belongs to a family announced with HELP and TYPE.
  std::istringstream lines{text};
  std::set<std::string> announced;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) announced.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line.empty() || line[0] == '#') continue;
    auto name = line.substr(0, line.find_first_of("{ "));
    for (auto suffix : {"_bucket", "_sum", "_count"}) {
      auto n = std::string{suffix}.size();
      if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0 && !announced.count(name)) {
        name = name.substr(0, name.size() - n);
      }
    }
    EXPECT_TRUE(announced.count(name)) << "no TYPE line before " << line;
  }
}

TEST(metrics, node_service_restarts_and_failures_are_counted_by_service) {
  logic::metrics m;
  m.observe(ev("", "integrator", stage::service_restarted));
  m.observe(ev("", "integrator", stage::service_restarted));
  m.observe(ev("", "journal", stage::service_restarted));
  m.observe(ev("", "journal", stage::service_failed));
  auto text = m.render();
  EXPECT_TRUE(has(text, "grove_node_restarts_total{actor=\"integrator\"} 2")) << text;
  EXPECT_TRUE(has(text, "grove_node_restarts_total{actor=\"journal\"} 1"));
  EXPECT_TRUE(has(text, "grove_node_service_failures_total{actor=\"journal\"} 1"));
  EXPECT_FALSE(has(text, "grove_jobs_in_flight 1")) << "a node event is no job";
  EXPECT_TRUE(has(text, "grove_generator_restarts_total 0")) << "service restarts are not generator restarts";
}

TEST(metrics, histograms_are_cumulative_with_an_infinite_bucket) {
  logic::metrics m;
  auto merged = ev("", "", stage::merged);
  merged.latency_ms = 30;
  merged.attempt = 3;
  m.observe(merged);
  auto text = m.render();
  EXPECT_NE(text.find("le=\"0.025\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"0.05\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 1"), std::string::npos) << text;
}

TEST(metrics, cluster_nodes_get_gauges_and_counters_by_node) {
  messages::node_info up;
  up.name = "w1";
  up.capacity = 8;
  up.in_flight = 3;
  up.up = true;
  up.placed = 41;
  up.last_seen_ms = 1500;
  messages::node_info down;
  down.name = "w\"2";
  down.lost = 2;
  auto text = logic::metrics::render_nodes({up, down});
  for (auto* line :
       {"grove_node_up{node=\"w1\"} 1", "grove_node_up{node=\"w\\\"2\"} 0", "grove_node_capacity{node=\"w1\"} 8",
        "grove_node_generations_in_flight{node=\"w1\"} 3", "grove_node_generations_placed_total{node=\"w1\"} 41",
        "grove_node_losses_total{node=\"w\\\"2\"} 2", "grove_node_last_seen_seconds{node=\"w1\"} 1.5",
        "# TYPE grove_node_up gauge"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

TEST(metrics, every_line_parses_as_prometheus_text_with_shortest_bucket_labels) {
  logic::metrics m;
  m.observe(ev("j", "", stage::started));
  for (auto [component, latency] : {std::pair{"navbar", 3}, {"footer", 40}, {"hero", 2500}}) {
    auto merged = ev("j", component, stage::merged);
    merged.latency_ms = latency;
    merged.attempt = 1;
    m.observe(merged);
    auto model = ev("j", component, stage::model);
    model.provider = "fake \"quoted\"\\provider";
    model.latency_ms = latency;
    model.tokens_in = 100;
    model.tokens_out = 50;
    m.observe(model);
    m.observe(ev("j", component, stage::landed));
  }
  auto failed = ev("j", "faq", stage::model_failed);
  failed.provider = "line\nbreak";
  m.observe(failed);
  m.observe(ev("j", "", stage::done));
  messages::node_info w1;
  w1.name = "w1";
  w1.up = true;
  auto text = m.render() + logic::metrics::render_nodes({w1});
  auto check = test::check_prometheus_text(text);
  for (auto& p : check.problems) ADD_FAILURE() << p;
  EXPECT_GT(check.samples, 40u);
  EXPECT_NE(text.find("le=\"0.005\"}"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.0050000"), std::string::npos) << text;
}

TEST(metrics, the_format_checker_finds_what_breaks_the_format) {
  auto problems = [](const std::string& text) { return test::check_prometheus_text(text).problems.size(); };
  EXPECT_EQ(problems("# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\"} 1\n"), 0u);
  EXPECT_GT(problems("a-b 1\n"), 0u);                                           // bad name
  EXPECT_GT(problems("a{k=\"v} 1\n"), 0u);                                      // unterminated value
  EXPECT_GT(problems("a{k=\"\\t\"} 1\n"), 0u);                                  // bad escape
  EXPECT_GT(problems("a 1.2.3\n"), 0u);                                         // not a float
  EXPECT_GT(problems("a{k=\"1\"} 1\nb 2\na{k=\"2\"} 3\n"), 0u);                 // split family
  EXPECT_GT(problems("a 1\na 2\n"), 0u);                                        // series twice
  EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"0.0050000000000000001\"} 1\n"
                     "h_bucket{le=\"+Inf\"} 1\nh_sum 0.001\nh_count 1\n"),
            0u); // long label
  EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"0.1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n"),
            0u); // not cumulative
  EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_sum 0\nh_count 1\n"), 0u); // no +Inf
  EXPECT_GT(problems("# TYPE a gauge\n# TYPE a counter\na 1\n"), 0u);            // two TYPEs
}
