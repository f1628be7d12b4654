// Runs the real grove binary in a temporary folder and checks the repository
// with the git command line.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "infra/journal/lessons.hpp"
#include "support.hpp"

using grove::test::count_lines;
using grove::test::git_cli;
using grove::test::run;

namespace {

const std::string grove_bin = GROVE_BINARY;

class cli : public ::testing::Test {
protected:
  std::filesystem::path ws() const { return dir.path() / "ws"; }

  grove::test::command_result grove(const std::string& args, bool with_stderr = false) {
    return run("cd '" + dir.path().string() + "' && '" + grove_bin + "' " + args +
               (with_stderr ? " 2>&1" : " 2>/dev/null"));
  }

  grove::test::temp_dir dir;
};

const char* korean = "대시보드 페이지와 로그인 폼 만들어줘";

} // namespace

TEST_F(cli, korean_example_end_to_end_then_cached) {
  auto first = grove(std::string{"build '"} + korean + "' --repo ws --json");
  ASSERT_EQ(first.status, 0) << first.out;
  auto report = nlohmann::json::parse(first.out);
  EXPECT_EQ(report["status"], "done");
  ASSERT_EQ(report["components"].size(), 2u);
  std::vector<std::string> planned;
  for (auto& c : report["components"]) {
    planned.push_back(c["name"]);
    EXPECT_EQ(c["status"], "landed");
    EXPECT_EQ(c["attempts"], 1);
    EXPECT_EQ(c["cache_hit"], false);
    EXPECT_EQ(c["commit"].get<std::string>().size(), 40u);
  }
  EXPECT_EQ(planned, (std::vector<std::string>{"dashboard", "login_form"}));
  EXPECT_EQ(report["output"], (ws() / "output/builder_output.html").string());

  auto page = grove::test::read_file(ws() / "output/builder_output.html");
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  for (auto& name : planned) {
    EXPECT_NE(page.find("data-component=\"" + name + "\""), std::string::npos) << name;
  }
  EXPECT_EQ(git_cli(ws(), "status --porcelain").out, "");
  EXPECT_EQ(count_lines(git_cli(ws(), "worktree list").out), 1u);
  EXPECT_EQ(git_cli(ws(), "branch --list 'feat/*'").out, "");
  auto fsck = git_cli(ws(), "fsck --strict");
  EXPECT_EQ(fsck.status, 0) << fsck.out;
  for (auto& name : planned) {
    EXPECT_EQ(count_lines(git_cli(ws(), "log --oneline --grep='^grove: merge " + name + "$' main").out), 1u)
      << name << " merged exactly once";
  }
  auto merges = git_cli(ws(), "log --merges --oneline").out;
  auto first_parent = git_cli(ws(), "log --first-parent --format=%s main").out;
  EXPECT_EQ(first_parent.rfind("grove: compose page (2 components)\n", 0), 0u) << first_parent;
  auto commits = git_cli(ws(), "rev-list --count main").out;

  auto second = grove(std::string{"build '"} + korean + "' --repo ws --json");
  ASSERT_EQ(second.status, 0);
  for (auto& c : nlohmann::json::parse(second.out)["components"]) {
    EXPECT_EQ(c["status"], "cached");
    EXPECT_EQ(c["cache_hit"], true);
  }
  EXPECT_EQ(git_cli(ws(), "rev-list --count main").out, commits) << "a second run creates no component commits";
  EXPECT_EQ(git_cli(ws(), "log --merges --oneline").out, merges) << "no new merges";
  EXPECT_EQ(git_cli(ws(), "status --porcelain").out, "");
}

TEST_F(cli, fresh_regenerates_every_planned_component_as_a_new_version) {
  ASSERT_EQ(grove(std::string{"build '"} + korean + "' --repo ws -q").status, 0);
  auto fresh = grove(std::string{"build '"} + korean + "' --repo ws --fresh --json");
  ASSERT_EQ(fresh.status, 0) << fresh.out;
  auto report = nlohmann::json::parse(fresh.out);
  EXPECT_EQ(report["status"], "done");
  for (auto& c : report["components"]) {
    EXPECT_EQ(c["status"], "landed") << c.dump();
    EXPECT_EQ(c["cache_hit"], false) << "no cache hit";
    EXPECT_EQ(c["action"], "regenerate");
    EXPECT_EQ(c["version"], 2) << "the library held version 1";
    auto file = grove::test::library_file(ws(), c["name"].get<std::string>());
    EXPECT_EQ(nlohmann::json::parse(grove::test::read_file(file))["version"], 2) << file;
    EXPECT_EQ(
      count_lines(git_cli(ws(), "log --oneline --grep='^grove: merge " + c["name"].get<std::string>() + "$' main").out),
      2u)
      << "a second merge of " << c["name"];
  }
  // The next plain build finds version 2 in the library.
  auto again = nlohmann::json::parse(grove(std::string{"build '"} + korean + "' --repo ws --json").out);
  for (auto& c : again["components"]) {
    EXPECT_EQ(c["cache_hit"], true);
    EXPECT_EQ(c["action"], "create");
    EXPECT_EQ(c["version"], 2);
  }
  grove::test::expect_clean_repository(ws());
  // --fresh starts a new build: it cannot change the plan a resumed job began with.
  auto both = grove("build --resume some_job --fresh --repo ws", true);
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.out.find("--fresh starts a new build"), std::string::npos) << both.out;
}

TEST_F(cli, a_plan_file_regenerates_the_components_it_marks) {
  ASSERT_EQ(grove("build 'a navbar and a footer' --repo ws -q").status, 0);
  grove::test::write_file(
    dir.path() / "plan.json",
    R"({"request":"again","components":[{"name":"navbar","action":"regenerate"},{"name":"footer"}]})");
  auto r = grove("build --plan plan.json --repo ws --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report["components"].size(), 2u);
  EXPECT_EQ(report["components"][0]["action"], "regenerate");
  EXPECT_EQ(report["components"][0]["cache_hit"], false);
  EXPECT_EQ(report["components"][0]["version"], 2);
  EXPECT_EQ(report["components"][1]["action"], "create");
  EXPECT_EQ(report["components"][1]["cache_hit"], true);
  EXPECT_EQ(report["components"][1]["version"], 1);
  // An action the plan schema does not know is refused before anything runs.
  grove::test::write_file(dir.path() / "bad.json",
                          R"({"request":"x","components":[{"name":"navbar","action":"delete"}]})");
  auto bad = grove("build --plan bad.json --repo ws", true);
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("action"), std::string::npos) << bad.out;
  grove::test::expect_clean_repository(ws());
}

TEST_F(cli, progress_and_summary_go_to_stderr) {
  auto r = grove("build 'a navbar and a footer' --repo ws", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("navbar"), std::string::npos);
  EXPECT_NE(r.out.find("landed"), std::string::npos);
  EXPECT_NE(r.out.find("2 landed, 0 from cache, 0 dropped"), std::string::npos) << r.out;
}

TEST_F(cli, ready_plan_skips_the_customer_agent_and_normalises_names) {
  grove::test::write_file(
    dir.path() / "plan.json",
    R"({"session_id":"plan1","request":"from a file","components":[{"name":"../Hero Banner"},{"name":"$(rm) footer"}]})");
  auto r = grove("build --plan plan.json --repo ws --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["job"], "plan1");
  EXPECT_EQ(report["components"][0]["name"], "hero_banner");
  EXPECT_EQ(report["components"][1]["name"], "rm_footer");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "x"));
  EXPECT_EQ(git_cli(ws(), "status --porcelain").out, "");
}

TEST_F(cli, usage_and_configuration_errors_exit_2_with_a_message) {
  EXPECT_EQ(grove("").status, 2);
  EXPECT_EQ(grove("build --repo ws").status, 2);
  auto both = grove("build 'x' --plan p.json", true);
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.out.find("exactly one"), std::string::npos);
  EXPECT_EQ(grove("build 'login' --max-attempts 0").status, 2);
  EXPECT_EQ(grove("build 'login' --bogus").status, 2);
  grove::test::write_file(dir.path() / "bad.json", R"({"max_attempts": "three"})");
  auto bad_cfg = grove("build 'login' --config bad.json", true);
  EXPECT_EQ(bad_cfg.status, 2);
  EXPECT_NE(bad_cfg.out.find("max_attempts: expected an integer"), std::string::npos) << bad_cfg.out;
  grove::test::write_file(dir.path() / "unknown.json", R"({"paralel": 3})");
  EXPECT_NE(grove("build 'login' --config unknown.json", true).out.find("paralel: unknown setting"), std::string::npos);
  grove::test::write_file(dir.path() / "plan.json", R"({"components":[{"name":"대시보드"}]})");
  auto bad_plan = grove("build --plan plan.json --repo ws", true);
  EXPECT_EQ(bad_plan.status, 2);
  EXPECT_NE(bad_plan.out.find("no ASCII letters or digits"), std::string::npos) << bad_plan.out;
  grove::test::write_file(dir.path() / "broken.json", "{");
  EXPECT_EQ(grove("build --plan broken.json --repo ws").status, 2);
  auto nothing = grove("build 'please make it' --repo ws --json", true);
  EXPECT_EQ(nothing.status, 1);
  EXPECT_NE(nothing.out.find("planning failed"), std::string::npos) << nothing.out;
}

TEST_F(cli, help_is_available) {
  auto top = grove("--help", true);
  EXPECT_EQ(top.status, 0);
  EXPECT_NE(top.out.find("build"), std::string::npos);
  auto build = grove("build --help", true);
  EXPECT_EQ(build.status, 0);
  EXPECT_NE(build.out.find("--max-attempts"), std::string::npos);
  EXPECT_NE(build.out.find("--plan"), std::string::npos);
}

TEST_F(cli, stale_worktrees_from_a_crash_are_cleaned_at_start) {
  ASSERT_EQ(grove("build 'a navbar' --repo ws").status, 0);
  // Leave behind what a killed run would: a worktree on its branch, and half-created debris.
  ASSERT_EQ(git_cli(ws(), "worktree add -q -b feat/ghost_gen worktrees/temp_ghost").status, 0);
  std::filesystem::create_directories(ws() / "worktrees" / "temp_half");
  auto r = grove("build 'a navbar' --repo ws", true);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("removed 1 stale worktree(s), 1 branch(es)"), std::string::npos) << r.out;
  EXPECT_EQ(count_lines(git_cli(ws(), "worktree list").out), 1u);
  EXPECT_EQ(git_cli(ws(), "branch --list 'feat/*'").out, "");
  EXPECT_FALSE(std::filesystem::exists(ws() / "worktrees" / "temp_half"));
}

TEST_F(cli, edits_in_english_and_korean_land_as_new_versions_of_the_library_copy) {
  ASSERT_EQ(grove("build 'a contact form' --repo ws -q").status, 0);
  auto contact = [&] {
    return nlohmann::json::parse(grove::test::read_file(grove::test::library_file(ws(), "contact_form")));
  };
  auto edit = [&](const std::string& request) {
    auto r = grove("build '" + request + "' --repo ws --json");
    EXPECT_EQ(r.status, 0) << request << ": " << r.out;
    auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report["components"].size(), 1u) << request;
    auto& c = report["components"][0];
    EXPECT_EQ(c["name"], "contact_form") << request;
    EXPECT_EQ(c["action"], "edit") << request;
    EXPECT_EQ(c["status"], "landed") << request;
    return c["version"].get<int>();
  };
  EXPECT_EQ(edit("add a phone field to the contact form"), 2);
  EXPECT_EQ(edit("add a company field to the contact form"), 3);
  EXPECT_EQ(edit("문의 폼에 주소 필드 추가해줘"), 4);
  EXPECT_EQ(edit("문의 폼에서 이메일 필드 삭제해줘"), 5);
  auto doc = contact();
  EXPECT_EQ(doc["version"], 5);
  auto html = doc["html"].get<std::string>();
  for (auto* field : {"name=\"phone\"", "name=\"company\"", "name=\"address\"", "name=\"message\""}) {
    EXPECT_NE(html.find(field), std::string::npos) << field << " in " << html;
  }
  EXPECT_EQ(html.find("name=\"email\""), std::string::npos) << html;
  // Each edit is a commit in the component's worktree, merged into main; the page is recomposed.
  EXPECT_EQ(count_lines(git_cli(ws(), "log --oneline --grep='^grove: merge contact_form$' main").out), 5u);
  EXPECT_NE(grove::test::read_file(ws() / "output/builder_output.html").find("name=\"address\""), std::string::npos);
  grove::test::expect_clean_repository(ws());
}

TEST_F(cli, an_edit_of_a_missing_component_or_one_the_builtin_cannot_apply_is_a_clear_error) {
  auto missing = grove("build 'add a phone field to the contact form' --repo ws --json");
  EXPECT_EQ(missing.status, 1) << missing.out;
  auto report = nlohmann::json::parse(missing.out);
  EXPECT_EQ(report["components"][0]["status"], "dropped");
  EXPECT_NE(report["components"][0]["error"].get<std::string>().find("the library has no contact_form"),
            std::string::npos)
    << missing.out;
  ASSERT_EQ(grove("build 'a contact form' --repo ws -q").status, 0);
  auto before = git_cli(ws(), "rev-parse main").out;
  auto offline = grove("build 'rewrite the contact form in a friendlier tone' --repo ws --json");
  EXPECT_EQ(offline.status, 1);
  auto r = nlohmann::json::parse(offline.out);
  EXPECT_EQ(r["components"][0]["action"], "edit");
  EXPECT_NE(r["components"][0]["error"].get<std::string>().find("configure a model provider"), std::string::npos)
    << offline.out;
  EXPECT_EQ(git_cli(ws(), "rev-parse main").out, before) << "nothing landed";
  EXPECT_EQ(nlohmann::json::parse(grove::test::read_file(grove::test::library_file(ws(), "contact_form")))["version"],
            1);
  grove::test::expect_clean_repository(ws());
}

TEST(cli_lessons, lists_the_lessons_a_workspace_keeps) {
  grove::test::temp_dir dir;
  auto ws = dir.path() / "ws";
  auto empty = grove::test::run("'" + grove_bin + "' lessons --repo '" + ws.string() + "' --json");
  EXPECT_EQ(empty.status, 0);
  EXPECT_EQ(empty.out, "[]\n");
  {
    auto store = grove::journal::lesson_store::open(ws);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->learn("login form", "input_label", "<input name=\"otp\"> has no label", "label it", 1));
  }
  auto listed = grove::test::run("'" + grove_bin + "' lessons --repo '" + ws.string() + "' --json");
  ASSERT_EQ(listed.status, 0) << listed.out;
  auto doc = nlohmann::json::parse(listed.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["code"], "input_label");
  EXPECT_EQ(doc[0]["kind"], "login form");
  EXPECT_EQ(doc[0]["retired"], false);
  auto text = grove::test::run("'" + grove_bin + "' lessons --repo '" + ws.string() + "'");
  EXPECT_NE(text.out.find("input_label"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("advice: label it"), std::string::npos) << text.out;
}
