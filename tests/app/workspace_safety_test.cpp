// The workspace belongs to the user, tried as an attacker would against the
// real binary: uncommitted edits, untracked and staged files under output/,
// links planted where grove writes, and `grove status` while another grove
// process holds the workspace.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include "support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string grove_bin = GROVE_BINARY;

grove::test::command_result grove_build(const fs::path& dir, const std::string& request,
                                        const std::string& extra = {}) {
  return grove::test::run("cd '" + dir.string() + "' && '" + grove_bin + "' build '" + request + "' --repo ws -q " +
                          extra + " 2>stderr.txt");
}

class workspace_safety : public ::testing::Test {
protected:
  void SetUp() override {
    auto first = grove_build(dir.path(), "a navbar");
    ASSERT_EQ(first.status, 0) << grove::test::read_file(dir.path() / "stderr.txt");
    ws = dir.path() / "ws";
    head = grove::test::git_cli(ws, "rev-parse main").out;
  }

  std::string stderr_text() const { return grove::test::read_file(dir.path() / "stderr.txt"); }

  grove::test::temp_dir dir;
  fs::path ws;
  std::string head;
};

} // namespace

TEST_F(workspace_safety, uncommitted_untracked_and_staged_files_make_the_build_refuse_and_survive) {
  auto edited = grove::test::library_file(ws, "navbar");
  auto edit = grove::test::read_file(edited) + "\n// my edit\n";
  grove::test::write_file(edited, edit);
  grove::test::write_file(ws / "output" / "notes.txt", "my notes");
  grove::test::write_file(ws / "output" / "components" / "draft.json", "{\"draft\": true}");
  ASSERT_EQ(grove::test::git_cli(ws, "add output/components/draft.json").status, 0);

  auto r = grove_build(dir.path(), "a navbar and a footer");
  EXPECT_EQ(r.status, 2) << stderr_text();
  auto err = stderr_text();
  for (std::string name :
       {"output/components/" + grove::logic::library::file("navbar") + " (modified)",
        std::string{"output/notes.txt (untracked)"}, std::string{"output/components/draft.json (staged)"}}) {
    EXPECT_NE(err.find(name), std::string::npos) << name << " not named in: " << err;
  }
  EXPECT_NE(err.find("git commit"), std::string::npos) << "says how to proceed: " << err;
  // Nothing was lost or touched: the files, the index and main are as the user left them.
  EXPECT_EQ(grove::test::read_file(edited), edit);
  EXPECT_EQ(grove::test::read_file(ws / "output" / "notes.txt"), "my notes");
  EXPECT_EQ(grove::test::read_file(ws / "output" / "components" / "draft.json"), "{\"draft\": true}");
  EXPECT_NE(grove::test::git_cli(ws, "diff --cached --name-only").out.find("output/components/draft.json"),
            std::string::npos);
  EXPECT_EQ(grove::test::git_cli(ws, "rev-parse main").out, head);

  // Once the user commits them, grove builds on top.
  ASSERT_EQ(grove::test::git_cli(ws, "add -A output").status, 0);
  ASSERT_EQ(grove::test::git_cli(ws, "-c user.name=u -c user.email=u@x commit -qm mine").status, 0);
  auto again = grove_build(dir.path(), "a footer");
  EXPECT_EQ(again.status, 0) << stderr_text();
  EXPECT_EQ(grove::test::read_file(ws / "output" / "notes.txt"), "my notes");
  grove::test::expect_clean_repository(ws);
}

TEST_F(workspace_safety, a_link_planted_for_the_page_is_never_written_through) {
  auto outside = dir.path() / "outside.txt";
  grove::test::write_file(outside, "precious");
  fs::remove(ws / "output" / "builder_output.html");
  fs::create_symlink(outside, ws / "output" / "builder_output.html");
  auto r = grove_build(dir.path(), "a navbar and a footer");
  EXPECT_EQ(r.status, 2) << stderr_text();
  EXPECT_NE(stderr_text().find("output/builder_output.html (symbolic link)"), std::string::npos) << stderr_text();
  EXPECT_EQ(grove::test::read_file(outside), "precious");
  EXPECT_TRUE(fs::is_symlink(ws / "output" / "builder_output.html"));
  EXPECT_EQ(grove::test::git_cli(ws, "rev-parse main").out, head);
}

TEST_F(workspace_safety, links_planted_for_grove_folders_are_refused_and_the_targets_untouched) {
  // A folder elsewhere that grove must never write into, planted as each of its folders in turn.
  auto outside = dir.path() / "outside";
  fs::create_directories(outside);
  grove::test::write_file(outside / "keep.txt", "precious");
  for (auto rel : {"output/components", "output", ".grove", "worktrees"}) {
    auto target = ws / rel;
    auto moved = dir.path() / "moved";
    std::error_code ec;
    fs::remove_all(moved, ec);
    if (fs::exists(target)) fs::rename(target, moved);
    fs::create_directory_symlink(outside, target);
    auto r = grove_build(dir.path(), "a navbar and a footer");
    EXPECT_EQ(r.status, 2) << rel << ": " << stderr_text();
    EXPECT_NE(stderr_text().find("symbolic link"), std::string::npos) << rel << ": " << stderr_text();
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator{outside}) names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"keep.txt"}) << rel << ": something was written through the link";
    EXPECT_EQ(grove::test::read_file(outside / "keep.txt"), "precious");
    fs::remove(target);
    if (fs::exists(moved)) fs::rename(moved, target);
  }
  EXPECT_EQ(grove::test::git_cli(ws, "rev-parse main").out, head);
  auto r = grove_build(dir.path(), "a footer");
  EXPECT_EQ(r.status, 0) << stderr_text();
  grove::test::expect_clean_repository(ws);
}

TEST_F(workspace_safety, a_deleted_page_is_restored_without_asking) {
  // Deleting a tracked file loses nothing: main has it, so grove puts it back.
  fs::remove(ws / "output" / "builder_output.html");
  auto r = grove_build(dir.path(), "a navbar");
  EXPECT_EQ(r.status, 0) << stderr_text();
  EXPECT_TRUE(fs::is_regular_file(ws / "output" / "builder_output.html"));
  grove::test::expect_clean_repository(ws);
}

TEST_F(workspace_safety, status_tells_a_job_running_elsewhere_from_one_that_needs_resume) {
  // A job held open in a real grove process (its composition paused by the test hook).
  grove::test::child_process running{"cd '" + dir.path().string() + "' && GROVE_TEST_COMPOSE_DELAY_MS=20000 exec '" +
                                     grove_bin + "' build 'a footer' --repo ws -q 2>/dev/null"};
  std::string listing;
  for (int i = 0; i < 200; ++i) {
    listing = grove::test::run("'" + grove_bin + "' status --repo '" + ws.string() + "' 2>&1").out;
    if (listing.find("running in grove process") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(listing.find("running in grove process " + std::to_string(running.pid())), std::string::npos) << listing;
  EXPECT_EQ(listing.find("grove build --resume"), std::string::npos) << listing;
  auto js =
    nlohmann::json::parse(grove::test::run("'" + grove_bin + "' status --repo '" + ws.string() + "' --json").out);
  bool seen = false;
  for (auto& j : js) {
    if (!j["finished"].get<bool>()) {
      seen = true;
      EXPECT_TRUE(j["running_elsewhere"].get<bool>());
      EXPECT_EQ(j["pid"], running.pid());
    }
  }
  EXPECT_TRUE(seen) << js.dump();
  // Killed mid-job: now it does need --resume.
  running.signal(SIGKILL);
  running.wait(10s);
  listing = grove::test::run("'" + grove_bin + "' status --repo '" + ws.string() + "' 2>&1").out;
  EXPECT_NE(listing.find("(unfinished: grove build --resume"), std::string::npos) << listing;
}

TEST(plan_memory, a_plan_of_2000_components_stays_under_its_memory_budget) {
  grove::test::temp_dir dir;
  nlohmann::json comps = nlohmann::json::array();
  for (int i = 0; i < 2000; ++i) comps.push_back({{"name", std::string{"c"}.append(std::to_string(i))}});
  grove::test::write_file(dir.path() / "plan.json", nlohmann::json{{"request", "big"}, {"components", comps}}.dump());
  auto r = grove::test::run("cd '" + dir.path().string() + "' && exec '" + grove_bin +
                            "' build --plan plan.json --repo ws -q --json 2>stderr.txt");
  ASSERT_EQ(r.status, 0) << grove::test::read_file(dir.path() / "stderr.txt");
  EXPECT_EQ(nlohmann::json::parse(r.out)["components"].size(), 2000u);
  // The largest child this test waited for is grove (through popen's shell).
  rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  auto peak_mib = ru.ru_maxrss / 1024;
  std::cerr << "2000-component plan: peak RSS " << peak_mib << " MiB\n";
  EXPECT_LT(peak_mib, 250) << "the budget: state per component in flight, libgit2's object caches at 32 MiB";
  grove::test::expect_clean_repository(dir.path() / "ws");
}
