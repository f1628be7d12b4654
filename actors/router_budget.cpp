#include "actors/router_budget.hpp"

#include "messages/clock.hpp"

namespace grove::actors {

using logic::budget::verdict;

verdict router_budget::admit(const std::string& job_id, hold& held, std::string& why) {
  auto& job = jobs_[job_id];
  job.limit = job_limit_;
  auto now = messages::now_ms();
  if (ledger_) {
    day_.limit = ledger_->limit_usd();
    day_.spent = ledger_->spent(now);
  }
  auto vj = logic::budget::admit(job);
  auto vd = ledger_ ? logic::budget::admit(day_) : verdict::go;
  if (vj == verdict::refuse) {
    why = logic::budget::refusal(job, "the job's budget (max_cost_usd)");
    return verdict::refuse;
  }
  if (vd == verdict::refuse) {
    why = logic::budget::refusal(day_, "the server's budget per " + logic::budget::window_text(ledger_->window_ms()) +
                                         " (budget_usd_per_day)") +
          logic::budget::frees_up(ledger_->frees_at(now), now, "; spend starts leaving the window in ");
    return verdict::refuse;
  }
  if (vj == verdict::wait || vd == verdict::wait) return verdict::wait;
  held.job = logic::budget::reserve(job);
  held.day = ledger_ ? logic::budget::reserve(day_) : 0;
  return verdict::go;
}

messages::status router_budget::settle(const std::string& job, const hold& held, const std::string& provider,
                                       double cost) {
  logic::budget::settle(jobs_[job], held.job, cost);
  if (!ledger_) return messages::ok();
  logic::budget::settle(day_, held.day, cost);
  return ledger_->add(messages::now_ms(), job, provider, cost);
}

} // namespace grove::actors
