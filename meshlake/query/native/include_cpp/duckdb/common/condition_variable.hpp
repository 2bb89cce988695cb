//===----------------------------------------------------------------------===//
//                         DuckDB
//
// duckdb/common/condition_variable.hpp
//
//===----------------------------------------------------------------------===//

#pragma once

#include <condition_variable>

namespace duckdb {
using condition_variable = std::condition_variable;
} // namespace duckdb
