#pragma once

// The server's rolling budget (grove serve --budget-usd-per-day): what model
// calls cost within the last window (a day by default), journaled in
// `<repo>/.grove/spend.db` (SQLite) so a restart does not reset it. Shared by
// the node's router (which records each call's cost and checks the budget
// before each priced call) and the gateway (which refuses model-bound jobs
// once the budget is spent, and shows the spend); thread-safe.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "messages/errors.hpp"

struct sqlite3;

namespace grove::journal {

class spend_ledger final {
public:
  /// Opens (creating) `<repo>/.grove/spend.db` with `limit_usd` per window of `window_ms`;
  /// what was spent within the window before a restart counts again.
  static messages::result<std::shared_ptr<spend_ledger>> open(const std::filesystem::path& repo, double limit_usd,
                                                              int64_t window_ms, int64_t now_ms);
  ~spend_ledger();
  spend_ledger(const spend_ledger&) = delete;
  spend_ledger& operator=(const spend_ledger&) = delete;

  double limit_usd() const { return limit_; }
  int64_t window_ms() const { return window_; }

  /// What was spent within the window that ends at `now_ms`.
  double spent(int64_t now_ms);
  /// The same, per provider.
  std::map<std::string, double> spent_by_provider(int64_t now_ms);
  /// When the oldest spend in the window leaves it (0 when nothing is spent).
  int64_t frees_at(int64_t now_ms);
  /// Records a call's cost (a cost of 0 is not recorded). A failed write is
  /// kept in memory (the budget still holds) and answered here.
  messages::status add(int64_t ts_ms, const std::string& job, const std::string& provider, double usd);

private:
  struct entry {
    int64_t ts = 0;
    std::string provider;
    double usd = 0;
  };
  spend_ledger(sqlite3* db, double limit, int64_t window) : db_(db), limit_(limit), window_(window) {}
  void expire(int64_t now_ms);

  std::mutex mu_;
  sqlite3* db_;
  double limit_;
  int64_t window_;
  std::deque<entry> window_entries_;
  double sum_ = 0; ///< of window_entries_: spent() runs before every priced call
};

} // namespace grove::journal
