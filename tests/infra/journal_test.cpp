// The job journal on a real SQLite file: round trips, unknown jobs, group
// commits, and reads that meet a damaged page reported as
// failures, never as short answers.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "infra/journal/journal.hpp"
#include "infra/journal/lessons.hpp"
#include "infra/journal/spend.hpp"
#include "support.hpp"

using namespace grove;

namespace {

std::unique_ptr<journal::journal> open_journal(const std::filesystem::path& root) {
  auto j = journal::journal::open(root);
  EXPECT_TRUE(j) << j.error().message;
  return j ? std::move(*j) : nullptr;
}

} // namespace

TEST(journal, a_job_round_trips_from_begin_to_finish) {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->begin_job("j1", "a navbar", 10));
  ASSERT_TRUE(j->set_plan("j1", R"({"components":[]})", {"navbar", "footer"}, 11));
  ASSERT_TRUE(j->set_component({"j1", "navbar", "landed", 2, "c0ffee"}, 12));
  auto open = j->unfinished();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].state, "running");
  auto comps = j->components("j1");
  ASSERT_TRUE(comps);
  ASSERT_EQ(comps->size(), 2u);
  EXPECT_EQ((*comps)[0].name, "navbar");
  EXPECT_EQ((*comps)[0].attempts, 2u);
  EXPECT_EQ((*comps)[0].commit, "c0ffee");
  EXPECT_EQ((*comps)[1].state, "pending");
  ASSERT_TRUE(j->finish_job("j1", "partial", R"({"status":"partial"})", 13));
  EXPECT_TRUE(j->unfinished()->empty());
  auto row = j->job("j1");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, "partial");
  EXPECT_TRUE(journal::is_final(row->state));
  EXPECT_FALSE(journal::is_final("running"));
}

TEST(journal, an_unknown_job_is_not_found) {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  ASSERT_TRUE(j);
  auto row = j->job("nosuch");
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error().code, messages::errc::not_found);
}

TEST(journal, a_failed_group_commit_rolls_every_write_back) {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->begin_batch());
  ASSERT_TRUE(j->begin_job("j1", "x", 1));
  // A write that breaks a constraint (a component of a job that does not
  // exist) fails alone; the batch's other writes still commit.
  EXPECT_FALSE(j->set_component({"nosuch", "c", "landed", 1, ""}, 2)) << "foreign key: the job does not exist";
  ASSERT_TRUE(j->commit_batch());
  EXPECT_TRUE(j->job("j1")) << "the batch's good write stays";
}

TEST(journal, a_read_that_meets_a_damaged_page_is_a_failure_not_a_short_answer) {
  test::temp_dir dir;
  {
    auto j = open_journal(dir.path());
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->begin_job("j1", "many", 1));
    std::vector<std::string> names;
    for (int i = 0; i < 3000; ++i) names.push_back(std::string(40, 'c').append(std::to_string(i)));
    ASSERT_TRUE(j->set_plan("j1", "{}", names, 2));
    auto all = j->components("j1");
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3000u);
  }
  // Everything in the main file, then pages in its second half overwritten:
  // the first rows still read, the rest hits damaged pages.
  auto db_path = dir.path() / ".grove" / "journal.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE);", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto size = std::filesystem::file_size(db_path);
  {
    std::fstream f{db_path, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(static_cast<std::streamoff>(size * 6 / 10));
    std::string junk(size / 5, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto j = open_journal(dir.path());
  ASSERT_TRUE(j);
  auto comps = j->components("j1");
  ASSERT_FALSE(comps) << "a damaged journal answered " << comps->size() << " of 3000 components as if complete";
  EXPECT_NE(comps.error().message.find("journal: read components"), std::string::npos) << comps.error().message;
}

// The lesson store: recall by likeness, strength, retirement, a restart, and
// request text that is no FTS5 query syntax.
TEST(lessons, recall_by_likeness_strength_retirement_and_a_restart) {
  grove::test::temp_dir dir;
  {
    auto store = grove::journal::lesson_store::open(dir.path());
    ASSERT_TRUE(store) << store.error().message;
    auto& s = **store;
    ASSERT_TRUE(s.learn("login form", "input_label", "<input name=\"otp\"> has no label", "give it a label", 1));
    ASSERT_TRUE(s.learn("data table", "purpose_table", "a data table without header cells", "add th cells", 1));
    ASSERT_TRUE(s.learn("login form", "input_label", "<input name=\"code\"> has no label", "label every input", 2))
      << "learned again: refreshed, not doubled";
    auto all = s.all();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 2u);
    auto login = s.recall({"admin_login", "An admin login form"}, 2);
    ASSERT_TRUE(login);
    ASSERT_FALSE(login->empty());
    EXPECT_EQ(login->front().code, "input_label");
    EXPECT_EQ(login->front().advice, "label every input");
    auto none = s.recall({"weather_widget", "Today's weather"}, 2);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    // Text that would be FTS5 syntax is only words.
    auto hostile = s.recall({"x", "login\" OR * NEAR( -) AND NOT {kind}: ^"}, 2);
    ASSERT_TRUE(hostile) << hostile.error().message;
    // Fails twice while given: retired, no longer recalled.
    auto id = login->front().id;
    ASSERT_TRUE(s.outcome({id}, false, 3));
    auto once = s.recall({"admin_login", "login form"}, 2);
    ASSERT_TRUE(once);
    EXPECT_FALSE(once->empty()) << "one failure is not enough";
    ASSERT_TRUE(s.outcome({id}, false, 4));
    auto after = s.recall({"admin_login", "login form"}, 2);
    ASSERT_TRUE(after);
    for (auto& l : *after) EXPECT_NE(l.id, id) << "retired";
  }
  // A restart: the same lessons, the retired one marked.
  auto again = grove::journal::lesson_store::open(dir.path());
  ASSERT_TRUE(again);
  auto all = (*again)->all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_FALSE(all->front().retired);
  EXPECT_TRUE(all->back().retired);
  EXPECT_EQ(all->back().strength, grove::journal::lesson_store::retire_at);
  // Learned again, a retired lesson gets another chance.
  ASSERT_TRUE((*again)->learn("login form", "input_label", "again", "label it", 5));
  auto back = (*again)->recall({"admin_login", "login form"}, 2);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->empty());
}

// The server's rolling budget: spend within the window counts, across a
// reopen (a restart); spend older than the window leaves it, and the store
// keeps only one window's rows.
TEST(spend_ledger, spend_survives_a_reopen_and_leaves_with_the_window) {
  test::temp_dir dir;
  const int64_t t0 = 1'000'000'000'000;
  {
    auto l = journal::spend_ledger::open(dir.path(), 1.0, 10'000, t0);
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_EQ((*l)->spent(t0), 0.0);
    EXPECT_EQ((*l)->frees_at(t0), 0);
    ASSERT_TRUE((*l)->add(t0 + 1000, "job-a", "openai:m", 0.25));
    ASSERT_TRUE((*l)->add(t0 + 500, "job-b", "anthropic:c", 0.5)); // ends out of order
    ASSERT_TRUE((*l)->add(t0 + 600, "job-b", "anthropic:c", 0.0)); // free: not recorded
    EXPECT_DOUBLE_EQ((*l)->spent(t0 + 2000), 0.75);
    EXPECT_EQ((*l)->frees_at(t0 + 2000), t0 + 500 + 10'000);
    auto by = (*l)->spent_by_provider(t0 + 2000);
    EXPECT_DOUBLE_EQ(by["openai:m"], 0.25);
    EXPECT_DOUBLE_EQ(by["anthropic:c"], 0.5);
  }
  auto again = journal::spend_ledger::open(dir.path(), 1.0, 10'000, t0 + 3000);
  ASSERT_TRUE(again);
  EXPECT_DOUBLE_EQ((*again)->spent(t0 + 3000), 0.75) << "a restart does not reset the budget";
  EXPECT_DOUBLE_EQ((*again)->spent(t0 + 10'500), 0.25) << "the first spend left the window";
  EXPECT_DOUBLE_EQ((*again)->spent(t0 + 11'000), 0.0);
  ASSERT_TRUE((*again)->add(t0 + 12'000, "job-c", "openai:m", 0.125));
  again->reset();
  auto later = journal::spend_ledger::open(dir.path(), 1.0, 10'000, t0 + 12'500);
  ASSERT_TRUE(later);
  EXPECT_DOUBLE_EQ((*later)->spent(t0 + 12'500), 0.125);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / ".grove/spend.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM spend", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1) << "rows that left the window were pruned on open";
  sqlite3_finalize(st);
  sqlite3_close(db);
}
