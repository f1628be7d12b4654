// One stream of telemetry events through the four views that count it (the
// fold behind the report and registry, the terminal progress, telemetry
// statistics and /metrics): every count agrees by construction.

#include <gtest/gtest.h>

#include "app/progress.hpp"
#include "logic/metrics.hpp"
#include "messages/report.hpp"
#include "messages/vocabulary.hpp"
#include "events.hpp"

using namespace grove;
using messages::stage;

using test::event;

TEST(vocabulary, a_crash_past_the_restart_limit_counts_the_same_everywhere) {
  // Two crashes restarted, a third past the limit (no "restarting"), then dropped.
  std::vector<messages::telemetry_event> events{event("", stage::started, 0),
                                                event("", stage::planned, 0),
                                                event("navbar", stage::generating),
                                                event("navbar", stage::crashed, 1, "boom"),
                                                event("navbar", stage::restarting),
                                                event("navbar", stage::generating),
                                                event("navbar", stage::crashed, 1, "boom"),
                                                event("navbar", stage::restarting),
                                                event("navbar", stage::generating),
                                                event("navbar", stage::crashed, 1, "boom"),
                                                event("navbar", stage::dropped, 1, "generator crashed: boom"),
                                                event("", stage::failed, 0, "restart limit reached")};
  messages::event_counts counts;
  messages::job_status registry_row;
  app::progress_table progress;
  logic::metrics prom;
  for (auto& e : events) {
    counts.add(e);
    if (!messages::final_state_of(e.stage)) messages::apply_event(registry_row, e);
    progress.apply(e);
    prom.observe(e);
  }
  EXPECT_EQ(counts.restarts, 3u);
  ASSERT_EQ(registry_row.components.size(), 1u);
  EXPECT_EQ(registry_row.components[0].restarts, 3u);
  EXPECT_EQ(progress.status().components.at(0).restarts, 3u);
  EXPECT_NE(progress.line("navbar").find("restarts 3"), std::string::npos) << progress.line("navbar");
  EXPECT_NE(prom.render().find("grove_generator_restarts_total 3"), std::string::npos) << prom.render();
  EXPECT_NE(prom.render().find("grove_components_total{result=\"dropped\"} 1"), std::string::npos);
  EXPECT_NE(prom.render().find("grove_jobs_total{status=\"failed\"} 1"), std::string::npos);
  EXPECT_EQ(counts.dropped, 1u);
  EXPECT_EQ(counts.attempts, 3u);
  EXPECT_EQ(registry_row.components[0].stage, stage::dropped);
}
