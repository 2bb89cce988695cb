/*
 * meshlake's C++ DuckDB extension: `read_parquet` with Iceberg position deletes applied inside the Parquet scan.
 *
 *   SELECT ... FROM meshlake_scan([...], schema = MAP {...}, meshlake_mask = 'ml3f…')
 *
 * `meshlake_scan` is DuckDB's own `read_parquet` (every option works) whose multi-file reader gives each file with
 * deletes a `DeleteFilter` testing one bit of meshlake's row mask per row: the Parquet reader skips deleted rows
 * while it decodes, as DuckDB's iceberg extension does. There is no filter above the scan (the C extension's
 * `WHERE meshlake_kept(...)`), so DuckDB slices no columns and flattens no inputs for it.
 *
 * The masks are the C extension's (meshlake_deletes.c): Python hands this library that registry's
 * `meshlake_mask_acquire` and `meshlake_mask_release` (`meshlake_scan_use_registry`) before DuckDB loads it. A
 * scan takes its mask when it binds and keeps a reference until it is destroyed; a key that is not loaded fails
 * the bind, a file past the mask's files or a row past a file's record count fails the query.
 *
 * DuckDB's C++ API is not stable across versions: this file is built only against the headers of the DuckDB it
 * was written for (include_cpp/, from DuckDB 2.0.1, MIT licensed), linked against the Python wheel's own
 * `_duckdb` library, by meshlake/query/native/build.py; elsewhere the C extension's filter is used.
 */
#include "duckdb.hpp"
#include "duckdb/catalog/catalog.hpp"
#include "duckdb/catalog/catalog_entry/schema_catalog_entry.hpp"
#include "duckdb/catalog/catalog_entry/table_function_catalog_entry.hpp"
#include "duckdb/catalog/catalog_transaction.hpp"
#include "duckdb/common/multi_file/base_file_reader.hpp"
#include "duckdb/common/multi_file/multi_file_data.hpp"
#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "duckdb/common/multi_file/multi_file_states.hpp"
#include "duckdb/main/extension/extension_loader.hpp"

#include <atomic>
#include <memory>
#include <string>

#define EXPORTED extern "C" __attribute__((visibility("default")))

using namespace duckdb;

namespace {

typedef const void *(*acquire_fn)(const char *key, int64_t *files, const int64_t **offsets, const int64_t **counts,
                                  const uint64_t **words, int64_t *bits);
typedef void (*release_fn)(const void *handle);

std::atomic<acquire_fn> registry_acquire {nullptr};
std::atomic<release_fn> registry_release {nullptr};

//! One reference to a mask of the C extension's registry, given back when the last scan holding it is gone.
struct HeldMask {
	std::string key;
	release_fn release = nullptr; //! the registry's own, the one that gave `handle`
	const void *handle = nullptr;
	int64_t files = 0;
	const int64_t *offsets = nullptr;
	const int64_t *counts = nullptr;
	const uint64_t *words = nullptr;
	int64_t bits = 0;

	explicit HeldMask(const std::string &key_p) : key(key_p) {
		auto acquire = registry_acquire.load();
		release = registry_release.load();
		if (!acquire || !release) {
			throw BinderException("meshlake_scan: meshlake's row masks are not available in this process");
		}
		handle = acquire(key.c_str(), &files, &offsets, &counts, &words, &bits);
		if (!handle) {
			throw BinderException("meshlake_scan: no row mask is loaded under the key '%s' in this process "
			                      "(plan the port again)",
			                      key.substr(0, 64));
		}
	}
	~HeldMask() {
		release(handle);
	}
	HeldMask(const HeldMask &) = delete;
	HeldMask &operator=(const HeldMask &) = delete;
};

//! The rows of one data file that its position deletes keep: bits [offset, offset + rows) of the mask.
class MaskFilter : public DeleteFilter {
public:
	MaskFilter(std::shared_ptr<HeldMask> mask_p, int64_t offset_p, int64_t rows_p)
	    : mask(std::move(mask_p)), offset(offset_p), rows(rows_p) {
	}

	//! The rows of [start, start + count) that are not deleted, in `sel`. A vector without deleted rows keeps the
	//! identity selection and needs no buffer. The buffer is allocated per vector, not per thread: a Parquet scan
	//! can block on I/O in the middle of a chunk and resume it later, while its thread filters another scan's.
	idx_t Filter(row_t start, idx_t count, SelectionVector &sel) override {
		if (start < 0 || start + static_cast<int64_t>(count) > rows) {
			throw InvalidInputException("meshlake_scan: a data file holds more rows than its manifest entry counts "
			                            "(%lld): its position deletes cannot be applied",
			                            static_cast<long long>(rows));
		}
		if (count == 0) {
			return 0;
		}
		const uint64_t *w = mask->words;
		const int64_t first = offset + start;
		const int64_t last = first + static_cast<int64_t>(count); // exclusive
		bool any = false;
		for (int64_t word = first >> 6; word <= (last - 1) >> 6 && !any; word++) {
			uint64_t bits = w[word];
			if (word == first >> 6) {
				bits &= ~0ULL << (first & 63);
			}
			if (word == (last - 1) >> 6 && (last & 63)) {
				bits &= ~0ULL >> (64 - (last & 63));
			}
			any = bits != 0;
		}
		if (!any) {
			return count;
		}
		sel.Initialize(MaxValue<idx_t>(count, STANDARD_VECTOR_SIZE));
		idx_t kept = 0;
		for (idx_t i = 0; i < count; i++) {
			const int64_t bit = first + static_cast<int64_t>(i);
			if (!((w[bit >> 6] >> (bit & 63)) & 1)) {
				sel.set_index(kept++, i);
			}
		}
		return kept;
	}

private:
	std::shared_ptr<HeldMask> mask;
	int64_t offset;
	int64_t rows;
};

//! read_parquet's multi-file reader with the `meshlake_mask` option: the mask is taken at bind, each file with
//! deletes gets its `MaskFilter` when the scan opens it.
class MaskedReader : public MultiFileReader {
public:
	std::shared_ptr<HeldMask> mask;

	static unique_ptr<MultiFileReader> Create(const BoundTableFunction &) {
		return make_uniq<MaskedReader>();
	}

	unique_ptr<MultiFileReader> Copy() const override {
		auto copy = make_uniq<MaskedReader>();
		copy->function_name = function_name;
		copy->mask = mask;
		return std::move(copy);
	}

	bool ParseOption(const Identifier &name, const Value &value, MultiFileOptions &options,
	                 ClientContext &context) override {
		if (name != "meshlake_mask") {
			return MultiFileReader::ParseOption(name, value, options, context);
		}
		if (value.IsNull()) {
			throw BinderException("meshlake_scan: meshlake_mask must name a row mask, not NULL");
		}
		mask = std::make_shared<HeldMask>(StringValue::Get(value));
		return true;
	}

	ReaderInitializeType InitializeReader(MultiFileReaderData &reader_data, const MultiFileBindData &bind_data,
	                                      const vector<MultiFileColumnDefinition> &global_columns,
	                                      const vector<ColumnIndex> &global_column_ids,
	                                      optional_ptr<TableFilterSet> table_filters, ClientContext &context,
	                                      MultiFileGlobalState &gstate) override {
		auto result = MultiFileReader::InitializeReader(reader_data, bind_data, global_columns, global_column_ids,
		                                                table_filters, context, gstate);
		if (!mask) {
			return result;
		}
		auto &reader = *reader_data.reader;
		const auto file = reader.file_list_idx.GetIndex();
		if (file >= static_cast<idx_t>(mask->files)) {
			throw InvalidInputException("meshlake_scan: the row mask '%s' covers %lld files, not file %llu", mask->key,
			                            static_cast<long long>(mask->files), static_cast<unsigned long long>(file));
		}
		if (mask->offsets[file] >= 0) {
			reader.deletion_filter = make_uniq<MaskFilter>(mask, mask->offsets[file], mask->counts[file]);
		}
		return result;
	}
};

} // namespace

//! Called by meshlake (ctypes) before DuckDB loads this library: the C extension's mask registry.
EXPORTED void meshlake_scan_use_registry(acquire_fn acquire, release_fn release) {
	registry_release.store(release);
	registry_acquire.store(acquire);
}

//! Whether `meshlake_scan_use_registry` was called (0 or 1).
EXPORTED int meshlake_scan_has_registry(void) {
	return registry_acquire.load() && registry_release.load() ? 1 : 0;
}

EXPORTED void meshlake_scan_duckdb_cpp_init(ExtensionLoader &loader) {
	auto &db = loader.GetDatabaseInstance();
	auto &catalog = Catalog::GetSystemCatalog(db);
	auto transaction = CatalogTransaction::GetSystemTransaction(db);
	auto &schema = catalog.GetSchema(transaction, DEFAULT_SCHEMA);
	auto entry = schema.GetEntry(transaction, CatalogType::TABLE_FUNCTION_ENTRY, "read_parquet");
	if (!entry) {
		throw InvalidInputException("meshlake_scan: this DuckDB has no read_parquet to build on");
	}
	auto functions = entry->Cast<TableFunctionCatalogEntry>().functions;
	TableFunctionSet set("meshlake_scan");
	for (auto &function : functions.functions) {
		TableFunction copy = *function;
		copy.get_multi_file_reader = MaskedReader::Create;
		copy.GetSignature().ExtendTypedKwargs(
		    [](TypedKwargs &options) { options.Add("meshlake_mask", LogicalType::VARCHAR); });
		copy.SetName("meshlake_scan");
		set.AddFunction(copy);
	}
	loader.RegisterFunction(set);
}
