#pragma once

// The spending limits the LLM router holds (logic/budget.hpp decides each
// one): every job's max_cost_usd and, with a ledger, the server's rolling
// budget. Part of the router's state: not thread-safe.

#include <map>
#include <memory>
#include <string>

#include "infra/journal/spend.hpp"
#include "logic/budget.hpp"

namespace grove::actors {

class router_budget final {
public:
  /// `job_limit_usd` 0: no cap per job; a null `ledger`: no rolling budget.
  router_budget(double job_limit_usd, std::shared_ptr<journal::spend_ledger> ledger)
    : job_limit_(job_limit_usd), ledger_(std::move(ledger)) {}

  /// What an admitted call reserved, given back when it settles.
  struct hold {
    double job = 0;
    double day = 0;
  };

  /// Whether a priced call of `job` may start now: on go `held` is what it
  /// reserved; on refuse `why` names the limit, what was spent and when the
  /// rolling budget frees up.
  logic::budget::verdict admit(const std::string& job, hold& held, std::string& why);

  /// A call that holds `held` ended, costing `cost`; it is journaled with the
  /// rolling budget (a failed write is answered here; the budget still holds).
  messages::status settle(const std::string& job, const hold& held, const std::string& provider, double cost);

  /// The job is over: its scope goes.
  void forget(const std::string& job) { jobs_.erase(job); }

private:
  double job_limit_;
  std::shared_ptr<journal::spend_ledger> ledger_;
  std::map<std::string, logic::budget::scope> jobs_;
  logic::budget::scope day_; ///< spent is read from the ledger before each decision
};

} // namespace grove::actors
