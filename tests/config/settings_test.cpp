#include <gtest/gtest.h>

#include "config/prompt_files.hpp"
#include "config/settings.hpp"

using namespace grove::config;

namespace {

std::string error_of(const std::string& text) {
  auto r = apply_settings(text, defaults());
  return r ? std::string{} : r.error().message;
}

} // namespace

TEST(settings, example_files_load) {
  for (auto file : {"grove.example.json", "models.example.json"}) {
    auto r = load_settings(std::string{GROVE_SOURCE_DIR} + "/config/" + file);
    ASSERT_TRUE(r) << file << ": " << r.error().message;
  }
  auto m = load_settings(std::string{GROVE_SOURCE_DIR} + "/config/models.example.json");
  EXPECT_EQ(route_for(m->models, "generate", "simple"), (std::vector<std::string>{"local", "gpt", "builtin"}));
  EXPECT_EQ(route_for(m->models, "review", "hard"), (std::vector<std::string>{"gpt", "builtin"}));
  EXPECT_EQ(m->models.providers.at("local").max_concurrency, 2u);
  EXPECT_EQ(m->models.providers.at("flash").model, "gemini-1.5-flash");
}

TEST(settings, defaults_route_everything_to_builtin) {
  auto s = defaults();
  EXPECT_EQ(route_for(s.models, "plan", "hard"), (std::vector<std::string>{"builtin"}));
  EXPECT_EQ(s.models.providers.count("builtin"), 1u);
  EXPECT_EQ(s.max_attempts, 3u);
}

TEST(settings, the_node_services_have_their_own_restart_policy) {
  auto s = apply_settings(R"({"service_restart": {"intensity": 7, "period_ms": 2000}})", defaults());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->service_restart.intensity, 7u);
  EXPECT_EQ(s->service_restart.period_ms, 2000u);
  EXPECT_EQ(s->restart.intensity, defaults().restart.intensity) << "the generators' policy is apart";
  EXPECT_NE(error_of(R"({"service_restart": {"intensty": 1}})").find("service_restart.intensty"), std::string::npos);
  EXPECT_NE(error_of(R"({"service_restart": 3})").find("service_restart: expected an object"), std::string::npos);
}

TEST(settings, errors_name_the_key) {
  EXPECT_NE(error_of(R"({"paralel": 1})").find("paralel: unknown setting"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_attempts": 0})").find("max_attempts"), std::string::npos);
  EXPECT_NE(error_of(R"({"restart": {"jitter": "x"}})").find("restart.jitter: expected a number"), std::string::npos);
  EXPECT_NE(error_of(R"({"providers": {"p": {"type": "claude"}}})").find("providers.p.type"), std::string::npos);
  EXPECT_NE(error_of(R"({"providers": {"p": {"tipe": "openai"}}})").find("providers.p.tipe: unknown setting"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"routes": {"generate": ["nobody"]}})").find("unknown provider \"nobody\""), std::string::npos);
  EXPECT_NE(error_of(R"({"routes": {"generate.medium": ["builtin"]}})").find("unknown difficulty tier"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"routes": {"paint": ["builtin"]}})").find("unknown role"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
}

TEST(settings, provider_flag_routes_every_role_to_one_provider) {
  auto s = apply_provider_flag(defaults(), "openai:gpt-test");
  ASSERT_TRUE(s);
  EXPECT_EQ(route_for(s->models, "plan", "hard"), (std::vector<std::string>{"openai"}));
  EXPECT_EQ(route_for(s->models, "generate", "simple"), (std::vector<std::string>{"openai"}));
  EXPECT_EQ(s->models.providers.at("openai").model, "gpt-test");
  auto plain = apply_provider_flag(defaults(), "ollama");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->models.providers.at("ollama").model, "qwen2.5-coder");
  EXPECT_FALSE(apply_provider_flag(defaults(), "claude"));
  EXPECT_FALSE(apply_provider_flag(defaults(), ":x"));
}

TEST(prompt_files, are_embedded_with_their_placeholders) {
  EXPECT_NE(prompt_text(prompt_file::generate).find("{{component}}"), std::string_view::npos);
  EXPECT_NE(prompt_text(prompt_file::generate).find("{{feedback}}"), std::string_view::npos);
  EXPECT_NE(prompt_text(prompt_file::plan).find("{{request}}"), std::string_view::npos);
  EXPECT_NE(prompt_text(prompt_file::correction).find("{{error}}"), std::string_view::npos);
  EXPECT_FALSE(prompt_text(prompt_file::system).empty());
}

TEST(settings, the_cluster_and_escalation_are_configured_and_checked) {
  auto s = apply_settings(R"({"cluster": {"heartbeat_interval_ms": 100, "connection_timeout_ms": 600,
                               "local_capacity": 0, "capacity": 12},
                              "retry_prefer": {"generate": "strong"}})",
                          defaults());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cluster.heartbeat_interval_ms, 100u);
  EXPECT_EQ(s->cluster.connection_timeout_ms, 600u);
  EXPECT_EQ(s->cluster.local_capacity, 0u);
  EXPECT_EQ(s->cluster.capacity, 12u);
  EXPECT_FALSE(s->cluster.tls());
  EXPECT_EQ(s->models.retry_prefer.at("generate"), "strong");
  EXPECT_EQ(defaults().cluster.connection_timeout_ms, 1000u) << "a lost node is found within 2 s by default";
  EXPECT_NE(error_of(R"({"cluster": {"heartbeat_interval_ms": 500, "connection_timeout_ms": 400}})")
              .find("must be longer than cluster.heartbeat_interval_ms"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"cluster": {"capacity": 0}})").find("cluster.capacity"), std::string::npos);
  EXPECT_NE(error_of(R"({"cluster": {"port": 1}})").find("cluster.port: unknown setting"), std::string::npos);
  EXPECT_NE(error_of(R"({"retry_prefer": {"paint": "x"}})").find("retry_prefer.paint: unknown role"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"retry_prefer": {"generate": 3}})").find("expected a provider name"), std::string::npos);
}

TEST(settings, the_reviewer_mode_is_blocking_by_default_and_checked) {
  EXPECT_EQ(defaults().review, "blocking");
  for (auto* mode : {"off", "advisory", "blocking"}) {
    auto s = apply_settings(std::string{R"({"review": ")"} + mode + "\"}", defaults());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->review, mode);
  }
  auto bad = apply_settings(R"({"review": "strict"})", defaults());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("review: \"strict\" is not a review mode"), std::string::npos)
    << bad.error().message;
  EXPECT_FALSE(apply_settings(R"({"review": true})", defaults()));
}

TEST(settings, embeddings_are_off_by_default_and_checked) {
  EXPECT_FALSE(defaults().embeddings.enabled());
  auto openai = apply_settings(R"({"embeddings": {"type": "openai"}})", defaults());
  ASSERT_TRUE(openai) << openai.error().message;
  EXPECT_TRUE(openai->embeddings.enabled());
  EXPECT_EQ(openai->embeddings.model, "text-embedding-3-small");
  auto ollama = apply_settings(
    R"({"embeddings": {"type": "ollama", "base_url": "http://127.0.0.1:11434", "min_similarity": 0.6}})", defaults());
  ASSERT_TRUE(ollama) << ollama.error().message;
  EXPECT_EQ(ollama->embeddings.model, "nomic-embed-text");
  EXPECT_DOUBLE_EQ(ollama->embeddings.min_similarity, 0.6);
  EXPECT_NE(error_of(R"({"embeddings": {"type": "gemini"}})").find("embeddings.type: \"gemini\" is not"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"embeddings": {"type": "openai", "timeout_ms": 60000}})").find("embeddings.timeout_ms"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"embeddings": {"type": "openai", "dims": 3}})").find("embeddings.dims: unknown setting"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"embeddings": "openai"})").find("embeddings: expected an object"), std::string::npos);
}

TEST(settings, budgets_are_off_by_default_and_checked) {
  auto d = defaults();
  EXPECT_EQ(d.models.max_cost_usd, 0.0);
  EXPECT_EQ(d.budget_usd_per_day, 0.0);
  EXPECT_EQ(d.budget_window_ms, 86'400'000u);
  auto s = apply_settings(R"({"max_cost_usd": 0.25, "budget_usd_per_day": 20, "budget_window_ms": 3600000})", d);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_DOUBLE_EQ(s->models.max_cost_usd, 0.25);
  EXPECT_DOUBLE_EQ(s->budget_usd_per_day, 20.0);
  EXPECT_EQ(s->budget_window_ms, 3'600'000u);
  EXPECT_NE(error_of(R"({"max_cost_usd": -1})").find("max_cost_usd"), std::string::npos);
  EXPECT_NE(error_of(R"({"budget_usd_per_day": "ten"})").find("budget_usd_per_day"), std::string::npos);
  EXPECT_NE(error_of(R"({"budget_window_ms": 10})").find("budget_window_ms"), std::string::npos);
}
