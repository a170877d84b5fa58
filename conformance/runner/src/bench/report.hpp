#pragma once
// The results of `mqttspec bench`: a table for people (one column per target, and A/B ratios when
// two were compared), the same as markdown, and JSON for machines.
#include "options.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <vector>

namespace mqttspec::bench {

nlohmann::ordered_json to_json(const result& r);
// One result: its object; two: {"a": ..., "b": ..., "ratios": {...}} (each ratio is a / b).
nlohmann::ordered_json to_json(const std::vector<result>& results);

// Column per result; with two, a third column a/b for the figures a ratio makes sense for.
void print_table(std::ostream& out, const std::vector<result>& results);
void print_markdown(std::ostream& out, const std::vector<result>& results);

// 0: every run completed without violations; 1: a broker broke a guarantee; 2: a run failed.
int exit_status(const std::vector<result>& results);

}  // namespace mqttspec::bench
