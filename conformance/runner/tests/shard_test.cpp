// `mqttspec run --shard K/N` and results.json read back for `mqttspec merge` / `compare`.
#include "mqttspec/conformance/reports.hpp"
#include "mqttspec/conformance/shard.hpp"
#include "mqttspec/conformance/stored_results.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace mqttspec::conformance {
namespace {

std::vector<scenario> make_scenarios(std::size_t n) {
  std::vector<scenario> all(n);
  for (std::size_t i = 0; i < n; ++i) {
    all[i].id = (i % 3 ? "v5.section" : "v3.1.1.other") + std::to_string(i * 7919 % 1000);
    all[i].version = i % 3 ? suite_version::v5 : suite_version::v3_1_1;
  }
  return all;
}

TEST(shard, parses_k_of_n) {
  EXPECT_EQ(parse_shard("1/1")->index, 1u);
  EXPECT_EQ(parse_shard("3/4")->count, 4u);
  for (const char* bad : {"", "1", "0/2", "3/2", "1/0", "a/2", "1/2x", "-1/2", "1/1001", "/2", "2/"})
    EXPECT_FALSE(parse_shard(bad)) << bad;
  EXPECT_EQ(to_string(*parse_shard("2/5")), "2/5");
}

// Every scenario of the selection is in exactly one shard, whatever N, the shards differ in size
// by one at most, and each keeps the selection's order.
TEST(shard, every_scenario_in_exactly_one_shard) {
  const auto all = make_scenarios(101);
  std::vector<const scenario*> selected;
  for (const auto& s : all) selected.push_back(&s);
  for (unsigned n = 1; n <= 12; ++n) {
    std::map<const scenario*, int> seen;
    std::size_t smallest = selected.size(), largest = 0;
    for (unsigned k = 1; k <= n; ++k) {
      const auto part = take_shard(selected, {k, n});
      smallest = std::min(smallest, part.size());
      largest = std::max(largest, part.size());
      for (const auto* s : part) ++seen[s];
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end(), [&](const scenario* a, const scenario* b) {
        return std::find(selected.begin(), selected.end(), a) < std::find(selected.begin(), selected.end(), b);
      }));
    }
    EXPECT_EQ(seen.size(), selected.size()) << "N=" << n;
    for (const auto& [s, count] : seen) EXPECT_EQ(count, 1) << s->id << " N=" << n;
    EXPECT_LE(largest - smallest, 1u) << "N=" << n;
  }
}

// The split depends on the ids selected, not on the order they were loaded in: jobs of a CI
// matrix on different machines agree.
TEST(shard, stable_under_reordering) {
  const auto all = make_scenarios(40);
  std::vector<const scenario*> a;
  for (const auto& s : all) a.push_back(&s);
  auto b = a;
  std::mt19937 rng(7);
  std::shuffle(b.begin(), b.end(), rng);
  for (unsigned k = 1; k <= 3; ++k) {
    auto x = take_shard(a, {k, 3}), y = take_shard(b, {k, 3});
    auto ids = [](std::vector<const scenario*> v) {
      std::vector<std::string> out;
      for (const auto* s : v) out.push_back(s->id);
      std::sort(out.begin(), out.end());
      return out;
    };
    EXPECT_EQ(ids(x), ids(y));
  }
}

// results.json holds what the writers need: written, read back and written again, it is the same.
TEST(stored_results, results_json_round_trips) {
  catalog cat;
  cat.add({"v5:MQTT-3.1.0-1", "MQTT-3.1.0-1", suite_version::v5, "3.1", "", "server", "MUST", "yes", "CONNECT first"});
  std::vector<scenario> scs(3);
  for (std::size_t i = 0; i < scs.size(); ++i) {
    scs[i].id = "v5.connect.case" + std::to_string(i);
    scs[i].title = "title " + std::to_string(i);
    scs[i].requirement = "the \"requirement\"";
    scs[i].statements = {"v5:MQTT-3.1.0-1"};
    scs[i].version = suite_version::v5;
    scs[i].section = "3.1";
    scs[i].file = "/x/connect.xml";
    scs[i].lvl = i == 2 ? level::should : level::must;
  }
  run_summary s;
  s.target = "broker:1883";
  s.rerun_args = "--target broker:1883 --strict";
  s.started_at = "2024-01-01T00:00:00Z";
  s.wall_ms = 1234.5;
  s.strict = true;
  s.notes = {"a note"};
  s.capabilities[suite_version::v5].source = "CONNACK";
  s.capabilities[suite_version::v5].tags = {"qos1", "retain"};
  s.capabilities[suite_version::v5].values["receive-maximum"] = "20";
  for (std::size_t i = 0; i < scs.size(); ++i) {
    scenario_result r;
    r.sc = &scs[i];
    r.v = i == 0 ? verdict::pass : i == 1 ? verdict::fail : verdict::non_strict;
    r.duration_ms = 10.25 * static_cast<double>(i);
    if (i) {
      r.expected = "CONNACK";
      r.observed = "close after 12 ms";
      r.message = "closed";
      r.broken = "v5:MQTT-3.1.0-1";
      r.step_line = 40 + static_cast<int>(i);
      r.findings = {"bytes 20 00: bad"};
      wire_entry e;
      e.t_ms = 1.5;
      e.client = "c";
      e.direction = "recv";
      e.packet = nlohmann::ordered_json{{"type", "CONNACK"}, {"code", 0}};
      e.hex = "20 02 00 00";
      e.note = "note";
      r.log.push_back(e);
    }
    s.results.push_back(r);
  }
  std::ostringstream first;
  write_json(s, cat, first);
  const auto file = std::filesystem::temp_directory_path() / "mqttspec-roundtrip-results.json";
  std::ofstream(file) << first.str();
  stored_run back;
  ASSERT_FALSE(read_results(file, &scs, back));
  std::filesystem::remove(file);
  std::ostringstream again;
  write_json(back.summary, cat, again);
  EXPECT_EQ(first.str(), again.str());
  EXPECT_EQ(back.summary.rerun_args, s.rerun_args);
  EXPECT_EQ(back.scenarios[1].file, "/x/connect.xml");
  std::ostringstream h1, h2;
  write_html(s, cat, h1);
  write_html(back.summary, cat, h2);
  EXPECT_EQ(h1.str(), h2.str());
  std::ostringstream j1, j2;
  write_junit(s, j1);
  write_junit(back.summary, j2);
  EXPECT_EQ(j1.str(), j2.str());
}

TEST(stored_results, rejects_what_is_not_a_results_file) {
  const auto file = std::filesystem::temp_directory_path() / "mqttspec-not-results.json";
  stored_run r;
  std::ofstream(file) << "{\"tool\": \"other\"}";
  EXPECT_TRUE(read_results(file, nullptr, r));
  std::ofstream(file) << "not json";
  stored_run r2;
  EXPECT_TRUE(read_results(file, nullptr, r2));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace mqttspec::conformance
