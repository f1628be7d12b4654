// The lessons actor recalling by meaning through an embeddings endpoint (a
// fake one on loopback, in both wire formats), and by words whenever that
// endpoint fails or hangs.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/lessons.hpp"
#include "fakes/fake_llm_server.hpp"
#include "infra/http/http_client.hpp"
#include "infra/models/embedder.hpp"
#include "messages/registry.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;

namespace {

struct lessons_system : caf::actor_system_config {
  lessons_system() { messages::register_messages(*this); }
};

// A small embedding model that has meaning: words of one concept (synonyms)
// share an axis, a text's vector counts its concepts. "signin credentials"
// and "login password" are near; neither shares a word with the other.
std::vector<float> toy_embedding(const std::string& text) {
  static const std::vector<std::vector<std::string>> concepts = {
    {"login", "signin", "sign", "logon", "credentials", "password", "passcode", "auth"},
    {"input", "inputs", "field", "fields", "entry", "textbox"},
    {"label", "labels", "caption", "labelled"},
    {"chart", "graph", "plot", "diagram"},
    {"weather", "forecast", "temperature"},
  };
  std::vector<float> v(concepts.size(), 0);
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      continue;
    }
    for (size_t i = 0; i < concepts.size(); ++i) {
      for (auto& w : concepts[i]) v[i] += w == word ? 1.0f : 0.0f;
    }
    word.clear();
  }
  return v;
}

// The fake endpoint: OpenAI's /embeddings or Ollama's /api/embed envelope.
test::fake_reply embeddings_reply(const test::fake_request& req, bool ollama) {
  auto in = nlohmann::json::parse(req.body);
  nlohmann::json out;
  if (ollama) {
    out["embeddings"] = nlohmann::json::array();
    for (auto& t : in.at("input")) out["embeddings"].push_back(toy_embedding(t.get<std::string>()));
  } else {
    out["data"] = nlohmann::json::array();
    int i = 0;
    for (auto& t : in.at("input")) {
      out["data"].push_back({{"object", "embedding"}, {"index", i++}, {"embedding", toy_embedding(t.get<std::string>())}});
    }
  }
  return test::reply(200, out.dump());
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* key_var = "GROVE_TEST_EMBED_KEY";
const char* key = "sk-embed-7f3a9c2e51d84b60";

struct recall_fixture : ::testing::Test {
  lessons_system cfg;
  caf::actor_system sys{cfg};
  test::temp_dir dir;
  std::shared_ptr<http::client> client = std::make_shared<http::client>();

  void SetUp() override { ::setenv(key_var, key, 1); }

  actors::lessons_actor start(const std::string& type, const std::string& base_url, uint32_t timeout_ms = 2000) {
    actors::lessons_options lo;
    if (!type.empty()) {
      config::embedding_settings e;
      e.type = type;
      e.model = "toy-embed";
      e.base_url = base_url;
      e.api_key_env = key_var;
      e.timeout_ms = timeout_ms;
      auto made = models::embedder::make(e, client);
      EXPECT_TRUE(made) << made.error().message;
      if (made) lo.embedder = std::move(*made);
    }
    return actors::spawn_lessons(sys, dir.path(), lo);
  }

  std::vector<messages::lesson> recall(const actors::lessons_actor& a, messages::component_spec spec) {
    caf::scoped_actor self{sys};
    std::vector<messages::lesson> out;
    self->request(a, 10s, messages::lessons_request{std::move(spec), 2})
      .receive([&](std::vector<messages::lesson>& l) { out = std::move(l); },
               [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
    return out;
  }

  void teach(const actors::lessons_actor& a) {
    caf::scoped_actor self{sys};
    self->send(a, messages::lesson_learned{"login form", "input_label", "<input name=\"otp\"> has no label",
                                           "give every input a label element whose for= names its id"});
    self->send(a, messages::lesson_learned{"sales chart", "purpose_chart", "the chart has no accessible title",
                                           "give the svg a title and a desc"});
  }

  void stop(const actors::lessons_actor& a) {
    caf::scoped_actor self{sys};
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->wait_for(a);
  }
};

// The new component shares no word with the lesson (FTS5 finds nothing),
// yet the embeddings find it; an unrelated component gets none.
void recall_by_meaning_in(recall_fixture& f, bool ollama) {
  test::fake_llm_server server{[&](const test::fake_request& r, int) { return embeddings_reply(r, ollama); }};
  messages::component_spec signin{"member_signin", "credentials entry of members"};
  auto by_words = f.start("", "");
  f.teach(by_words);
  EXPECT_TRUE(f.recall(by_words, signin).empty()) << "no shared word: words alone find nothing";
  f.stop(by_words);

  auto a = f.start(ollama ? "ollama" : "openai", server.url(ollama ? "" : "/v1"));
  auto got = f.recall(a, signin);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].code, "input_label");
  EXPECT_EQ(got[0].matched.rfind("embeddings ", 0), 0u) << got[0].matched;
  EXPECT_TRUE(f.recall(a, {"weather_widget", "today's forecast"}).empty()) << "nothing near: nothing given";
  auto chart = f.recall(a, {"revenue_graph", "a plot of revenue"});
  ASSERT_EQ(chart.size(), 1u);
  EXPECT_EQ(chart[0].code, "purpose_chart");
  f.stop(a);

  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, ollama ? "/api/embed" : "/v1/embeddings");
  auto first = nlohmann::json::parse(seen[0].body);
  EXPECT_EQ(first["model"], "toy-embed");
  EXPECT_EQ(first["input"].size(), 3u) << "the query and both lessons in one call";
  EXPECT_EQ(nlohmann::json::parse(seen[1].body)["input"].size(), 1u) << "lessons are embedded once";
  if (ollama) {
    EXPECT_EQ(seen[0].headers.count("authorization"), 0u);
  } else {
    EXPECT_EQ(seen[0].headers.at("authorization"), std::string{"Bearer "} + key);
  }
  // The key is sent, never stored.
  for (auto* file : {"lessons.db", "lessons.db-wal"}) {
    auto p = f.dir.path() / ".grove" / file;
    if (std::filesystem::exists(p)) {
      EXPECT_EQ(slurp(p).find(key), std::string::npos) << file;
    }
  }

  // A restart: the embeddings are kept, only the query goes out.
  auto again = f.start(ollama ? "ollama" : "openai", server.url(ollama ? "" : "/v1"));
  EXPECT_EQ(f.recall(again, signin).size(), 1u);
  f.stop(again);
  ASSERT_EQ(server.seen().size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(server.seen()[3].body)["input"].size(), 1u);
}

} // namespace

TEST_F(recall_fixture, lessons_are_recalled_by_meaning_through_an_openai_compatible_endpoint) {
  recall_by_meaning_in(*this, false);
}

TEST_F(recall_fixture, lessons_are_recalled_by_meaning_through_ollama) {
  recall_by_meaning_in(*this, true);
}

// A failing, hanging or garbage-answering endpoint never costs a lesson:
// each recall falls back to words in bounded time, saying why, and no text
// holds the key.
TEST_F(recall_fixture, a_failing_or_hanging_endpoint_falls_back_to_words_in_bounded_time) {
  int mode = 0;
  test::fake_llm_server server{[&](const test::fake_request&, int) {
    test::fake_reply r;
    if (mode == 0) r = test::reply(500, std::string{"{\"error\": \"boom for key "} + key + "\"}");
    if (mode == 1) r.hang = true;
    if (mode == 2) r = test::reply(200, "{\"data\": [{\"embedding\": [1, 2]}]}"); // one vector for three texts
    if (mode == 3) r = test::reply(200, "not json at all");
    return r;
  }};
  auto a = start("openai", server.url("/v1"), 300);
  teach(a);
  for (mode = 0; mode < 4; ++mode) {
    auto t0 = std::chrono::steady_clock::now();
    auto got = recall(a, {"admin_login", "an admin login form"});
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(got.size(), 1u) << "mode " << mode;
    EXPECT_EQ(got[0].code, "input_label");
    EXPECT_EQ(got[0].matched.rfind("words (embeddings", 0), 0u) << got[0].matched;
    EXPECT_EQ(got[0].matched.find(key), std::string::npos) << got[0].matched;
    EXPECT_LT(took, 3s) << "mode " << mode;
  }
  stop(a);
}

TEST(embedder, a_base_url_that_does_not_parse_is_a_config_error) {
  config::embedding_settings e;
  e.type = "openai";
  e.model = "m";
  e.base_url = "ftp://nowhere";
  auto made = models::embedder::make(e, nullptr);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, messages::errc::invalid_config);
  EXPECT_NE(made.error().message.find("embeddings"), std::string::npos);
}
