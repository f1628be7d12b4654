// A read-only or full workspace: a clear error, and the repository stays
// consistent. Runs grove in a private mount namespace (unshare -m) to mount a
// read-only bind or a tiny tmpfs; skipped where mounting is not allowed.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace {

const std::string grove_bin = GROVE_BINARY;

bool can_mount() {
  return grove::test::run("unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /mnt' 2>/dev/null").status == 0;
}

} // namespace

TEST(storage, read_only_workspace_is_a_clear_error) {
  if (!can_mount()) GTEST_SKIP() << "needs mount namespaces (root); CI runs as root";
  grove::test::temp_dir dir;
  std::string d{"'"};
  d += dir.path().string();
  d += "'";
  ASSERT_EQ(grove::test::run("cd " + d + " && '" + grove_bin + "' build 'a navbar' --repo ws -q").status, 0);
  auto before = grove::test::git_cli(dir.path() / "ws", "rev-parse main").out;
  auto r =
    grove::test::run("cd " + d + " && unshare -m sh -c \"mount --bind ws ws && mount -o remount,ro,bind ws && '" +
                     grove_bin + "' build 'a footer' --repo ws; echo exit=\\$?\" 2>&1");
  EXPECT_NE(r.out.find("exit=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_EQ(grove::test::git_cli(dir.path() / "ws", "rev-parse main").out, before);
  grove::test::expect_clean_repository(dir.path() / "ws");
}

TEST(storage, full_disk_fails_clearly_and_leaves_the_repository_consistent) {
  if (!can_mount()) GTEST_SKIP() << "needs mount namespaces (root); CI runs as root";
  grove::test::temp_dir dir;
  auto d = dir.path().string();
  grove::test::write_file(dir.path() / "check.sh",
                          "mount -t tmpfs -o size=400k tmpfs '" + d +
                            "/fs' || exit 9\n"
                            "cd '" +
                            d +
                            "/fs'\n"
                            "'" +
                            grove_bin +
                            "' build 'navbar, hero, dashboard, chart, data table, login form, signup form, pricing, "
                            "contact form, search bar, modal, cards, sidebar, footer' --repo ws -q --json > '" +
                            d +
                            "/out.json'\n"
                            R"sh(echo "exit=$?"
echo "status=[$(git -C ws status --porcelain)]"
echo "worktrees=$(git -C ws worktree list | wc -l)"
echo "branches=$(git -C ws branch --list 'feat/*' | wc -l)"
git -C ws fsck --no-dangling >/dev/null 2>&1 && echo fsck=ok
)sh");
  std::filesystem::create_directories(dir.path() / "fs");
  auto r = grove::test::run("timeout 120 unshare -m sh '" + d + "/check.sh' 2>&1");
  EXPECT_NE(r.out.find("exit=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status=[]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("worktrees=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("branches=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fsck=ok"), std::string::npos) << r.out;
  auto report = nlohmann::json::parse(grove::test::read_file(dir.path() / "out.json"), nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_NE(report["status"], "done");
  std::string errors = report["error"].get<std::string>();
  for (auto& c : report["components"]) errors += c["error"].get<std::string>();
  EXPECT_TRUE(errors.find("No space left on device") != std::string::npos ||
              errors.find("disk is full") != std::string::npos)
    << errors.substr(0, 400);
}
