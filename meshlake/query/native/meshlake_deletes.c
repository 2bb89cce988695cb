/*
 * meshlake's DuckDB extension: Iceberg position deletes applied as a row mask inside the scan's filter.
 *
 *   SELECT ... FROM read_parquet([...], file_row_number = true)
 *   WHERE meshlake_kept('ml3f…', file_index, file_row_number)
 *
 * meshlake builds one mask per scan plan in Python (a bit per row of each data file with deletes) and hands it to
 * this library through `meshlake_mask_put`, under a key; `meshlake_kept` looks the key up once, when DuckDB binds
 * the query, and then tests one bit per row. A file without deletes has offset -1 and keeps every row. A row past
 * its file's record count fails the query (the deletes could not be placed), as does a key that is not loaded.
 *
 * Built against DuckDB's C extension API (v1.5.6, stable struct; headers in include/, MIT licensed) by
 * meshlake/query/native/build.py. Masks are shared by every DuckDB database of the process, and by meshlake's C++
 * scan extension (`meshlake_mask_acquire`); a bound query keeps its mask alive (a reference count) even if meshlake
 * drops the key meanwhile.
 */
#define DUCKDB_EXTENSION_NAME meshlake_deletes
#define DUCKDB_EXTENSION_API_VERSION_MAJOR 1
#define DUCKDB_EXTENSION_API_VERSION_MINOR 5
#define DUCKDB_EXTENSION_API_VERSION_PATCH 6
#include "duckdb_extension.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DUCKDB_EXTENSION_EXTERN

#define KEY_BYTES 64
#define EXPORTED __attribute__((visibility("default")))

typedef struct mask {
	char key[KEY_BYTES];
	int64_t files;     /* data files of the scan, in file_index order */
	int64_t *offsets;  /* per file: the bit of its row 0, or -1 when it has no deletes */
	int64_t *counts;   /* per file: its record count (rows at or past it fail the query when it has deletes) */
	uint64_t *words;   /* bit r set: row r of the masked rows is deleted */
	int64_t bits;      /* bits in `words` */
	int64_t refs;      /* the registry's reference plus one per bound expression */
	struct mask *next;
} mask;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static mask *registry = NULL;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;

/* A fork while another thread holds the lock would leave it held in the child: hold it across fork(). */
static void lock_for_fork(void) {
	pthread_mutex_lock(&registry_lock);
}

static void unlock_after_fork(void) {
	pthread_mutex_unlock(&registry_lock);
}

static void install_fork_handlers(void) {
	pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
}

static void release(mask *m) {
	pthread_mutex_lock(&registry_lock);
	int64_t left = --m->refs;
	pthread_mutex_unlock(&registry_lock);
	if (left == 0) {
		free(m->offsets);
		free(m->counts);
		free(m->words);
		free(m);
	}
}

static mask *unlink_key(const char *key) {
	for (mask **p = &registry; *p; p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			mask *found = *p;
			*p = found->next;
			return found;
		}
	}
	return NULL;
}

/* Registers a mask under `key`, replacing one of the same key: 0, or -1 for bad arguments, -2 out of memory.
 * Every file's bits must lie inside the `bits` bits of `words`. */
EXPORTED int meshlake_mask_put(const char *key, int64_t files, const int64_t *offsets, const int64_t *counts,
                               const uint64_t *words, int64_t bits) {
	pthread_once(&fork_handlers_once, install_fork_handlers);
	if (!key || strlen(key) >= KEY_BYTES || files < 0 || bits < 0 || (files && (!offsets || !counts)) ||
	    (bits && !words)) {
		return -1;
	}
	for (int64_t f = 0; f < files; f++) {
		if (counts[f] < 0 || offsets[f] < -1 || (offsets[f] >= 0 && offsets[f] > bits - counts[f])) {
			return -1;
		}
	}
	size_t nwords = (size_t)((bits + 63) / 64);
	mask *m = calloc(1, sizeof(mask));
	if (!m) {
		return -2;
	}
	m->offsets = malloc(sizeof(int64_t) * (size_t)(files ? files : 1));
	m->counts = malloc(sizeof(int64_t) * (size_t)(files ? files : 1));
	m->words = malloc(sizeof(uint64_t) * (nwords ? nwords : 1));
	if (!m->offsets || !m->counts || !m->words) {
		free(m->offsets);
		free(m->counts);
		free(m->words);
		free(m);
		return -2;
	}
	strcpy(m->key, key);
	m->files = files;
	m->bits = bits;
	if (files) {
		memcpy(m->offsets, offsets, sizeof(int64_t) * (size_t)files);
		memcpy(m->counts, counts, sizeof(int64_t) * (size_t)files);
	}
	if (nwords) {
		memcpy(m->words, words, sizeof(uint64_t) * nwords);
	}
	m->refs = 1;
	pthread_mutex_lock(&registry_lock);
	mask *old = unlink_key(key);
	m->next = registry;
	registry = m;
	pthread_mutex_unlock(&registry_lock);
	if (old) {
		release(old);
	}
	return 0;
}

/* Drops the mask of `key` (0, or -1 when none is loaded); queries bound to it keep it until they finish. */
EXPORTED int meshlake_mask_drop(const char *key) {
	pthread_mutex_lock(&registry_lock);
	mask *old = key ? unlink_key(key) : NULL;
	pthread_mutex_unlock(&registry_lock);
	if (!old) {
		return -1;
	}
	release(old);
	return 0;
}

/* How many masks are loaded. */
EXPORTED int64_t meshlake_mask_count(void) {
	int64_t n = 0;
	pthread_mutex_lock(&registry_lock);
	for (mask *m = registry; m; m = m->next) {
		n++;
	}
	pthread_mutex_unlock(&registry_lock);
	return n;
}

static mask *acquire(const char *key) {
	mask *found = NULL;
	pthread_mutex_lock(&registry_lock);
	for (mask *m = registry; m; m = m->next) {
		if (strcmp(m->key, key) == 0) {
			found = m;
			m->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

/* For meshlake's C++ scan extension (meshlake_scan.cpp), which shares this registry: the mask loaded under `key`
 * with one more reference (NULL when none is), its arrays in the out parameters; give it back with
 * `meshlake_mask_release`. */
EXPORTED const void *meshlake_mask_acquire(const char *key, int64_t *files, const int64_t **offsets,
                                           const int64_t **counts, const uint64_t **words, int64_t *bits) {
	mask *m = key ? acquire(key) : NULL;
	if (m) {
		*files = m->files;
		*offsets = m->offsets;
		*counts = m->counts;
		*words = m->words;
		*bits = m->bits;
	}
	return m;
}

EXPORTED void meshlake_mask_release(const void *handle) {
	if (handle) {
		release((mask *)handle);
	}
}

static void destroy_bound(void *data) {
	release((mask *)data);
}

static void *copy_bound(void *data) {
	mask *m = (mask *)data;
	pthread_mutex_lock(&registry_lock);
	m->refs++;
	pthread_mutex_unlock(&registry_lock);
	return m;
}

/* Binds `meshlake_kept`: its key must be a constant naming a loaded mask. */
static void bind_kept(duckdb_bind_info info) {
	duckdb_expression key_expr = duckdb_scalar_function_bind_get_argument(info, 0);
	if (!duckdb_expression_is_foldable(key_expr)) {
		duckdb_destroy_expression(&key_expr);
		duckdb_scalar_function_bind_set_error(info, "meshlake_kept: the mask key must be a constant");
		return;
	}
	duckdb_client_context context;
	duckdb_scalar_function_get_client_context(info, &context);
	duckdb_value value = NULL;
	duckdb_error_data error = duckdb_expression_fold(context, key_expr, &value);
	duckdb_destroy_expression(&key_expr);
	duckdb_destroy_client_context(&context);
	if (duckdb_error_data_has_error(error)) {
		duckdb_scalar_function_bind_set_error(info, duckdb_error_data_message(error));
		duckdb_destroy_error_data(&error);
		return;
	}
	duckdb_destroy_error_data(&error);
	char *key = value ? duckdb_get_varchar(value) : NULL;
	if (value) {
		duckdb_destroy_value(&value);
	}
	mask *m = key ? acquire(key) : NULL;
	if (!m) {
		char message[200];
		snprintf(message, sizeof message,
		         "meshlake_kept: no row mask is loaded under the key '%.64s' in this process (plan the port again)",
		         key ? key : "");
		if (key) {
			duckdb_free(key);
		}
		duckdb_scalar_function_bind_set_error(info, message);
		return;
	}
	duckdb_free(key);
	duckdb_scalar_function_set_bind_data(info, m, destroy_bound);
	duckdb_scalar_function_set_bind_data_copy(info, copy_bound);
}

static const char *PAST_END =
    "a data file holds more rows than its manifest entry counts: its position deletes cannot be applied";

static int any_null(const uint64_t *validity, idx_t n) {
	if (!validity) {
		return 0;
	}
	for (idx_t w = 0; w < n / 64; w++) {
		if (validity[w] != UINT64_MAX) {
			return 1;
		}
	}
	return n % 64 && (~validity[n / 64] & ((UINT64_C(1) << (n % 64)) - 1));
}

/* out[k] for rows[k] of one file whose row 0 is bit `offset`; false when a row lies outside [0, count). */
static int test_rows(const mask *m, int64_t offset, int64_t count, const int64_t *rows, idx_t n, bool *out) {
	const uint64_t *words = m->words;
	if (rows[0] >= 0 && rows[n - 1] < count && rows[n - 1] - rows[0] == (int64_t)n - 1) {
		/* Consecutive rows (the usual chunk): then each is its predecessor plus one, checked as we go. */
		uint64_t bit = (uint64_t)(offset + rows[0]);
		int64_t expected = rows[0];
		int64_t strays = 0;
		for (idx_t k = 0; k < n; k++, bit++) {
			strays |= rows[k] ^ expected++;
			out[k] = !((words[bit >> 6] >> (bit & 63)) & 1);
		}
		if (!strays) {
			return 1;
		}
	}
	uint64_t outside = 0;
	for (idx_t k = 0; k < n; k++) {
		uint64_t row = (uint64_t)rows[k];
		uint64_t inside = row < (uint64_t)count;
		outside |= inside ^ 1;
		uint64_t bit = (uint64_t)offset + (inside ? row : 0);
		out[k] = !((words[bit >> 6] >> (bit & 63)) & 1);
	}
	return !outside;
}

/* meshlake_kept(key VARCHAR, file_index UBIGINT, file_row_number BIGINT) -> BOOLEAN: false for a deleted row.
 * A chunk comes from one file in practice, so rows are tested in runs of one file index. */
static void kept(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
	const mask *m = (const mask *)duckdb_scalar_function_get_bind_data(info);
	idx_t n = duckdb_data_chunk_get_size(input);
	duckdb_vector file_vector = duckdb_data_chunk_get_vector(input, 1);
	duckdb_vector row_vector = duckdb_data_chunk_get_vector(input, 2);
	const uint64_t *files = (const uint64_t *)duckdb_vector_get_data(file_vector);
	const int64_t *rows = (const int64_t *)duckdb_vector_get_data(row_vector);
	bool *out = (bool *)duckdb_vector_get_data(output);
	if (any_null(duckdb_vector_get_validity(file_vector), n) || any_null(duckdb_vector_get_validity(row_vector), n)) {
		duckdb_scalar_function_set_error(info, "meshlake_kept: a NULL file index or row number");
		return;
	}
	uint64_t nfiles = (uint64_t)m->files;
	for (idx_t i = 0, j; i < n; i = j) {
		uint64_t f = files[i];
		for (j = i + 1; j < n && files[j] == f; j++) {
		}
		if (f >= nfiles) {
			duckdb_scalar_function_set_error(info, "meshlake_kept: a file index past the files of its mask");
			return;
		}
		int64_t offset = m->offsets[f];
		if (offset < 0) {
			memset(out + i, 1, j - i);
		} else if (!test_rows(m, offset, m->counts[f], rows + i, j - i, out + i)) {
			duckdb_scalar_function_set_error(info, PAST_END);
			return;
		}
	}
}

DUCKDB_EXTENSION_ENTRYPOINT(duckdb_connection connection, duckdb_extension_info info,
                            struct duckdb_extension_access *access) {
	duckdb_scalar_function function = duckdb_create_scalar_function();
	duckdb_scalar_function_set_name(function, "meshlake_kept");
	duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_logical_type ubigint = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
	duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
	duckdb_logical_type boolean = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
	duckdb_scalar_function_add_parameter(function, varchar);
	duckdb_scalar_function_add_parameter(function, ubigint);
	duckdb_scalar_function_add_parameter(function, bigint);
	duckdb_scalar_function_set_return_type(function, boolean);
	duckdb_scalar_function_set_special_handling(function);
	duckdb_scalar_function_set_bind(function, bind_kept);
	duckdb_scalar_function_set_function(function, kept);
	duckdb_state state = duckdb_register_scalar_function(connection, function);
	duckdb_destroy_scalar_function(&function);
	duckdb_destroy_logical_type(&varchar);
	duckdb_destroy_logical_type(&ubigint);
	duckdb_destroy_logical_type(&bigint);
	duckdb_destroy_logical_type(&boolean);
	if (state == DuckDBError) {
		access->set_error(info, "meshlake_deletes: could not register meshlake_kept");
		return false;
	}
	return true;
}
