#pragma once
// Runs one workload against one broker on a single-threaded io_context and measures it.
#include "options.hpp"

#include <iosfwd>

namespace mqttspec::bench {

// progress: where the live line goes (once a second, "\r"-rewritten); nullptr for none.
result run_workload(const options& o, const run_target& t, std::ostream* progress);

}  // namespace mqttspec::bench
