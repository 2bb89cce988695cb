//===----------------------------------------------------------------------===//
//                         DuckDB
//
// duckdb/common/optional.hpp
//
//
//===----------------------------------------------------------------------===//

#pragma once

#include <optional>

namespace duckdb {

using std::nullopt;
using std::optional;

} // namespace duckdb
